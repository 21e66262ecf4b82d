"""Each worker process's presence in Redis: its host, pid, queues and the jobs it holds, renewed like a heartbeat.

``joypix farm status`` reads these small hashes instead of scanning every job record, so what it costs
does not grow with the number of jobs the farm keeps. A hash outlives its worker by a few heartbeats
only; a worker silent longer than the heartbeat timeout is shown as gone before it disappears.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis
import redis.asyncio as aioredis

from joypix_recipes.cluster.broker import NAMESPACE, redis_client
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.redact import redact

log = logging.getLogger("joypix_recipes.cluster")

FAILURES_KEPT = 100
"""How many recent failures the farm remembers for ``farm status``."""
_EXPIRY_HEARTBEATS = 3


def worker_key(name: str) -> str:
    """The Redis hash of one worker process."""
    return f"{NAMESPACE}:worker:{name}"


def worker_pattern() -> str:
    """The pattern every worker hash matches."""
    return f"{NAMESPACE}:worker:*"


FAILURES_KEY = f"{NAMESPACE}:failures"
"""A capped list of the latest failures (JSON objects, newest first)."""
COUNTS_KEY = f"{NAMESPACE}:counts"
"""Jobs finished and failed since the farm's Redis began (a hash of two counters)."""


class Presence:
    """Writes this worker's hash now and every third of a heartbeat timeout until stopped, from a thread."""

    def __init__(
        self, settings: ClusterSettings, name: str, queues: Sequence[str], slots: int, jobs: Callable[[], Sequence[str]]
    ) -> None:
        self.settings, self.name, self.jobs = settings, name, jobs
        self.interval_s = max(0.2, settings.heartbeat_timeout_s / 3)
        self.fixed = {
            "host": socket.gethostname(), "pid": str(os.getpid()), "queues": ",".join(queues), "slots": str(slots),
            "started_at": f"{time.time():.3f}",
        }
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="joypix-presence", daemon=True)
        self._client = redis_client(settings.broker_url, timeout_s=max(1.0, self.interval_s))

    def start(self) -> None:
        """Begin announcing this worker."""
        self._thread.start()

    def stop(self) -> None:
        """Stop announcing and remove the hash (a worker that stops cleanly is gone at once)."""
        self._stop.set()
        self._thread.join(self.interval_s + 5)
        try:
            self._client.delete(worker_key(self.name))
        except redis.RedisError:
            pass  # it expires on its own
        self._client.close()

    def beat(self) -> None:
        """Write the hash once, with the jobs held now and the time."""
        key = worker_key(self.name)
        values: dict[Any, Any] = {**self.fixed, "heartbeat": f"{time.time():.3f}", "jobs": json.dumps(sorted(self.jobs()))}
        pipe = self._client.pipeline(transaction=False)
        pipe.hset(key, mapping=values)
        pipe.pexpire(key, int(self.settings.heartbeat_timeout_s * _EXPIRY_HEARTBEATS * 1000))
        pipe.execute()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except redis.RedisError as error:
                log.debug("could not announce worker %s: %s", self.name, redact(str(error)))
            self._stop.wait(self.interval_s)


async def count_outcome(client: aioredis.Redis, outcome: str, failure: dict[str, str] | None = None) -> None:
    """Count a finished or failed job, and remember a failure among the latest ones."""
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(COUNTS_KEY, outcome, 1)
    if failure is not None:
        pipe.lpush(FAILURES_KEY, json.dumps(failure))
        pipe.ltrim(FAILURES_KEY, 0, FAILURES_KEPT - 1)
    await pipe.execute()
