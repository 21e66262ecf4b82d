"""What the shared flags mean to the library: cloud flags as backend options, output flags as a
progress mode, farm flags as the farm's settings."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from joypix_recipes.backends.contract import BackendOptions
    from joypix_recipes.cluster.settings import ClusterSettings


def backend_options(args: argparse.Namespace) -> BackendOptions:
    """--base-url, --poll-interval and --language, for whichever of them the command has."""
    from joypix_recipes.backends.contract import BackendOptions

    return BackendOptions(
        base_url=getattr(args, "base_url", None),
        poll_interval=getattr(args, "poll_interval", None),
        language=getattr(args, "language", None),
    )


def progress_mode(args: argparse.Namespace) -> Literal["json", "quiet", "auto"]:
    """--json for machines, --quiet for failures only, else what the terminal suits."""
    if args.json:
        return "json"
    if args.quiet:
        return "quiet"
    return "auto"


def farm_settings(args: argparse.Namespace) -> ClusterSettings | None:
    """The farm from --broker/--storage or their environment variables; None runs locally."""
    from joypix_recipes.cluster.settings import resolve_settings

    return resolve_settings(getattr(args, "broker", None), getattr(args, "storage", None))
