"""The offline backend: a job's steps become a draft (edit + interpret), rendered to MP4 in a worker process pool.

Building the draft is cheap and happens in the caller; only the render crosses into a worker process.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path

from joypix_recipes.atomic import process_alive, publish_only_while, remove_partials_of
from joypix_recipes.backends.contract import BackendOptions, JobReporter, JobResult, Ledger
from joypix_recipes.errors import InterpretError, JobError, MediaError, RenderError
from joypix_recipes.job.actions import BUILTIN_MUSIC, Audio, Prompt
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.kinds.audio import normalizes_loudness
from joypix_recipes.job.model import Job, PlannedStep, named_file, output_metadata
from joypix_recipes.timeline.draft import Draft
from joypix_recipes.timeline.edit import add_image, apply_action, apply_interpretation, new_draft
from joypix_recipes.timeline.interpret import interpret_prompt, vocabulary

_RENDER_MODULE = "joypix_recipes.render.video"
_PARENT_POLL_SECONDS = 0.5
_ORPHAN_WAIT_SECONDS = 4 * _PARENT_POLL_SECONDS
"""How long cleanup waits for a worker that lost its pool to notice and stop (it polls its parents)."""
_RETRY_PAUSE_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@dataclass(frozen=True)
class BuiltDraft:
    """A job's timeline and the local files its sources name (warnings go to the reporter as they are met)."""

    draft: Draft
    media: dict[str, Path]


