"""`watch`: wires a WatchConfig to recipes, a run session (journals, runners, notifiers) and an observer, and
serves until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from watchdog.observers import Observer

from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.backends.registry import BACKENDS, BackendFactory
from joypix_recipes.job.model import Job
from joypix_recipes.run.notify import Subscription, notify_settings
from joypix_recipes.run.progress import Progress, open_progress
from joypix_recipes.run.session import Lane, find_backend, open_run_session
from joypix_recipes.watch.config import Flow, WatchConfig
from joypix_recipes.watch.filters import Router
from joypix_recipes.watch.hotfolder import FileEvent, HotFolder, Timing
from joypix_recipes.watch.jobs import DoneIndex, FlowJobs, Planner, RunnerHandler
from joypix_recipes.watch.listing import ListingObserver
from joypix_recipes.watch.observer import ObserverFactory

if TYPE_CHECKING:
    from joypix_recipes.recipe.model import Recipe

log = logging.getLogger("joypix_recipes.watch")


def observer_factory(polling: bool, settle_seconds: float) -> ObserverFactory:
    """The native observer, or for polling (network shares) one that lists the folders once a settle tick:
    a new file is seen at most a tick after it appears, as a change of one already seen is, so the
    settle time stays the wait that counts; a listing stats no file, the settler stats those settling."""
    if polling:
        interval = Timing(settle=settle_seconds).tick
        return lambda: ListingObserver(interval)
    return Observer


async def watch(
    config: WatchConfig,
    *,
    once: bool,
    progress_mode: str,
    verbose: bool,
    stop: asyncio.Event | None = None,
    backends: Mapping[str, BackendFactory] = BACKENDS,
    backend_options: BackendOptions | None = None,
    observers: ObserverFactory | None = None,
    progress: Progress | None = None,
    on_event: Callable[[FileEvent], None] | None = None,
) -> int:
    """Serve the config's hot folders until ``stop`` is set (or, with ``once``, until empty); exit code.

    ``backends``, ``observers`` and ``progress`` are injectable; ``on_event`` sees what happens to each
    file (taken, done, duplicate, failed, vanished, skipped, held), by default logged.
    """
    stop = stop if stop is not None else asyncio.Event()
    plans = {flow: _flow_plan(flow) for flow in config.flows}
    for flow, (_, backend_name, _) in plans.items():
        find_backend(backend_name, backends, context=f" for {flow.label}")
    # Flows sharing an output folder and a backend share one lane (its report names the first one's recipe).
    lanes = {flow: Lane(flow.out_dir, backend_name, recipe.name) for flow, (_, backend_name, recipe) in plans.items()}
    recipes = {recipe.path: recipe for _, _, recipe in plans.values()}.values()
    # Each recipe's own notify: its targets hear of its clips.
    subscriptions = [
        Subscription(settings, recipe.name, recipe_path=recipe.path)
        for recipe in recipes
        if (settings := notify_settings(recipe.notify_urls, recipe.notify_commands)) is not None
    ]
    async with contextlib.AsyncExitStack() as stack:
        # Closed in reverse: the session (writing each lane's report) before the display.
        display = progress if progress is not None else stack.enter_context(open_progress(progress_mode, verbose))
        session = await stack.enter_async_context(
            open_run_session(
                list(lanes.values()),
                progress=display,
                options=backend_options,
                backends=backends,
                concurrency=config.concurrency,
                notify=subscriptions,
            )
        )
        # Flows sharing an output folder share its journal, so they share its index of done jobs too.
        done = {out_dir: DoneIndex(session.journal(out_dir)) for out_dir in {flow.out_dir for flow in config.flows}}
        flows = {
            flow: FlowJobs(planner, session.runner(lanes[flow]), done[flow.out_dir])
            for flow, (planner, _, _) in plans.items()
        }
        router = Router(config.flows, excluded=[config.source] if config.source else [])
        folder = HotFolder(
            router,
            RunnerHandler(flows, max_planning=session.slots),
            Timing(settle=config.settle_seconds, rescan=config.rescan_seconds),
            observers if observers is not None else observer_factory(config.polling, config.settle_seconds),
            on_event=on_event if on_event is not None else _announce,
            max_reading=2 * session.slots,
        )
        for flow in config.flows:
            log.info("watching %s with %s -> %s", flow.folder, flow.recipe.name, flow.out_dir)
        summary = await folder.run(stop, once=once)
        if summary.stopped_reason:
            log.error("stopped: %s", summary.stopped_reason)
        return summary.exit_code


def _flow_plan(flow: Flow) -> tuple[Planner, str, Recipe]:
    """Load the flow's recipe now (a broken recipe stops the watcher before it starts)."""
    from joypix_recipes.recipe.model import load_recipe
    from joypix_recipes.recipe.plan import plan_jobs

    recipe = load_recipe(flow.recipe, extra_vars=tuple(flow.vars))
    backend_name = flow.backend or recipe.backend
    # Overrides are text, as --var KEY=VALUE gives them; YAML booleans read back as YAML wrote them.
    overrides = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in flow.vars.items()}

    def plan(path: Path) -> list[Job]:
        return list(
            plan_jobs(
                recipe, inputs=[str(path)], var_overrides=overrides, out_dir=flow.out_dir, backend=backend_name
            ).jobs
        )

    return plan, backend_name, recipe


def _announce(event: FileEvent) -> None:
    if event.status == "taken":
        log.debug("taken %s", event.path.name)
    elif event.status in ("done", "duplicate"):
        log.info("%s %s -> %s", event.status, event.path.name, event.moved_to)
    elif event.status == "failed" and event.moved_to is not None:
        log.warning(
            "failed %s -> %s (the reason is in %s.error.txt)", event.path.name, event.moved_to, event.moved_to.name
        )
    elif event.status == "failed":
        log.error("failed %s: %s", event.path.name, event.note)
    elif event.status == "ignored":
        log.warning("ignored %s: %s", event.path.name, event.note)
    else:
        log.info("%s %s: %s", event.status, event.path.name, event.note)
