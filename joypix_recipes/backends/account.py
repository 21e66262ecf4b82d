"""The cloud account commands' library calls: ``joypix credits``, ``joypix status`` and ``joypix fetch``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.codes import RenderNotFound
from joypix_recipes.api.home import last_session
from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.backends.nemo_fetch import fetch_export
from joypix_recipes.backends.nemo_output import VideoFacts, check_video
from joypix_recipes.backends.nemo_settings import settings_from_options
from joypix_recipes.errors import JobError, UsageError
from joypix_recipes.timeline.draft import summarize_timeline


async def fetch_credits(options: BackendOptions) -> dict[str, int]:
    """The account's balance: ``available``, ``frozen`` and ``total`` credits."""
    async with NemoClient(settings_from_options(options)) as client:
        credits = await client.credits()
    return {"available": credits.available, "frozen": credits.frozen, "total": credits.total}


async def fetch_status(options: BackendOptions, session_id: str | None) -> str:
    """The session's timeline summary; without an id, the last session this machine used."""
    settings = settings_from_options(options)
    session = session_id or last_session(settings.home, settings.base_url)
    if session is None:
        raise UsageError(f"no session recorded yet for {settings.base_url}; pass a session id or run a nemo recipe")
    async with NemoClient(settings) as client:
        state = await client.state(session)
    return summarize_timeline(state.draft)


async def fetch_render(
    options: BackendOptions, render_id: str, output: Path, on_stage: Callable[[str], None]
) -> VideoFacts:
    """Download a finished (or still running) render by id into ``output``, checked to decode; nothing is paid."""
    async with NemoClient(settings_from_options(options)) as client:
        try:
            return await fetch_export(client, render_id, output, lambda temp: check_video(temp, render_id), on_stage)
        except RenderNotFound as error:
            raise JobError(f"the service has no render {render_id}; check the id") from error
