"""Each job identity's record and lease in Redis: the farm-wide truth of what is queued, running and done.

The record (a hash) says which submission owns the job, its state, the cloud ids to re-attach to, and
where the output lies in storage. The lease (a key with a time to live) is held by the one worker
working on the job and renewed while it works; every write a worker makes checks it still holds it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

import redis.asyncio as aioredis

from joypix_recipes.cluster.broker import CONNECT_TIMEOUT_S, NAMESPACE
from joypix_recipes.cluster.presence import COUNTS_KEY, FAILURES_KEPT, FAILURES_KEY

MAX_CONNECTIONS = 32
GLANCE_FIELDS = ("state", "submission", "stage", "worker")
GLANCE_CHUNK = 1000
"""Records compared per script call: one call holds Redis for well under a millisecond per thousand."""
UNSEEN = "\x00"
"""A glance no record has (a record's glance never holds a NUL): the next comparison returns the record."""
_SEPARATOR = "\x1f"


class State(StrEnum):
    """Where a job stands on the farm."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Record:
    """A job's record as read from Redis."""

    identity: str
    state: State
    submission: str
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """One field, or None when absent or empty."""
        return self.fields.get(name) or None

    def texts(self, name: str) -> tuple[str, ...]:
        """A field holding a JSON list of strings."""
        raw = self.fields.get(name)
        return tuple(str(item) for item in json.loads(raw)) if raw else ()


def record_key(identity: str) -> str:
    """The Redis hash of one job identity."""
    return f"{NAMESPACE}:job:{identity}"


def lease_key(identity: str) -> str:
    """The Redis key whose value names the worker holding the job."""
    return f"{NAMESPACE}:lease:{identity}"


PAID_FIELDS = ("ledger", "session_id", "render_id")
"""What a failed job's record keeps through a new submission: what its attempts paid for on the cloud."""

# A new submission takes over a record that is absent, failed, or (with force) anything not running.
# It starts afresh (no keeping time, no attempts, no error), but a failed job, unless forced, keeps
# what it paid for, so the next attempt settles it with the service instead of paying again.
# KEYS = record; ARGV = submission, now, '1' for force, then the PAID_FIELDS.
_CLAIM = """
local state = redis.call('hget', KEYS[1], 'state')
if state == 'queued' or state == 'running' or (state == 'done' and ARGV[3] ~= '1') then
  return redis.call('hget', KEYS[1], 'submission')
end
local kept = {}
if state == 'failed' and ARGV[3] ~= '1' then
  for index = 4, #ARGV do
    local value = redis.call('hget', KEYS[1], ARGV[index])
    if value then
      table.insert(kept, ARGV[index])
      table.insert(kept, value)
    end
  end
end
redis.call('del', KEYS[1])
redis.call('hset', KEYS[1], 'state', 'queued', 'submission', ARGV[1], 'queued_at', ARGV[2], unpack(kept))
return ARGV[1]
"""

# Writes by the lease holder only (a lapsed lease nobody took since still counts as ours, but not one
# whose record names another attempt's token: that worker may have finished and let its lease go); a
# job's last write (done or failed) also gives the record the time it lives on.
# KEYS = record, lease; ARGV = token, ms to keep the record ('' for no change), then field/value pairs.
_HOLDER_WRITE = """
local holder = redis.call('get', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
local owner = redis.call('hget', KEYS[1], 'holder')
if owner and owner ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 3))
if ARGV[2] ~= '' then redis.call('pexpire', KEYS[1], ARGV[2]) end
return 1
"""

# A job's last write (done or failed), in one round trip: the holder's write as above with the time the
# record lives on, the farm's count of such outcomes (once, even when a lost reply makes the worker send
# it again: only a record not yet in that state counts), a failure among the latest ones, and the lease
# let go. KEYS = record, lease, counts, failures; ARGV = token, ms to keep the record, the outcome (the
# state it writes), a failure as JSON ('' for none), failures kept, then field/value pairs.
_FINISH = """
local holder = redis.call('get', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
local owner = redis.call('hget', KEYS[1], 'holder')
if owner and owner ~= ARGV[1] then return 0 end
local before = redis.call('hget', KEYS[1], 'state')
redis.call('hset', KEYS[1], 'state', ARGV[3], unpack(ARGV, 6))
redis.call('pexpire', KEYS[1], ARGV[2])
if before ~= ARGV[3] then
  redis.call('hincrby', KEYS[3], ARGV[3], 1)
  if ARGV[4] ~= '' then
    redis.call('lpush', KEYS[4], ARGV[4])
    redis.call('ltrim', KEYS[4], 0, tonumber(ARGV[5]) - 1)
  end
end
if holder then redis.call('del', KEYS[2]) end
return 1
"""

# A worker starting a job, in one round trip: drop it unless this submission owns a job still to do,
# wait if another worker holds the lease, else take the lease, count the attempt and mark it running.
# The same token asking again (its first reply lost to a broker restart) gets the start it already
# made, counted once.
# KEYS = record, lease; ARGV = token, submission, lease ms, worker name, now.
_START = """
local state = redis.call('hget', KEYS[1], 'state')
if not state or state == 'done' or state == 'failed' or redis.call('hget', KEYS[1], 'submission') ~= ARGV[2] then
  return {'stale', state or 'missing'}
end
local holder = redis.call('get', KEYS[2])
if holder == ARGV[1] then
  redis.call('pexpire', KEYS[2], ARGV[3])
elseif holder then
  return {'leased', state}
else
  redis.call('set', KEYS[2], ARGV[1], 'px', ARGV[3])
  redis.call('hincrby', KEYS[1], 'attempts', 1)
  redis.call('hset', KEYS[1], 'state', 'running', 'worker', ARGV[4], 'holder', ARGV[1], 'started_at', ARGV[5], 'stage', 'starting')
end
local reply = redis.call('hgetall', KEYS[1])
table.insert(reply, 1, 'started')
return reply
"""

_NOTE = """
if redis.call('hget', KEYS[1], 'submission') ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV, 2))
return 1
"""

# A lease that lapsed while its holder was busy (a stalled loop, a broker restart) is taken back,
# unless another worker took it meanwhile.
# KEYS = lease, record; ARGV = token, lease ms. A lapsed lease is taken back only while the record
# still names this attempt as its holder and the job still runs.
_RENEW = """
local holder = redis.call('get', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
if KEYS[2] and (redis.call('hget', KEYS[2], 'holder') ~= ARGV[1] or redis.call('hget', KEYS[2], 'state') ~= 'running') then
  return 0
end
redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2])
return 1
"""

# The glances (GLANCE_FIELDS joined by the unit separator) of the records whose glance differs from the
# one the follower last saw, as index/glance pairs: a follower of many jobs is sent only what changed.
# KEYS = records; ARGV = the glance last seen of each, in the same order.
_CHANGED = """
local changed = {}
for index = 1, #KEYS do
  local values = redis.call('hmget', KEYS[index], 'state', 'submission', 'stage', 'worker')
  local glance = (values[1] or '') .. '\\31' .. (values[2] or '') .. '\\31' .. (values[3] or '') .. '\\31' .. (values[4] or '')
  if glance ~= ARGV[index] then
    table.insert(changed, index)
    table.insert(changed, glance)
  end
end
return changed
"""

# Many leases renewed in one round trip, each as _RENEW above.
# KEYS = lease, record of each job in turn; ARGV = lease ms, then each job's token. Returns 1 or 0 per job.
_RENEW_MANY = """
local renewed = {}
for index = 1, #KEYS / 2 do
  local lease, record, token = KEYS[2 * index - 1], KEYS[2 * index], ARGV[index + 1]
  local holder = redis.call('get', lease)
  if (holder and holder ~= token) or redis.call('hget', record, 'holder') ~= token
      or redis.call('hget', record, 'state') ~= 'running' then
    renewed[index] = 0
  else
    redis.call('set', lease, token, 'px', ARGV[1])
    renewed[index] = 1
  end
end
return renewed
"""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Ledger:
    """Job records and leases over one asyncio Redis connection pool."""

    def __init__(self, url: str) -> None:
        # A blocking pool: a thousand jobs followed at once wait their turn for a connection instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=None,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=30.0,
            decode_responses=True,
        )
        self.client: aioredis.Redis = aioredis.Redis(connection_pool=pool)
        self._claim = self.client.register_script(_CLAIM)
        self._note = self.client.register_script(_NOTE)
        self._start = self.client.register_script(_START)
        self._holder_write = self.client.register_script(_HOLDER_WRITE)
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)
        self._changed = self.client.register_script(_CHANGED)
        self._finish = self.client.register_script(_FINISH)
        self._renew_many = self.client.register_script(_RENEW_MANY)

    async def aclose(self) -> None:
        """Close the connections (a pool handed to the client is not closed with it unless asked)."""
        await self.client.aclose(close_connection_pool=True)

    async def read(self, identity: str) -> Record | None:
        """The record of one identity, or None when the farm has never seen it."""
        return _record(identity, cast(dict[str, str], await self.client.hgetall(record_key(identity))))

    async def read_many(self, identities: list[str]) -> list[Record | None]:
        """Records of many identities in one round trip."""
        async with self.client.pipeline(transaction=False) as pipe:
            for identity in identities:
                pipe.hgetall(record_key(identity))
            replies = await pipe.execute()
        return [_record(identity, reply) for identity, reply in zip(identities, replies)]

    async def glance_many(self, identities: list[str]) -> list[Record | None]:
        """State, stage and worker of many identities in one round trip (what following needs each tick)."""
        async with self.client.pipeline(transaction=False) as pipe:
            for identity in identities:
                pipe.hmget(record_key(identity), GLANCE_FIELDS)
            replies = await pipe.execute()
        return [
            _record(identity, {name: value for name, value in zip(GLANCE_FIELDS, reply) if value is not None})
            for identity, reply in zip(identities, replies)
        ]

    async def glance_changed(self, seen: dict[str, str]) -> dict[str, tuple[str, Record | None]]:
        """The records whose glance (state, submission, stage, worker) differs from ``seen`` (identity -> the
        glance last seen, ``UNSEEN`` for none): identity -> (its glance now, the record as far as the glance
        goes, None when absent). The comparison runs in Redis, so an unchanged record costs no reply."""
        identities = list(seen)
        changed: dict[str, tuple[str, Record | None]] = {}
        for first in range(0, len(identities), GLANCE_CHUNK):
            chunk = identities[first : first + GLANCE_CHUNK]
            reply = await self._changed(
                keys=[record_key(identity) for identity in chunk], args=[seen[i] for i in chunk]
            )
            for index, glance in zip(reply[::2], reply[1::2]):
                identity = chunk[int(index) - 1]
                values = dict(zip(GLANCE_FIELDS, str(glance).split(_SEPARATOR)))
                changed[identity] = (
                    str(glance),
                    _record(identity, {name: value for name, value in values.items() if value}),
                )
        return changed

    async def claim(self, identity: str, submission: str, *, force: bool = False) -> str:
        """Make ``submission`` the job's owner unless one is queued, running or done; returns the owner.

        A failed record keeps its ``PAID_FIELDS`` unless ``force`` (which, as in a local run, pays again).
        """
        owner = await self._claim(
            keys=[record_key(identity)], args=[submission, _now(), "1" if force else "0", *PAID_FIELDS]
        )
        return str(owner)

    async def note(self, identity: str, submission: str, **values: str) -> None:
        """Set fields on the record if ``submission`` still owns it (the producer's own notes)."""
        pairs = [item for pair in values.items() for item in pair]
        await self._note(keys=[record_key(identity)], args=[submission, *pairs])

    async def start(
        self, identity: str, submission: str, token: str, lease_s: float, worker: str
    ) -> tuple[str, Record | None]:
        """("started", the record now running under our lease), ("leased", None) or ("stale", None)."""
        reply = await self._start(
            keys=[record_key(identity), lease_key(identity)],
            args=[token, submission, int(lease_s * 1000), worker, _now()],
        )
        outcome, rest = str(reply[0]), [str(item) for item in reply[1:]]
        if outcome != "started":
            return outcome, None
        return outcome, _record(identity, dict(zip(rest[::2], rest[1::2])))

    async def renew_lease(self, identity: str, token: str, lease_s: float) -> bool:
        """Extend the lease; False when it lapsed and someone else may hold it now."""
        return bool(
            await self._renew(keys=[lease_key(identity), record_key(identity)], args=[token, int(lease_s * 1000)])
        )

    async def renew_leases(self, held: list[tuple[str, str]], lease_s: float) -> list[bool]:
        """``renew_lease`` for many (identity, token) pairs in one round trip, in their order."""
        keys = [key for identity, _ in held for key in (lease_key(identity), record_key(identity))]
        reply = await self._renew_many(keys=keys, args=[int(lease_s * 1000), *(token for _, token in held)])
        return [bool(int(item)) for item in reply]

    async def release_lease(self, identity: str, token: str) -> None:
        """Give the lease up, if still ours."""
        await self._release(keys=[lease_key(identity)], args=[token])

    async def holder_write(self, identity: str, token: str, *, keep_s: float | None = None, **values: Any) -> bool:
        """Set fields as the lease holder; False (nothing written) when the lease is no longer ours.

        ``keep_s`` is given with a job's last write (done or failed): the record expires that much later.
        """
        keep = "" if keep_s is None else str(int(keep_s * 1000))
        return bool(
            await self._holder_write(
                keys=[record_key(identity), lease_key(identity)], args=[token, keep, *_pairs(values)]
            )
        )

    async def finish(
        self,
        identity: str,
        token: str,
        outcome: State,
        values: dict[str, Any],
        *,
        keep_s: float,
        failure: dict[str, str] | None = None,
    ) -> bool:
        """The holder's last write: ``outcome`` (done or failed) and ``values``, the record kept ``keep_s`` more,
        the outcome counted and ``failure`` remembered for ``farm status``, and the lease let go; False
        (nothing written) when the lease is no longer ours."""
        args = [
            token,
            str(int(keep_s * 1000)),
            outcome.value,
            json.dumps(failure) if failure else "",
            str(FAILURES_KEPT),
        ]
        keys = [record_key(identity), lease_key(identity), COUNTS_KEY, FAILURES_KEY]
        return bool(await self._finish(keys=keys, args=[*args, *_pairs(values)]))


def _pairs(values: dict[str, Any]) -> list[str]:
    pairs: list[str] = []
    for name, value in values.items():
        pairs += [name, value if isinstance(value, str) else json.dumps(value)]
    return pairs


def _record(identity: str, fields: dict[str, str]) -> Record | None:
    if not fields or fields.get("state") not in tuple(State):
        return None
    return Record(identity, State(fields["state"]), fields.get("submission", ""), dict(fields))


def _now() -> str:
    return f"{time.time():.3f}"


def holder_write_now(client: Any, identity: str, token: str, values: dict[str, str]) -> bool:
    """``Ledger.holder_write`` over a blocking client, for reporters that must not return before it is stored.

    Sent by the script's hash (EVALSHA, loading it once when Redis does not know it), not its text each time.
    """
    pairs = [item for pair in values.items() for item in pair]
    script = client.register_script(_HOLDER_WRITE)
    return bool(script(keys=[record_key(identity), lease_key(identity)], args=[token, "", *pairs]))
