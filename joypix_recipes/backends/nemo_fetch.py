"""Fetching a finished export: poll the render for its link, download it, check it, and ask again on failure.

A signed download link expires (403), storage may lose the object for a moment (404, 410), a transfer
can break or deliver a file that does not decode. None of these means the render is gone: polling
the render again gives a fresh link, so the fetch asks again a few times, with backoff, before it
fails. The render itself is never posted again here; a failed fetch leaves it for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.models import RenderStatus
from joypix_recipes.atomic import atomic_path
from joypix_recipes.errors import ProtocolError, RenderError, ServerError
from joypix_recipes.redact import get_logger

log = get_logger()

FETCH_TRIES = 4
"""Fresh links asked for before a download is given up (the render is kept for the next run)."""

Checked = TypeVar("Checked")


async def fetch_export(
    client: NemoClient,
    render_id: str,
    output: Path,
    check: Callable[[Path], Checked],
    on_stage: Callable[[str], None],
    *,
    just_posted: bool = False,
) -> Checked:
    """Wait for ``render_id``, download it into ``output`` (whole or not at all); what ``check`` says of it.

    ``just_posted``: this attempt posted the render a moment ago (its first poll waits an interval).

    ``check`` runs in a thread on the downloaded file before it takes its final name; raising
    RenderError there (the file does not decode) counts as a failed download. The same thread then
    renames it into place, so a finished download costs the event loop few thread hand-offs.
    """

    def on_progress(status: RenderStatus) -> None:
        on_stage(f"rendering {status.progress:.0f}%")

    for fetch in range(1, FETCH_TRIES + 1):
        url = await client.wait_for_render(render_id, on_progress, just_posted=just_posted and fetch == 1)
        on_stage("downloading")
        try:
            return await _download(client, url, output, check)
        except (ServerError, ProtocolError, RenderError) as error:
            if fetch == FETCH_TRIES:
                raise type(error)(
                    f"{error}; the export is kept, so the next run only downloads it (nothing is paid again)"
                ) from error
            log.info("downloading render %s failed (%s); asking for a fresh link", render_id, error)
            await asyncio.sleep(client.settings.retry.delay(fetch))
    raise AssertionError("unreachable")  # pragma: no cover


async def _download(client: NemoClient, url: str, output: Path, check: Callable[[Path], Checked]) -> Checked:
    # File work (fsync, rename, decoding) runs in threads: on the event loop it would stall every
    # other job's turns and polls.
    finished = contextlib.ExitStack()
    temp = await asyncio.to_thread(finished.enter_context, atomic_path(output))
    try:
        await client.download(url, temp)
    except BaseException as error:
        finished.__exit__(type(error), error, error.__traceback__)  # rare: a failed or cancelled transfer
        raise

    def check_and_publish() -> Checked:
        # Checked, then renamed into place (or removed when the check fails), in one worker thread.
        with finished:
            return check(temp)

    return await asyncio.to_thread(check_and_publish)