class LocalBackend:
    """Renders jobs on this machine; no account, no network."""

    name = "local"

    def __init__(
        self,
        options: BackendOptions,
        *,
        reshape: Callable[[Draft], Draft] | None = None,
        quality: str | None = None,
    ) -> None:
        # A preview renders the same timeline smaller and faster: ``reshape`` changes the built draft's
        # frame, ``quality`` replaces the export's encoder setting.
        self._reshape = reshape
        self._quality = quality
        self._workers = max(1, options.workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        # Per pool: the pipe its workers watch; nothing is ever sent, its end is all that matters.
        self._lifelines: dict[ProcessPoolExecutor, tuple[Connection, Connection]] = {}
        self._abandoned: set[Path] = set()
        self._in_flight: set[Path] = set()
        self._starting: dict[ProcessPoolExecutor, asyncio.Future[object]] = {}
        self._closed = False

    @property
    def default_concurrency(self) -> int:
        """One job per core: a job's start-up overlaps the previous job's encode; more would oversubscribe."""
        return self._workers

    def describe_spending(self, job: Job, input_hash: str, paid: Ledger | None) -> str | None:
        """Nothing: the local renderer costs no credits."""
        return None

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        """Build the job's draft, render it in a worker process, and return what was made (nothing is paid, so nothing to settle)."""
        reporter.stage("building the timeline")
        built = build_draft(job, reporter)
        draft = built.draft if self._reshape is None else self._reshape(built.draft)
        metadata = output_metadata(job, reporter.identity)
        reporter.stage("rendering")
        quality = self._quality or job.export.quality
        normalize = normalizes_loudness(step.action for step in job.steps)
        task = partial(render_in_worker, draft, built.media, job.output, quality, metadata, job.export, normalize)
        output, poster, duration_s = await self._render(job, task)
        return JobResult(
            output=output,
            poster=poster,
            summary=draft.summary(),
            duration_s=duration_s,
            draft_json=draft.to_json(),
        )

    async def _render(self, job: Job, task: Callable[[], tuple[Path, Path | None, float]]) -> tuple[Path, Path | None, float]:
        # A broken pool is retried once on a fresh one: a SIGTERM sent to the whole process group can kill
        # the fork server before the parent's own cancellation arrives, and that job was interrupted, not
        # failed. A worker that dies twice (out of memory) fails the job.
        for attempt in (1, 2):
            pool = self._executor()
            self._in_flight.add(job.output)
            submitted = False
            try:
                await self._first_worker_started(pool)
                submitted = True
                return await asyncio.get_running_loop().run_in_executor(pool, task)
            except BrokenProcessPool as error:
                # Not in a thread: a cancellation landing mid-way would leave a survivor rendering unseen.
                # Killed processes end at once, so the wait is short.
                self._discard_broken_pool(pool)
                # The dead worker could not clean up after itself; one orphaned by the pool stops soon.
                await asyncio.to_thread(remove_partials_of, job.output, _ORPHAN_WAIT_SECONDS)
                if attempt == 2:
                    raise RenderError(
                        f"{job.input.name}: the render worker stopped unexpectedly (out of memory?);"
                        " try a smaller image or fewer jobs at once"
                    ) from error
                await asyncio.sleep(_RETRY_PAUSE_SECONDS)
            except asyncio.CancelledError:
                if submitted:
                    self._abandoned.add(job.output)  # the worker is still writing it; aclose stops it
                raise
            finally:
                self._in_flight.discard(job.output)
        raise AssertionError("unreachable")

    async def _first_worker_started(self, pool: ProcessPoolExecutor) -> None:
        """Wait, off the event loop, until ``pool`` has started its first worker.

        A submission starts a worker when none is idle, and the first worker's start waits for the fork
        server to import the renderer: a second or more on a busy machine, which on the loop would stall
        the studio's page and every other job. Later starts are plain forks. Jobs arriving meanwhile
        wait for the same start; a job cancelled meanwhile leaves it running for the others.
        """
        starting = self._starting.get(pool)
        if starting is None:
            starting = self._starting[pool] = asyncio.ensure_future(asyncio.to_thread(pool.submit, int))
            # Every waiter may have been cancelled: a failure is still the next job's to see, not a log line's.
            starting.add_done_callback(lambda done: done.cancelled() or done.exception())
        await asyncio.shield(starting)

    async def aclose(self) -> None:
        """Stop the worker pool; renders of cancelled jobs are stopped and their temp files removed."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is None:
            return
        self._starting.pop(pool, None)
        # A render still in flight at close belongs to a job whose cancellation has not landed yet.
        self._abandoned |= self._in_flight
        if self._abandoned:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()  # no public way to stop a running task; workers ignore SIGTERM
        try:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
            self._cut_lifeline(pool)
        finally:  # even when closing is itself cancelled (a second Ctrl-C), killed renders leave nothing
            for output in self._abandoned:
                await asyncio.to_thread(remove_partials_of, output, _ORPHAN_WAIT_SECONDS)
            self._abandoned.clear()

    def _discard_broken_pool(self, pool: ProcessPoolExecutor) -> None:
        # A worker that died (killed, out of memory) breaks the whole pool; the next job gets a fresh one.
        # Jobs that shared the broken pool all land here; only the first replaces it.
        # Its surviving workers render for nobody and would keep their temp files alive: stop them.
        self._starting.pop(pool, None)
        if self._pool is pool:
            self._pool = None
            survivors = list(getattr(pool, "_processes", {}).values())
            for process in survivors:
                process.kill()
            for process in survivors:
                process.join(timeout=5)
            pool.shutdown(wait=False, cancel_futures=True)
            self._cut_lifeline(pool)

    def _cut_lifeline(self, pool: ProcessPoolExecutor) -> None:
        # Only once the pool's workers are gone: a worker that sees its pipe close exits at once.
        for end in self._lifelines.pop(pool, ()):
            end.close()

    def _executor(self) -> ProcessPoolExecutor:
        if self._closed:
            # Work arriving while the run shuts down is interrupted, not failed, and starts no new pool.
            raise asyncio.CancelledError
        if self._pool is None:
            context = _worker_context()
            # Workers get the read end (each a copy); the write end never leaves this process, so the pipe
            # closes the moment it dies, however it dies.
            watched, held = context.Pipe(duplex=False)
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=context,
                initializer=_prepare_worker,
                initargs=(os.getpid(), watched),
            )
            self._lifelines[self._pool] = (watched, held)
        return self._pool


def build_draft(job: Job, reporter: JobReporter) -> BuiltDraft:
    """The job's timeline: its image (or each image of its group, in order), then each step; prompts go through the interpreter."""
    if job.input.path is None:
        raise JobError(
            f"{job.input.display}: the local backend needs an image file, not a URL; download it first or run with --backend nemo"
        )
    draft = new_draft(job.export, job.seed)
    media: dict[str, Path] = {}
    for image in job.input.files:
        draft = add_image(draft, str(image), label=image.name if job.input.images else job.input.name)
        media[str(image)] = image
    for number, step in enumerate(job.steps, start=1):
        reporter.stage(f"step {number}/{len(job.steps)}: {step.name}")
        action = step.action
        if isinstance(action, Audio) and action.file != BUILTIN_MUSIC:
            found = _audio_file(job, step, action.file)
            media[str(found)] = found
            action = replace(action, file=str(found))
        try:
            if isinstance(action, Prompt):
                draft = _apply_prompt(job, step, action.text, draft, media, reporter)
            else:
                draft = apply_action(draft, action)
        except ValueError as error:
            raise JobError(f'{job.input.name}: step "{step.name}" cannot be applied: {error}') from error
    return BuiltDraft(draft, media)


def _apply_prompt(
    job: Job,
    step: PlannedStep,
    text: str,
    draft: Draft,
    media: dict[str, Path],
    reporter: JobReporter,
) -> Draft:
    interpretation = interpret_prompt(text)
    if interpretation.unknown:
        words = ", ".join(f'"{phrase}"' for phrase in interpretation.unknown)
        message = f'{job.input.name}: step "{step.name}": the local interpreter does not understand {words}'
        if job.unknown_phrases == "fail":
            raise InterpretError(
                f"{message}; it understands {vocabulary()}; reword the step or set unknown_phrases: warn"
            )
        reporter.warn(f"{message}; ignored")
    actions = []
    for action in interpretation.actions:
        if isinstance(action, Audio) and action.file != BUILTIN_MUSIC:
            found = _audio_file(job, step, action.file)
            media[str(found)] = found
            action = replace(action, file=str(found))
        actions.append(action)
    return apply_interpretation(draft, replace(interpretation, actions=tuple(actions)))


def _audio_file(job: Job, step: PlannedStep, name: str) -> Path:
    """An audio path as given, else beside the recipe, else beside the input image."""
    found = named_file(job, name)
    if found is None:
        raise MediaError(
            f'{name}: the audio file of step "{step.name}" was not found; put it beside the recipe or give its full path'
        )
    return found


def _worker_context() -> multiprocessing.context.BaseContext:
    # Never plain fork: the caller runs threads (servers in tests, the event loop's helpers).
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([_RENDER_MODULE])  # workers fork with PyAV and OpenCV already imported
        _start_fork_server_deaf_to_hangups()
        return context
    return multiprocessing.get_context("spawn")


def _start_fork_server_deaf_to_hangups() -> None:
    """Start multiprocessing's fork server (and resource tracker) ignoring SIGHUP, as they ignore SIGINT.

    A closed terminal sends SIGHUP to the whole group; the run stops its workers itself, but a helper
    killed by it would print tracebacks and leak semaphores. An ignored signal stays ignored across
    exec; a SIGHUP arriving in this short window is ignored by joypix too.
    """
    import multiprocessing.forkserver

    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None or threading.current_thread() is not threading.main_thread():
        multiprocessing.forkserver.ensure_running()
        return
    previous = signal.signal(hangup, signal.SIG_IGN)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(hangup, previous)


def _prepare_worker(parent_pid: int, lifeline: Connection) -> None:
    """Worker start-up: the parent alone decides when a render stops, and a worker dies with its run.

    Ctrl-C, SIGTERM and SIGHUP often reach the whole process group; a worker dying of them would look like a
    crashed render and fail a job that was only interrupted, so workers ignore them (set here, not
    inherited from the fork server or joypix's own parent) and the parent stops them (aclose, SIGKILL).

    If the joypix process is SIGKILLed, its workers stop too instead of rendering for nobody, and never
    publish: the output folder is no longer locked, and a clip the journal never heard of would be
    taken for finished work. So a daemon thread watches ``lifeline``, a pipe whose only write end is
    held by joypix, and ends the worker the moment it closes; every rename into place first checks that
    joypix is alive, for the instant before the thread runs. Forkserver workers are children of the
    fork server, not of joypix, so the kernel's parent-death signal fires when the fork server dies
    (the pool is broken then, and nobody will read this render's result either); a worker the
    spawn method started is joypix's own child.
    """
    spawner = os.getppid()

    def run_alive() -> bool:
        return os.getppid() == spawner and process_alive(parent_pid)

    def watch() -> None:
        # poll() is true once the pipe has closed; the timeout rechecks the spawner where the
        # parent-death signal is not available.
        with contextlib.suppress(OSError):
            while run_alive() and not lifeline.poll(_PARENT_POLL_SECONDS):
                pass
        os._exit(1)

    for stop in _STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)
    _die_with_spawner()
    publish_only_while(run_alive)
    if not run_alive():  # it died before the parent-death signal was armed
        os._exit(1)
    threading.Thread(target=watch, name="joypix-parent-watch", daemon=True).start()


def _die_with_spawner() -> None:
    """Linux: have the kernel SIGKILL this process when the process that started it dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return  # no usable libc: the watching thread still stops the worker


def render_in_worker(
    draft: Draft,
    media: Mapping[str, Path],
    output: Path,
    quality: str,
    metadata: Mapping[str, str],
    export: ExportSettings | None = None,
    normalize_audio: bool = True,
) -> tuple[Path, Path | None, float]:
    """Runs in a worker process: render the draft and return (output, poster, duration in seconds)."""
    from joypix_recipes.render.formats import Encoding, encoding_for
    from joypix_recipes.render.video import render_draft

    encoding = Encoding(quality=quality) if export is None else replace(encoding_for(export, normalize_audio), quality=quality)
    result = render_draft(draft, media, output, quality=quality, metadata=metadata, poster=True, encoding=encoding)
    return result.output, result.poster, result.duration_s
