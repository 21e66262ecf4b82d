"""``joypix worker``: Dramatiq worker processes consuming job messages until SIGTERM or Ctrl-C.

SIGTERM is a graceful stop: local renders finish, cloud jobs go back to the queue with their render ids
kept (the next worker re-attaches without paying again). Ctrl-C hands every running job back and exits
130. With ``--processes N`` this process supervises N worker processes of one process each.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware

from joypix_recipes.backends.registry import BACKENDS, BackendFactory
from joypix_recipes.cluster.broker import ACTOR_NAME, QUEUES, check_broker, job_message, make_broker
from joypix_recipes.cluster.message import JobMessage, MalformedMessage
from joypix_recipes.cluster.metrics import MetricsEndpoint, count_on, serve_metrics
from joypix_recipes.cluster.presence import Presence
from joypix_recipes.cluster.settings import ENV_BROKER, ENV_STORAGE, ClusterSettings
from joypix_recipes.cluster.worker import WorkerContext
from joypix_recipes.errors import UsageError

log = logging.getLogger("joypix_recipes.cluster")

EXIT_OK = 0
EXIT_INTERRUPTED = 130
WORKER_IDLE_MS = 100
"""The longest an idle (or full) worker waits before polling its queues again; also its heartbeat pace.
Dramatiq backs off up to this while all slots are busy, so it bounds how long a freed slot stays empty."""
ENV_METRICS_CHILD = "JOYPIX_METRICS_FOLDER"
"""Set by a supervisor serving metrics: its worker processes count into this folder."""
SIGNAL_CHECK_S = 0.2
"""How often the main thread wakes to run signal handlers while the worker serves."""


def parse_queues(text: str | None) -> tuple[str, ...]:
    """``local,nemo`` -> ("local", "nemo"); every queue when not given."""
    if not text:
        return QUEUES
    queues = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [queue for queue in queues if queue not in QUEUES]
    if unknown or not queues:
        raise UsageError(f"unknown queue {', '.join(unknown) or repr(text)}; use one or more of: {', '.join(QUEUES)}")
    return queues


def run_workers(
    settings: ClusterSettings,
    *,
    processes: int,
    threads: int | None,
    queues: Sequence[str],
    verbose: bool = False,
    metrics: MetricsEndpoint | None = None,
) -> int:
    """Serve until stopped; returns 0 after SIGTERM, 130 after Ctrl-C. With ``metrics``, this process serves
    Prometheus metrics summed over its worker processes."""
    if processes < 1 or (threads is not None and threads < 1):
        raise UsageError("--processes and --threads must be 1 or more")
    check_broker(settings)
    if processes == 1:
        counting = metrics or _counting_for_supervisor()
        if metrics is not None:
            serve_metrics(metrics)
        return serve_one(settings, threads=threads or os.cpu_count() or 1, queues=queues, metrics=counting)
    if metrics is not None:
        serve_metrics(metrics)
    child = [
        "worker",
        "--processes",
        "1",
        "--queues",
        ",".join(queues),
        "--heartbeat-timeout",
        str(settings.heartbeat_timeout_s),
    ]
    child += ["--threads", str(threads)] if threads else []
    child += ["-v"] if verbose else []
    return _supervise(settings, processes, child, metrics)


def _counting_for_supervisor() -> MetricsEndpoint | None:
    """The metrics folder a supervising ``joypix worker --metrics-port`` handed this child, if any."""
    folder = os.environ.get(ENV_METRICS_CHILD, "")
    return MetricsEndpoint("", 0, folder) if folder else None


class _Stopping:
    """The first signal decides how the worker stops; the main thread waits for it."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.interrupted = False

    def on_signal(self, signum: int, frame: Any) -> None:
        self.interrupted = self.interrupted or signum == signal.SIGINT
        self.event.set()


class _CloseOnShutdown(Middleware):
    """Closes the worker's backends on its event loop, before the AsyncIO middleware stops that loop."""

    def __init__(self, context: WorkerContext) -> None:
        self.context = context

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            loop_thread.run_coroutine(self.context.aclose())


