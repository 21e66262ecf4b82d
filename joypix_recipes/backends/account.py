"""The cloud account commands' library calls: ``joypix credits`` and ``joypix status``."""

from __future__ import annotations

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.home import last_session
from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.backends.nemo_settings import settings_from_options
from joypix_recipes.errors import UsageError
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
