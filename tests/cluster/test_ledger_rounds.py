"""The ledger's one-round-trip writes and reads: a follower is sent only the records that changed, a job's
last write counts its outcome once, however often a lost reply makes the worker send it, and one round
renews every lease a worker holds."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from helpers.jobs import make_job

from cluster.conftest import RedisServer
from joypix_recipes.cluster.errors import LeaseLostError
from joypix_recipes.cluster.ledger import UNSEEN, Ledger, State, lease_key, record_key
from joypix_recipes.cluster.message import JobMessage
from joypix_recipes.cluster.presence import COUNTS_KEY, FAILURES_KEY
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.cluster.worker import WorkerContext, _LedgerReporter

pytestmark = pytest.mark.timeout(60)


def test_a_follower_is_sent_only_the_records_that_changed_since_it_looked(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        ledger = Ledger(redis_server.url)
        try:
            for identity in ("a", "b"):
                await ledger.claim(identity, f"sub-{identity}")
            first = await ledger.glance_changed({"a": UNSEEN, "b": UNSEEN, "gone": UNSEEN})
            assert set(first) == {"a", "b", "gone"}
            record = first["a"][1]
            assert record is not None and record.state == State.QUEUED and record.submission == "sub-a"
            assert first["gone"][1] is None
            seen = {identity: glance for identity, (glance, _) in first.items()}
            assert await ledger.glance_changed(seen) == {}

            await ledger.start("b", "sub-b", "token-b", 30.0, "worker-1")
            assert await ledger.holder_write("b", "token-b", stage="step 1/3")
            changed = await ledger.glance_changed(seen)
            assert list(changed) == ["b"]
            running = changed["b"][1]
            assert running is not None and running.state == State.RUNNING
            assert running.get("stage") == "step 1/3" and running.get("worker") == "worker-1"
        finally:
            await ledger.aclose()

    asyncio.run(scenario())


def test_the_last_write_counts_once_remembers_a_failure_and_lets_the_lease_go(redis_server: RedisServer) -> None:
    client = redis_server.client()

    async def scenario() -> None:
        ledger = Ledger(redis_server.url)
        try:
            await ledger.claim("job", "sub")
            await ledger.start("job", "sub", "token", 30.0, "worker-1")
            failure = {"identity": "job", "error": "no"}
            values = {"stage": "failed", "error": "no"}
            for _ in range(2):  # the second as after a reply lost to a broker restart
                assert await ledger.finish("job", "token", State.FAILED, values, keep_s=60.0, failure=failure)
            assert client.hget(record_key("job"), "state") == "failed"
            assert client.get(lease_key("job")) is None
            assert 0 < client.pttl(record_key("job")) <= 60_000
            assert client.hget(COUNTS_KEY, "failed") == "1"
            assert [json.loads(item) for item in client.lrange(FAILURES_KEY, 0, -1)] == [failure]

            await ledger.claim("other", "sub2")
            await ledger.start("other", "sub2", "token2", 30.0, "worker-1")
            client.set(lease_key("other"), "someone-else")
            assert not await ledger.finish("other", "token2", State.DONE, {"stage": "done"}, keep_s=60.0)
            assert client.hget(record_key("other"), "state") == "running"
            assert client.get(lease_key("other")) == "someone-else"
            assert client.hget(COUNTS_KEY, "done") is None
        finally:
            await ledger.aclose()

    asyncio.run(scenario())


def test_one_round_renews_every_lease_held_and_stops_the_job_whose_lease_was_taken(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    client = redis_server.client()
    lease_s = 0.6

    async def scenario() -> None:
        context = WorkerContext(ClusterSettings(redis_server.url, heartbeat_timeout_s=lease_s), requeue=lambda *_: None)
        reporters = {}
        try:
            for identity in ("a", "b"):
                await context.ledger.claim(identity, f"sub-{identity}")
                await context.ledger.start(identity, f"sub-{identity}", f"token-{identity}", lease_s, "worker-1")
                message = JobMessage(identity, f"sub-{identity}", make_job(tmp_path / "a.jpg"), None, tmp_path.as_uri())
                reporters[identity] = _LedgerReporter(context, message, f"token-{identity}")
                context.renewals.hold(f"token-{identity}", identity, reporters[identity])
            await asyncio.sleep(lease_s * 2)  # past the lease: only the renewals keep it
            assert client.get(lease_key("a")) == "token-a" and client.get(lease_key("b")) == "token-b"
            client.set(lease_key("b"), "someone-else")
            await asyncio.sleep(lease_s)
            assert reporters["a"].stopped is None
            assert isinstance(reporters["b"].stopped, LeaseLostError)
            assert set(context.renewals.held) == {"token-a"}
            assert client.get(lease_key("a")) == "token-a"
        finally:
            await context.aclose()

    asyncio.run(scenario())
