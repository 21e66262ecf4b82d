"""``joypix farm status``: queue depths, live workers, jobs in flight and failures, read from the farm's Redis."""

from __future__ import annotations

import argparse
import time

from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.streams import say, say_json
from joypix_recipes.errors import UsageError


def cmd_farm(args: argparse.Namespace) -> int:
    """Show what the farm is doing now (``--json``: one object)."""
    from joypix_recipes.cluster.settings import resolve_settings
    from joypix_recipes.cluster.status import read_status

    settings = resolve_settings(args.broker)
    if settings is None:
        raise UsageError("joypix farm status needs --broker redis://HOST:6379/0 (or $JOYPIX_BROKER)")
    status = read_status(settings)
    if args.json:
        say_json(status.to_json())
        return EXIT_OK
    say(f"broker   {status.broker}")
    for queue in status.queues:
        say(f"queue    {queue.name}: {queue.ready} ready, {queue.delayed} delayed, {queue.held} held by workers")
    alive = [worker for worker in status.workers if worker.alive]
    say(f"workers  {len(alive)} live" + (f", {len(status.workers) - len(alive)} silent" if len(alive) < len(status.workers) else ""))
    for worker in status.workers:
        seen = time.strftime("%H:%M:%S", time.localtime(time.time() - worker.heartbeat_age_s))
        state = "live" if worker.alive else "silent"
        say(f"  {worker.host} pid {worker.pid}: {state}, last heartbeat {seen} ({worker.heartbeat_age_s:.1f} s ago),"
            f" queues {worker.queues}, {len(worker.jobs)}/{worker.slots} slots busy")
    say(f"jobs     {len(status.in_flight)} in flight, {status.done} done, {status.failed} failed")
    for job in status.in_flight:
        say(f"  running {job}")
    for failure in status.recent_failures:
        say(f"  failed  {failure.get('job', '?')} on {failure.get('worker', '?')}: {failure.get('error', '')}")
    return EXIT_OK
