"""The Dramatiq broker on Redis: one actor, one queue per backend, and a heartbeat timeout we choose.

Dramatiq's Redis broker hands a message back to the queue only when the worker holding it stops sending
heartbeats, never because a job is slow, so a cloud render that takes an hour stays with its worker.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import dramatiq
import redis
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
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
INTERRUPT_CHECK_S = 2.0
"""How often a slot's thread, waiting for its job on the event loop, wakes to look for an interrupt."""
_MAINTENANCE_SCALE = 1_000_000
_MESSAGE_FIELDS = {"queue_name", "actor_name", "args", "kwargs", "options", "message_id", "message_timestamp"}

log = logging.getLogger("joypix_recipes.cluster")


class _GuardedRedisBroker(RedisBroker):
    """Dramatiq's Redis broker, but a message on the queue that is not one of ours (undecodable, another
    actor's, the wrong shape) is dropped with one log line instead of crashing the consumer with a traceback
    and coming back forever."""

    def do_fetch(self, queue_name: str, prefetch: int) -> list[Any]:
        fetched: list[Any] = self._dispatch("fetch")(queue_name, prefetch)  # type: ignore[no-untyped-call]
        kept = []
        for data in fetched:
            problem = message_problem(data, queue_name)
            if problem is None:
                kept.append(data)
                continue
            log.error("dropping a message on queue %s that is not a joypix job message: %s", queue_name, problem)
            if data is not None:  # a missing body leaves nothing behind to remove
                self._drop(queue_name, data)
        return kept

    def _drop(self, queue_name: str, data: bytes) -> None:
        """Acknowledge the message whose body is ``data``: fetching gave the body, not the id it is stored under."""
        stored = f"{self.namespace}:{queue_name}.msgs"
        try:
            for message_id, body in self.client.hscan_iter(stored):
                if body == data:
                    self.do_ack(queue_name, message_id.decode() if isinstance(message_id, bytes) else message_id)
        except redis.RedisError as error:
            log.warning("could not remove that message from queue %s yet: %s", queue_name, redact(str(error)))


class _QuietAsyncIO(AsyncIO):
    """Dramatiq's AsyncIO middleware, with each slot's waiting thread waking every INTERRUPT_CHECK_S instead
    of ten times a second. Only a time limit or shutdown notifications would interrupt a slot's thread, and
    this broker has neither (stopping cancels a job's task on the loop); 64 slots waking ten times a second
    each cost a worker more CPU than all its jobs' Redis traffic."""

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        loop_thread = EventLoopThread(self.logger, interrupt_check_ival=INTERRUPT_CHECK_S)
        loop_thread.start(timeout=1.0)
        set_event_loop_thread(loop_thread)


def message_problem(data: object, queue_name: str) -> str | None:
    """Why ``data`` (a message body from ``queue_name``) is not a job message this worker can take, or None."""
    if data is None:
        return "its body is missing"
    try:
        fields = json.loads(data.decode("utf-8") if isinstance(data, bytes) else str(data))
    except (UnicodeDecodeError, ValueError):
        return "it is not JSON"
    if not isinstance(fields, dict):
        return "it is not a JSON object"
    if not {"queue_name", "actor_name", "args", "kwargs", "options"} <= fields.keys() <= _MESSAGE_FIELDS:
        return "it does not have a Dramatiq message's fields"
    options = fields["options"]
    if fields["queue_name"] != queue_name:
        return "it names another queue"
    if fields["actor_name"] != ACTOR_NAME:
        return "it is for another actor"
    if not (isinstance(fields["args"], list) and len(fields["args"]) == 1 and isinstance(fields["args"][0], dict)):
        return "its arguments are not one job"
    if fields["kwargs"] != {}:
        return "it has keyword arguments"
    if not (isinstance(options, dict) and isinstance(options.get("redis_message_id"), str)):
        return "its options are not a Redis message's"
    if not isinstance(options.get("eta", 0), int | None) or isinstance(options.get("eta"), bool):
        return "its eta is not a time"
    if not isinstance(fields.get("message_id", ""), str) or not isinstance(fields.get("message_timestamp", 0), int):
        return "its id or timestamp has the wrong type"
    return None


def redis_client(url: str, timeout_s: float = 30.0) -> redis.Redis:
    """A blocking client with short connect timeouts (an unreachable broker should say so quickly);
    ``timeout_s`` bounds each command, and the connect timeout too when it is shorter."""
    return redis.Redis.from_url(url, socket_connect_timeout=min(CONNECT_TIMEOUT_S, timeout_s), socket_timeout=timeout_s)


def make_broker(settings: ClusterSettings) -> RedisBroker:
    """The broker every producer and worker uses, with the queues declared and async actors enabled."""
    broker = _GuardedRedisBroker(  # type: ignore[no-untyped-call]
        client=redis_client(settings.broker_url),
        namespace=NAMESPACE,
        heartbeat_timeout=int(settings.heartbeat_timeout_s * 1000),
        maintenance_chance=maintenance_chance(settings.heartbeat_timeout_s),
        # No Retries (a failed job is recorded, not retried behind the user's back), no TimeLimit (a
        # cloud render may take longer than any fixed limit), no AgeLimit.
        middleware=[_QuietAsyncIO()],
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