def serve_one(
    settings: ClusterSettings,
    *,
    threads: int,
    queues: Sequence[str],
    backends: Mapping[str, BackendFactory] = BACKENDS,
    metrics: MetricsEndpoint | None = None,
) -> int:
    """One worker process with ``threads`` job slots (each a thread waiting on the shared event loop);
    ``backends`` is injectable (benchmarks run jobs that do nothing). With ``metrics``, Dramatiq's Prometheus
    middleware counts this process's messages into the endpoint's folder."""
    broker = make_broker(settings)
    if metrics is not None:
        count_on(broker, metrics)

    def requeue(message: JobMessage, delay_s: float) -> None:
        broker.enqueue(job_message(message.queue, message.to_dict()), delay=int(delay_s * 1000) or None)

    context = WorkerContext(
        settings,
        requeue,
        storage_url=settings.storage_url,
        local_workers=min(threads, os.cpu_count() or 1),
        backends=backends,
    )
    # Last in the list: Dramatiq calls the ``after_`` hooks in reverse order, so this one runs while the
    # AsyncIO middleware's loop still does.
    broker.add_middleware(_CloseOnShutdown(context))

    async def joypix_job(*args: Any, **kwargs: Any) -> None:
        # Anything may be put on the queue: a message that is not a job, or names files outside the storage,
        # is acknowledged (never retried) with one log line, and the worker goes on with the next.
        try:
            if len(args) != 1 or kwargs:
                raise MalformedMessage("its arguments are not one job")
            message = JobMessage.from_dict(args[0])
        except MalformedMessage as error:
            log.error("dropping a queue message that is not a job this worker can do: %s", error)
            return
        await context.execute(message)

    dramatiq.actor(actor_name=ACTOR_NAME, queue_name=QUEUES[0], broker=broker)(joypix_job)
    worker = dramatiq.Worker(broker, queues=set(queues), worker_threads=threads, worker_timeout=WORKER_IDLE_MS)
    # Prefetch no more jobs than slots: a message waiting in one busy worker's memory is one another
    # idle worker cannot take.
    worker.queue_prefetch = threads
    stopping = _Stopping()
    previous = {signum: signal.signal(signum, stopping.on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    presence = Presence(settings, context.name, queues, threads, context.holding)
    try:
        worker.start()
        presence.start()
        log.warning(
            "worker %s on %s: queues %s, %d slot%s",
            context.name,
            settings.public_broker,
            ",".join(queues),
            threads,
            "s" if threads != 1 else "",
        )
        # A process-wide signal may land on any of Dramatiq's threads; Python runs its handler only when
        # the main thread next wakes, so the main thread must wake now and then rather than block for good.
        while not stopping.event.wait(SIGNAL_CHECK_S):
            pass
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            context.hand_back(loop_thread.loop, None if stopping.interrupted else frozenset({"nemo"}))
        log.warning(
            "worker %s stopping (%s)",
            context.name,
            "handing jobs back" if stopping.interrupted else "finishing local renders",
        )
        worker.stop()
    finally:
        presence.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return EXIT_INTERRUPTED if stopping.interrupted else EXIT_OK


def _supervise(
    settings: ClusterSettings, processes: int, child_argv: Sequence[str], metrics: MetricsEndpoint | None
) -> int:
    """Start ``processes`` single-process workers and pass signals on; Ctrl-C reaches them from the terminal."""
    stopping = _Stopping()
    previous = {signum: signal.signal(signum, stopping.on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    # The broker URL (it may hold a password) and the storage URL reach the children through their
    # environment, not their command line, which any user of the machine can list.
    env = {
        **os.environ,
        ENV_BROKER: settings.broker_url,
        **({ENV_STORAGE: settings.storage_url} if settings.storage_url else {}),
    }
    if metrics is not None:
        env[ENV_METRICS_CHILD] = metrics.folder
    children = [
        subprocess.Popen([sys.executable, "-m", "joypix_recipes", *child_argv], env=env) for _ in range(processes)
    ]
    try:
        while not stopping.event.wait(0.5):
            if all(child.poll() is not None for child in children):
                break
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT if stopping.interrupted else signal.SIGTERM)
        codes = [child.wait() for child in children]
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stopping.interrupted:
        return EXIT_INTERRUPTED
    return max((code for code in codes if code > 0), default=EXIT_OK)
