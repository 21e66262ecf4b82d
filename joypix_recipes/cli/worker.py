"""``joypix worker``: serve jobs from the farm's queues."""

from __future__ import annotations

import argparse
import shutil

from joypix_recipes.errors import UsageError


def cmd_worker(args: argparse.Namespace) -> int:
    """Serve until SIGTERM (finish local renders) or Ctrl-C (hand jobs back)."""
    from joypix_recipes.cluster.metrics import metrics_endpoint
    from joypix_recipes.cluster.serve import parse_queues, run_workers
    from joypix_recipes.cluster.settings import resolve_settings

    farm = resolve_settings(args.broker, args.storage, args.heartbeat_timeout)
    if farm is None:
        raise UsageError("joypix worker needs --broker redis://HOST:6379/0 (or $JOYPIX_BROKER)")
    metrics = metrics_endpoint(args.metrics_host, args.metrics_port)
    try:
        return run_workers(
            farm, processes=args.processes, threads=args.threads, queues=parse_queues(args.queues), verbose=args.verbose,
            metrics=metrics,
        )
    finally:
        if metrics is not None:
            shutil.rmtree(metrics.folder, ignore_errors=True)
