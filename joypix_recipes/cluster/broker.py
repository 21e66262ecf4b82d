"""The Dramatiq broker on Redis: one actor, one queue per backend, and a heartbeat timeout we choose.

Dramatiq's Redis broker hands a message back to the queue only when the worker holding it stops sending
heartbeats, never because a job is slow, so a cloud render that takes an hour stays with its worker.
"""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from joypix_recipes.cluster.errors import BrokerError
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.redact import redact

NAMESPACE = "joypix"
ACTOR_NAME = "joypix_job"
QUEUES = ("local", "nemo")
"""One queue per backend, so machines can specialise with ``joypix worker --queues``."""

CONNECT_TIMEOUT_S = 5.0
_MAINTENANCE_SCALE = 1_000_000


def redis_client(url: str, timeout_s: float = 30.0) -> redis.Redis:
    """A blocking client with short connect timeouts (an unreachable broker should say so quickly);
    ``timeout_s`` bounds each command, and the connect timeout too when it is shorter."""
    return redis.Redis.from_url(url, socket_connect_timeout=min(CONNECT_TIMEOUT_S, timeout_s), socket_timeout=timeout_s)


def make_broker(settings: ClusterSettings) -> RedisBroker:
    """The broker every producer and worker uses, with the queues declared and async actors enabled."""
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        client=redis_client(settings.broker_url),
        namespace=NAMESPACE,
        heartbeat_timeout=int(settings.heartbeat_timeout_s * 1000),
        maintenance_chance=maintenance_chance(settings.heartbeat_timeout_s),
        # No Retries (a failed job is recorded, not retried behind the user's back), no TimeLimit (a
        # cloud render may take longer than any fixed limit), no AgeLimit.
        middleware=[AsyncIO()],
    )
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


def maintenance_chance(heartbeat_timeout_s: float) -> int:
    """Per-million chance that a broker command also requeues dead workers' messages.

    Dramatiq's default (one in a thousand) can leave a dead worker's job waiting many minutes on an idle
    farm; scaling it with the timeout brings it back within about two timeouts at a cost of one more
    Redis scan per minute or so per worker.
    """
    return int(min(_MAINTENANCE_SCALE, _MAINTENANCE_SCALE / max(1.0, heartbeat_timeout_s)))


def job_message(queue: str, payload: dict[str, object]) -> dramatiq.Message[object]:
    """The Dramatiq message that carries one job to a worker of ``queue``."""
    return dramatiq.Message(queue_name=queue, actor_name=ACTOR_NAME, args=(payload,), kwargs={}, options={})


def check_broker(settings: ClusterSettings) -> float:
    """Ping the broker; returns the round trip in seconds, or raises BrokerError with a one-line reason."""
    import time

    client = redis_client(settings.broker_url)
    started = time.monotonic()
    try:
        client.ping()
    except redis.RedisError as e:
        raise BrokerError(unreachable(settings.broker_url, e)) from e
    finally:
        client.close()
    return time.monotonic() - started


def unreachable(url: str, error: BaseException) -> str:
    """The one line that says the broker is not answering, without its password."""
    reason = str(error).split("\n")[0] or type(error).__name__
    return f"cannot reach the broker at {redact(url)} ({reason}); check that Redis runs there and the URL is right"
