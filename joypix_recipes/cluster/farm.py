"""``joypix run --broker``: the same run as a local one, with the farm as its backend; or submit and return.

The submitting machine keeps its own SQLite journal beside the outputs, as in a local run; the
farm's shared truth lives in Redis and the files in the shared storage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from joypix_recipes.backends.contract import Backend, BackendOptions
from joypix_recipes.backends.registry import BackendFactory
from joypix_recipes.cluster.broker import check_broker
from joypix_recipes.cluster.follower import ClusterBackend
from joypix_recipes.cluster.producer import Producer
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.job.model import Job
from joypix_recipes.run.notify import NotifySettings
from joypix_recipes.run.outcome import RunSummary
from joypix_recipes.run.session import run_jobs


def farm_backends(settings: ClusterSettings, names: Sequence[str], *, force: bool = False) -> dict[str, BackendFactory]:
    """A backend registry whose every entry sends jobs to the farm (what ``joypix watch --broker`` runs with)."""

    def factory(options: BackendOptions) -> Backend:
        return ClusterBackend(settings, options, force=force)

    return {name: factory for name in names}


async def run_on_farm(
    jobs: Sequence[Job],
    settings: ClusterSettings,
    *,
    options: BackendOptions,
    out_dir: Path,
    recipe_name: str,
    force: bool,
    progress_mode: str,
    verbose: bool,
    notify: NotifySettings | None = None,
) -> RunSummary:
    """Submit every job (or re-attach), follow them to the end, write manifest.json and report.html, and
    notify as a local run does (from this machine, as each job's output arrives)."""
    await asyncio.to_thread(check_broker, settings)
    return await run_jobs(
        jobs,
        backend_name=jobs[0].backend,
        options=options,
        out_dir=out_dir,
        recipe_name=recipe_name,
        concurrency=None,
        force=force,
        progress_mode=progress_mode,
        verbose=verbose,
        backends=farm_backends(settings, [jobs[0].backend], force=force),
        notify=notify,
    )


@dataclass(frozen=True)
class Submission:
    """What ``--detach`` did: jobs enqueued now, and jobs the farm already had."""

    enqueued: int
    attached: int


async def submit_to_farm(jobs: Sequence[Job], settings: ClusterSettings, *, options: BackendOptions, force: bool) -> Submission:
    """Stage and enqueue every job that the farm does not already have, then return without following."""
    await asyncio.to_thread(check_broker, settings)
    producer = Producer(settings, options, force=force)
    try:
        submitted = await asyncio.gather(*(producer.submit(job) for job in jobs))
    finally:
        await producer.aclose()
    enqueued = sum(1 for item in submitted if item.enqueued)
    return Submission(enqueued, len(submitted) - enqueued)
