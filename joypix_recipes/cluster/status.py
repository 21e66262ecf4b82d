"""What the farm is doing now, read from Redis in a few round trips: queue depths, workers, jobs in flight, failures.

Queue depths come from Dramatiq's own keys (a queue's list of ready message ids, its delayed twin, and the
hash of every message not yet acknowledged); workers, their jobs and the failures from ``presence``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import redis

from joypix_recipes.cluster.broker import NAMESPACE, QUEUES, redis_client, unreachable
from joypix_recipes.cluster.errors import BrokerError
from joypix_recipes.cluster.presence import COUNTS_KEY, FAILURES_KEY, worker_pattern
from joypix_recipes.cluster.settings import ClusterSettings

_FAILURES_SHOWN = 10


@dataclass(frozen=True)
class QueueDepth:
    """One queue: messages ready to take, waiting out a delay, and held by workers (taken, not yet acknowledged)."""

    name: str
    ready: int
    delayed: int
    held: int


@dataclass(frozen=True)
class WorkerSeen:
    """One worker process as it last announced itself."""

    name: str
    host: str
    pid: int
    queues: str
    slots: int
    heartbeat_age_s: float
    alive: bool
    jobs: tuple[str, ...]


@dataclass(frozen=True)
class FarmStatus:
    """Everything ``joypix farm status`` shows."""

    broker: str
    queues: tuple[QueueDepth, ...]
    workers: tuple[WorkerSeen, ...]
    done: int
    failed: int
    recent_failures: tuple[dict[str, str], ...]

    @property
    def in_flight(self) -> tuple[str, ...]:
        """Jobs the live workers hold now."""
        return tuple(job for worker in self.workers if worker.alive for job in worker.jobs)

    def to_json(self) -> dict[str, object]:
        """The status as plain JSON values."""
        shown = asdict(self)
        shown["in_flight"] = list(self.in_flight)
        plain: dict[str, object] = json.loads(json.dumps(shown))  # tuples as the lists JSON has
        return plain


def read_status(settings: ClusterSettings) -> FarmStatus:
    """The farm's status now; BrokerError with one line when Redis does not answer."""
    client = redis_client(settings.broker_url, timeout_s=10.0)
    try:
        return _read(client, settings)
    except redis.RedisError as error:
        raise BrokerError(unreachable(settings.broker_url, error)) from error
    finally:
        client.close()


def _read(client: redis.Redis, settings: ClusterSettings) -> FarmStatus:
    pipe = client.pipeline(transaction=False)
    for queue in QUEUES:
        full = f"{NAMESPACE}:{queue}"
        pipe.llen(full)
        pipe.llen(f"{full}.DQ")
        pipe.hlen(f"{full}.msgs")
        pipe.hlen(f"{full}.DQ.msgs")
    pipe.hgetall(COUNTS_KEY)
    pipe.lrange(FAILURES_KEY, 0, _FAILURES_SHOWN - 1)
    replies = pipe.execute()
    queues = []
    for index, queue in enumerate(QUEUES):
        ready, delayed, stored, stored_delayed = (int(value) for value in replies[index * 4 : index * 4 + 4])
        queues.append(QueueDepth(queue, ready, delayed, max(0, stored + stored_delayed - ready - delayed)))
    counts = {_text(key): int(value) for key, value in replies[-2].items()}
    failures = tuple(json.loads(_text(item)) for item in replies[-1])
    keys = list(client.scan_iter(worker_pattern(), count=1000))
    now = time.time()
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    workers = [
        _worker(_text(key).removeprefix(worker_pattern()[:-1]), fields, now, settings)
        for key, fields in zip(keys, pipe.execute(), strict=True)
        if fields
    ]
    return FarmStatus(
        settings.public_broker, tuple(queues), tuple(sorted(workers, key=lambda seen: (seen.host, seen.pid))),
        counts.get("done", 0), counts.get("failed", 0), failures,
    )


def _worker(name: str, raw: dict[bytes, bytes], now: float, settings: ClusterSettings) -> WorkerSeen:
    fields = {_text(key): _text(value) for key, value in raw.items()}
    age = max(0.0, now - float(fields.get("heartbeat", "0") or 0))
    return WorkerSeen(
        name=name, host=fields.get("host", "?"), pid=int(fields.get("pid", "0") or 0), queues=fields.get("queues", ""),
        slots=int(fields.get("slots", "0") or 0), heartbeat_age_s=round(age, 1),
        alive=age <= settings.heartbeat_timeout_s, jobs=tuple(json.loads(fields.get("jobs", "[]") or "[]")),
    )


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
