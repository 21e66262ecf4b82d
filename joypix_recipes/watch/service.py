"""`watch`: wires a WatchConfig to recipes, journals, runners and an observer, and serves until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from joypix_recipes.backends import BACKENDS, BackendFactory, BackendOptions
from joypix_recipes.errors import UsageError
from joypix_recipes.job import Job
from joypix_recipes.journal import Journal
from joypix_recipes.outfolder import hold_output_folder
from joypix_recipes.progress import Progress, open_progress
from joypix_recipes.report import write_run_outputs
from joypix_recipes.run import refuse_foreign_run_files
from joypix_recipes.runner import Runner
from joypix_recipes.watch.filters import Router
from joypix_recipes.watch.hotfolder import FileEvent, HotFolder, Timing
from joypix_recipes.watch.jobs import DoneIndex, FlowJobs, Planner, RunnerHandler
from joypix_recipes.watch.observer import ObserverFactory
from joypix_recipes.watchfile import Flow, WatchConfig

log = logging.getLogger("joypix_recipes.watch")


def observer_factory(polling: bool, settle_seconds: float) -> ObserverFactory:
    """The native observer, or the polling one (network shares) checking a few times per settle time."""
    if polling:
        interval = max(0.05, min(1.0, settle_seconds / 4))
        return lambda: PollingObserver(timeout=interval)
    return Observer


@dataclass
class _Runners:
    """One journal per output folder, one runner per (output folder, backend)."""

    journals: dict[Path, Journal]
    done: dict[Path, DoneIndex]
    runners: dict[tuple[Path, str], Runner]
    recipe_names: dict[tuple[Path, str], str]


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
        if backend_name not in backends:
            raise UsageError(f"unknown backend '{backend_name}' for {flow.label}; use one of: {', '.join(sorted(backends))}")
    for out_dir in {flow.out_dir for flow in config.flows}:
        refuse_foreign_run_files(out_dir)
    held = await _hold_output_folders(config)
    display = progress if progress is not None else open_progress(progress_mode, verbose)
    runners = _Runners({}, {}, {}, {})
    try:
        flows = {}
        for flow, (planner, backend_name, recipe_name) in plans.items():
            runner = _runner_for(runners, flow.out_dir, backend_name, recipe_name, backends, backend_options, display, config)
            flows[flow] = FlowJobs(planner, runner, runners.done[flow.out_dir])
        router = Router(config.flows, excluded=[config.source] if config.source else [])
        folder = HotFolder(
            router,
            RunnerHandler(flows),
            Timing(settle=config.settle_seconds, rescan=config.rescan_seconds),
            observers if observers is not None else observer_factory(config.polling, config.settle_seconds),
            on_event=on_event if on_event is not None else _announce,
            max_in_flight=2 * sum(runner.concurrency for runner in runners.runners.values()),
        )
        for flow in config.flows:
            log.info("watching %s with %s -> %s", flow.folder, flow.recipe.name, flow.out_dir)
        summary = await folder.run(stop, once=once)
        if summary.stopped_reason:
            log.error("stopped: %s", summary.stopped_reason)
        return summary.exit_code
    finally:
        try:
            await _close(runners, display, close_display=progress is None)
        finally:
            await held.aclose()


async def _hold_output_folders(config: WatchConfig) -> contextlib.AsyncExitStack:
    """Lock every output folder of the config (in sorted order, so two watchers cannot deadlock)."""
    held = contextlib.AsyncExitStack()
    try:
        for out_dir in sorted({flow.out_dir for flow in config.flows}):
            await held.enter_async_context(hold_output_folder(out_dir, on_wait=log.warning))
    except BaseException:
        await held.aclose()
        raise
    return held


def _flow_plan(flow: Flow) -> tuple[Planner, str, str]:
    """Load the flow's recipe now (a broken recipe stops the watcher before it starts)."""
    from joypix_recipes.plan import plan_jobs
    from joypix_recipes.recipe.model import load_recipe

    recipe = load_recipe(flow.recipe, extra_vars=tuple(flow.vars))
    backend_name = flow.backend or recipe.backend
    # Overrides are text, as --var KEY=VALUE gives them; YAML booleans read back as YAML wrote them.
    overrides = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in flow.vars.items()}

    def plan(path: Path) -> list[Job]:
        return plan_jobs(recipe, inputs=[str(path)], var_overrides=overrides, out_dir=flow.out_dir, backend=backend_name)

    return plan, backend_name, recipe.name


def _runner_for(
    runners: _Runners,
    out_dir: Path,
    backend_name: str,
    recipe_name: str,
    backends: Mapping[str, BackendFactory],
    options: BackendOptions | None,
    progress: Progress,
    config: WatchConfig,
) -> Runner:
    if out_dir not in runners.journals:
        runners.journals[out_dir] = Journal.open(out_dir)
        # Flows sharing an output folder share its journal, so they share its index of done jobs too.
        runners.done[out_dir] = DoneIndex(runners.journals[out_dir])
    journal = runners.journals[out_dir]
    key = (out_dir, backend_name)
    if key not in runners.runners:
        backend = backends[backend_name](options if options is not None else BackendOptions())
        runners.runners[key] = Runner(backend, journal, progress, concurrency=config.concurrency)
        runners.recipe_names[key] = recipe_name
    return runners.runners[key]


async def _close(runners: _Runners, progress: Progress, close_display: bool) -> None:
    """Close backends, write each output folder's manifest and report, close journals."""
    try:
        for key, runner in runners.runners.items():
            with contextlib.suppress(asyncio.CancelledError):
                await runner.aclose()
            summary = runner.summary()
            if summary.outcomes:
                manifest, report = write_run_outputs(summary, key[0], runners.recipe_names[key])
                progress.run_finished(summary, manifest, report)
    finally:
        for journal in runners.journals.values():
            journal.close()
        if close_display:
            progress.close()


def _announce(event: FileEvent) -> None:
    if event.status == "taken":
        log.debug("taken %s", event.path.name)
    elif event.status in ("done", "duplicate"):
        log.info("%s %s -> %s", event.status, event.path.name, event.moved_to)
    elif event.status == "failed" and event.moved_to is not None:
        log.warning("failed %s -> %s (the reason is in %s.error.txt)", event.path.name, event.moved_to, event.moved_to.name)
    elif event.status == "failed":
        log.error("failed %s: %s", event.path.name, event.note)
    else:
        log.info("%s %s: %s", event.status, event.path.name, event.note)

