"""The studio's routes: the page and its script, the state and its event stream, the vars form, the render
button, and the recipe's own drafts and outputs (nothing else from the disk)."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from joypix_recipes.studio.service import STATE_EVENT, StudioService

_STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
_MAX_BODY = 64 * 1024
_MAX_VARS = 200


def create_app(service: StudioService) -> Starlette:
    """The studio's routes over ``service``; the guard wraps this app."""

    async def page(request: Request) -> Response:
        return _static("index.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC or name == "index.html":
            return PlainTextResponse("not found", status_code=404)
        return _static(name)

    async def state(request: Request) -> Response:
        return JSONResponse(service.state.snapshot())

    async def events(request: Request) -> Response:
        first = (STATE_EVENT, service.state.snapshot_json())
        return StreamingResponse(
            service.events.stream(first), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    async def set_vars(request: Request) -> Response:
        values = await _json_vars(request)
        if isinstance(values, Response):
            return values
        unknown = sorted(set(values) - set(service.state.defaults()))
        if unknown:
            return PlainTextResponse(f"the recipe has no var '{unknown[0]}'", status_code=400)
        await service.set_vars(values)
        return JSONResponse({"flags": service.state.flags()})

    async def render(request: Request) -> Response:
        if not _is_json(request):
            return PlainTextResponse("send JSON", status_code=415)
        if not service.start_render():
            return JSONResponse({"started": False, "reason": "a render is running, or the recipe has no jobs"}, status_code=409)
        return JSONResponse({"started": True}, status_code=202)

    async def served(request: Request) -> Response:
        return _served_file(service, request.path_params["path"])

    return Starlette(
        routes=[
            Route("/", page),
            Route("/static/{name}", asset),
            Route("/favicon.ico", lambda request: Response(status_code=204)),
            Route("/api/state", state),
            Route("/api/events", events),
            Route("/api/vars", set_vars, methods=["POST"]),
            Route("/api/render", render, methods=["POST"]),
            Route("/files/{path:path}", served),
        ]
    )


def _static(name: str) -> Response:
    body = files("joypix_recipes.studio").joinpath("static", name).read_bytes()
    return Response(body, media_type=_STATIC[name])


def _served_file(service: StudioService, relative: str) -> Response:
    """A draft, a final, a poster or a report of this recipe, by its exact name under the output folder; else 404.

    The name must be one the studio made (no ``..``, no absolute path, no other file), and the file it
    names must still lie inside the output folder once links are followed.
    """
    missing = PlainTextResponse("not found", status_code=404)
    if relative not in service.state.served_files():
        return missing
    out_dir = service.state.out_dir.resolve()
    try:
        path = (out_dir / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        return missing
    if not path.is_relative_to(out_dir) or not path.is_file():
        return missing
    return FileResponse(Path(path), headers={"Cache-Control": "no-cache"})


async def _json_vars(request: Request) -> dict[str, str] | Response:
    """The form's vars from a JSON body ``{"vars": {"name": "value"}}``; a 400 or 415 for anything else."""
    if not _is_json(request):
        return PlainTextResponse("send JSON", status_code=415)
    body = await request.body()
    if len(body) > _MAX_BODY:
        return PlainTextResponse("too large", status_code=413)
    try:
        data = json.loads(body)
    except ValueError:
        return PlainTextResponse("not JSON", status_code=400)
    values = data.get("vars") if isinstance(data, dict) else None
    if not isinstance(values, dict) or len(values) > _MAX_VARS:
        return PlainTextResponse('send {"vars": {"name": "value"}}', status_code=400)
    if not all(isinstance(name, str) and isinstance(value, str) for name, value in values.items()):
        return PlainTextResponse("each var is a name and a text value", status_code=400)
    return dict(values)


def _is_json(request: Request) -> bool:
    # A plain HTML form cannot send this type: one more thing a cross-site POST cannot fake.
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"
