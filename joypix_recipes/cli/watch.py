"""``joypix watch``: run a recipe on every image that lands in a folder, exactly once."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from joypix_recipes.cli.options import farm_settings, progress_mode
from joypix_recipes.cli.signals import run_until_interrupted
from joypix_recipes.errors import UsageError


def cmd_watch(args: argparse.Namespace) -> int:
    """Watch FOLDER with --recipe, or every folder of a watch file; with a farm, submit there."""
    from joypix_recipes.watch import WatchConfig, load_watch_file, watch

    if args.config:
        if args.folder or args.recipe:
            raise UsageError("give either a watch file (--config) or FOLDER with --recipe, not both")
        config = load_watch_file(Path(args.config))
    else:
        if not args.folder or not args.recipe:
            raise UsageError("joypix watch needs FOLDER and --recipe FILE (or --config WATCHFILE)")
        config = WatchConfig.from_args(
            folder=Path(args.folder),
            recipe=Path(args.recipe),
            out_dir=Path(args.out) if args.out else None,
            backend=args.backend,
            polling=args.polling,
            settle_seconds=args.settle,
        )
    if args.polling:
        config = config.with_polling()
    extra: dict[str, Any] = {}
    farm = farm_settings(args)
    if farm is not None:
        from joypix_recipes.backends.registry import BACKENDS
        from joypix_recipes.cluster.broker import check_broker
        from joypix_recipes.cluster.farm import farm_backends

        check_broker(farm)  # a watcher that cannot submit should say so now, not at the first image
        extra["backends"] = farm_backends(farm, list(BACKENDS))
    code = run_until_interrupted(
        watch(config, once=args.once, progress_mode=progress_mode(args), verbose=args.verbose, **extra)
    )
    return int(code)
