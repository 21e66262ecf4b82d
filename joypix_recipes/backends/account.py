"""The cloud account commands' library calls: ``joypix credits``, ``joypix status`` and ``joypix fetch``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.codes import RenderNotFound
from joypix_recipes.api.home import last_session
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.backends.nemo_fetch import fetch_export
from joypix_recipes.backends.nemo_output import VideoFacts, check_video
from joypix_recipes.backends.nemo_settings import settings_from_options
from joypix_recipes.errors import JobError, SessionLostError, UsageError
from joypix_recipes.printable import printable
from joypix_recipes.redact import redact
from joypix_recipes.timeline.draft import summarize_timeline

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
"""What a session or render id looks like: it goes into a request's path, so nothing that could change the path."""


def _account_settings(options: BackendOptions, **overrides: Any) -> ClientSettings:
    """These commands only read: with the service down they say so at once rather than back off for seconds."""
    return settings_from_options(options, retry_unreachable=False, **overrides)


def _check_id(kind: str, value: str) -> str:
    if not _ID.fullmatch(value):
        raise UsageError(f"{printable(value)!r} is not a {kind} id; {kind} ids are letters, digits, '-', '_' and '.'")
    return value


async def fetch_credits(options: BackendOptions) -> dict[str, int]:
    """The account's balance: ``available``, ``frozen`` and ``total`` credits."""
    async with NemoClient(_account_settings(options)) as client:
        credits = await client.credits()
    return {"available": credits.available, "frozen": credits.frozen, "total": credits.total}


async def fetch_status(options: BackendOptions, session_id: str | None) -> str:
    """The session's timeline summary; without an id, the last session this machine used."""
    settings = _account_settings(options)
    session = _check_id("session", session_id) if session_id else last_session(settings.state_folder, settings.base_url, legacy=settings.home)
    if session is None:
        raise UsageError(f"no session recorded yet for {redact(settings.base_url)}; pass a session id or run a nemo recipe")
    async with NemoClient(settings) as client:
        try:
            state = await client.state(session)
        except SessionLostError as error:
            if session_id:
                raise SessionLostError(f"the service does not know a session {printable(session)}; check the id") from error
            raise SessionLostError(
                f"the last session this machine used, {printable(session)}, is unknown to the service now (it may have"
                " expired); pass a session id"
            ) from error
    return summarize_timeline(state.draft)


async def fetch_render(
    options: BackendOptions, render_id: str, output: Path, on_stage: Callable[[str], None]
) -> VideoFacts:
    """Download a finished (or still running) render by id into ``output``, checked to decode; nothing is paid."""
    _check_id("render", render_id)
    async with NemoClient(_account_settings(options)) as client:
        try:
            return await fetch_export(client, render_id, output, lambda temp: check_video(temp, render_id), on_stage)
        except RenderNotFound as error:
            raise JobError(f"the service has no render {render_id}; check the id") from error
