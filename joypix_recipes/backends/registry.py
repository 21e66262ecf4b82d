"""The backend registry: each backend's name and the factory that makes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line reads the names at start-up; it should not load the contract for them
    from joypix_recipes.backends.contract import Backend, BackendOptions

BackendFactory = Callable[["BackendOptions"], "Backend"]


def _local(options: BackendOptions) -> Backend:
    from joypix_recipes.backends.local import LocalBackend

    return LocalBackend(options)


def _nemo(options: BackendOptions) -> Backend:
    from joypix_recipes.backends.nemo import NemoBackend

    return NemoBackend(options)


# Factories import lazily so `joypix validate` never pays for PyAV or httpx.
BACKENDS: dict[str, BackendFactory] = {"local": _local, "nemo": _nemo}


def _preview(options: BackendOptions) -> Backend:
    from joypix_recipes.backends.preview import preview_backend

    return preview_backend(options)


PREVIEW_BACKENDS: dict[str, BackendFactory] = {"preview": _preview}
"""The backend previews run on, whatever the recipe's: kept apart so --backend never offers it."""
