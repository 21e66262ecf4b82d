"""The cloud client's settings from the backend options: shared by the cloud backend and the account commands."""

from __future__ import annotations

from typing import Any

from joypix_recipes.api.settings import ClientSettings, resolve_settings
from joypix_recipes.backends.contract import BackendOptions


def settings_from_options(options: BackendOptions, **overrides: Any) -> ClientSettings:
    """Client settings from the backend options, then JOYPIX_* variables, then the defaults."""
    return resolve_settings(
        base_url=options.base_url,
        poll_interval=options.poll_interval,
        language=options.language,
        home=options.home,
        **overrides,
    )
