"""Whether the render farm's packages (the ``farm`` extra) are installed, checked before a farm command runs.

A single-machine install leaves them out; asking it for a farm should say what to install, not crash
on an import deep inside the first farm call.
"""

from __future__ import annotations

import argparse
import os
from importlib.util import find_spec

from joypix_recipes.errors import UsageError

FARM_MODULES: tuple[str, ...] = ("dramatiq", "redis", "fsspec")
"""What every farm command imports; s3fs is needed only for s3:// storage and is checked where it is used."""
ENV_BROKER = "JOYPIX_BROKER"


def wants_farm(args: argparse.Namespace) -> bool:
    """A worker and ``farm status`` always need a farm; any other command does when a broker is given or set in the environment."""
    if args.command in ("worker", "farm"):
        return True
    return hasattr(args, "broker") and bool(args.broker or os.environ.get(ENV_BROKER, "").strip())


def require_farm_packages() -> None:
    """UsageError (exit 2) naming the extra to install when any farm package is missing."""
    missing = [name for name in FARM_MODULES if find_spec(name) is None]
    if missing:
        raise UsageError(
            f"the render farm needs {', '.join(missing)}, which are not installed: pip install 'joypix-recipes[farm]'"
        )
