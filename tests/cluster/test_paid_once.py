"""A cloud job on the farm is paid for once: a worker unsure of its lease pays for nothing more, and a
failed job run again keeps what it paid for."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from helpers.jobs import make_job
from helpers.waiting import wait_until

from cluster.conftest import Farm, RedisServer, finish, write_batch
from cluster.test_farm import done_lines
from joypix_recipes.backends.ledger import Ledger as PaidLedger
from joypix_recipes.cluster.errors import LeaseLostError, LedgerUnwritableError
from joypix_recipes.cluster.ledger import Ledger, lease_key, record_key
from joypix_recipes.cluster.message import JobMessage
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.cluster.worker import WorkerContext, _LedgerReporter

pytestmark = pytest.mark.timeout(150)

THREE_STEPS = """\
version: 1
name: farm-three-steps
backend: nemo
inputs: ["photos/*.jpg"]
steps:
  - animate: {motion: zoom-in, duration: 1}
  - text: {content: Hello, position: top}
  - text: {content: Bye, position: bottom}
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
"""

PAID = PaidLedger(session_id="session-1", basis="basis", steps=("step-1",))


def _reporter(redis_server: RedisServer, tmp_path: Path, lease_s: float = 30.0) -> _LedgerReporter:
    """The reporter of a job the worker "worker-a:1" has started, against the real Redis."""

    async def start() -> None:
        ledger = Ledger(redis_server.url)
        try:
            await ledger.claim("job1", "submission1")
            await ledger.start("job1", "submission1", "worker-a:1", lease_s, "worker-a")
        finally:
            await ledger.aclose()

    asyncio.run(start())
    image = tmp_path / "a.jpg"
    message = JobMessage("job1", "submission1", make_job(image), None, tmp_path.as_uri(), input_hash="ab" * 32)
    context = WorkerContext(ClusterSettings(redis_server.url, heartbeat_timeout_s=lease_s), requeue=lambda *_: None)
    return _LedgerReporter(context, message, "worker-a:1")


def test_a_checkpoint_the_lease_holder_refuses_raises_and_every_later_one_too(redis_server: RedisServer, tmp_path: Path) -> None:
    reporter = _reporter(redis_server, tmp_path)
    client = redis_server.client()
    reporter.record(PAID)
    assert client.hget(record_key("job1"), "session_id") == "session-1"

    client.set(lease_key("job1"), "worker-b:1")  # another worker took the job over
    with pytest.raises(LeaseLostError, match="^lost the lease of this job; another worker carries it on$"):
        reporter.record(PAID.with_step("step-2"))
    client.set(lease_key("job1"), "worker-a:1")  # even with the lease back, this worker has stopped paying
    with pytest.raises(LeaseLostError):
        reporter.record(PAID.with_step("step-2"))
    assert PaidLedger.from_json(client.hget(record_key("job1"), "ledger")) == PAID
    reporter.context.client.close()


def test_a_lease_the_renewal_found_lost_stops_the_next_checkpoint_before_it_is_written(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    reporter = _reporter(redis_server, tmp_path)
    reporter.lose_lease()
    with pytest.raises(LeaseLostError):
        reporter.record(PAID)
    assert redis_server.client().hget(record_key("job1"), "ledger") is None  # the lease is still ours: nothing was tried
    reporter.context.client.close()


def test_a_checkpoint_redis_cannot_take_within_a_quarter_lease_raises_instead_of_holding_the_loop(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    reporter = _reporter(redis_server, tmp_path, lease_s=2.0)
    redis_server.stop()
    began = time.monotonic()
    with pytest.raises(LedgerUnwritableError) as caught:
        reporter.record(PAID)
    assert time.monotonic() - began < 2.0 / 4 + 1.0
    assert str(caught.value).startswith("cannot record what this job is about to pay for (")
    assert "\n" not in str(caught.value)
    again = time.monotonic()
    with pytest.raises(LedgerUnwritableError):
        reporter.record(PAID)
    assert time.monotonic() - again < 0.1  # it did not try again: this worker has stopped paying for the job
    reporter.context.client.close()


def _worker_logs(farm: Farm) -> str:
    return "".join(log.read_text() for log in sorted(farm.root.glob("worker*.log")))


def test_a_worker_losing_its_lease_mid_turn_stops_paying_and_the_job_is_finished_without_paying_twice(
    farm: Farm, tmp_path: Path
) -> None:
    from joypix_recipes.emulator import Emulator, Knobs

    recipe = write_batch(tmp_path / "batch", count=1, recipe=THREE_STEPS)
    knobs = Knobs(turn_latency=1.5, stub_render=True, no_text_ratio=0.0, heartbeat_interval=0.2)
    cloud = {"JOYPIX_HOME": str(tmp_path / "home"), "JOYPIX_POLL_INTERVAL": "0.1"}
    with Emulator(knobs=knobs, workdir=tmp_path / "emulator") as emulator:
        farm.worker(env=cloud)
        farm.worker(env=cloud)
        submitter = farm.run(recipe, tmp_path / "out", "--base-url", emulator.base_url)
        wait_until(lambda: emulator.state.counters.turns == 1, 60, "no turn started", process=submitter)
        (identity,) = farm.records()
        client = farm.redis.client()
        client.set(lease_key(identity), "thief:1")  # taken over while the first turn is in flight
        wait_until(lambda: "lost the lease of this job" in _worker_logs(farm), 30, "the worker never stood down")
        assert emulator.state.counters.turns == 1  # it stopped before paying for the next turn
        client.delete(lease_key(identity))  # the thief vanished: the job's message must bring it back

        code, events, stderr = finish(submitter)
        assert code == 0, stderr
        counters = emulator.state.counters
        assert (counters.sessions_created, counters.turns, counters.renders_started) == (1, 3, 1)
    (record,) = farm.records().values()
    assert record["state"] == "done" and record["attempts"] == "2"
    assert [event for event in events if event["event"] == "job_done"]
    assert len(done_lines(farm)) == 1
    logs = _worker_logs(farm)
    assert logs.count("lost the lease of this job") == 1 and "Traceback" not in logs, logs


def test_a_failed_farm_job_run_again_continues_its_session_and_pays_no_turn_twice(farm: Farm, tmp_path: Path) -> None:
    from joypix_recipes.emulator import Emulator, Knobs

    recipe = write_batch(tmp_path / "batch", count=1, recipe=THREE_STEPS)
    knobs = Knobs(render_fail_next=1, stub_render=True, no_text_ratio=0.0)
    cloud = {"JOYPIX_HOME": str(tmp_path / "home"), "JOYPIX_POLL_INTERVAL": "0.1"}
    out = tmp_path / "out"
    with Emulator(knobs=knobs, workdir=tmp_path / "emulator") as emulator:
        farm.worker(env=cloud)
        code, events, stderr = finish(farm.run(recipe, out, "--base-url", emulator.base_url))
        assert code == 1, stderr
        (failed,) = [event for event in events if event["event"] == "job_failed"]
        assert "export failed" in failed["error"]
        (first,) = farm.records().values()
        assert first["state"] == "failed" and emulator.state.counters.turns == 3

        code, events, stderr = finish(farm.run(recipe, out, "--base-url", emulator.base_url))
        assert code == 0, stderr
        counters = emulator.state.counters
        # The same session, no turn again; only the failed export (not charged) is made anew.
        assert (counters.sessions_created, counters.turns, counters.renders_started) == (1, 3, 2)
    (record,) = farm.records().values()
    assert record["state"] == "done" and record["session_id"] == first["session_id"]
    assert [Path(event["output"]).name for event in events if event["event"] == "job_done"] == ["p0.mp4"]
    assert (out / "p0.mp4").is_file()


def test_a_failed_record_claimed_anew_keeps_what_it_paid_for_unless_forced(redis_server: RedisServer) -> None:
    async def claims() -> tuple[dict[str, str], dict[str, str]]:
        ledger = Ledger(redis_server.url)
        client = redis_server.client()
        try:
            await ledger.claim("job1", "submission1")
            client.hset(record_key("job1"), mapping={"state": "failed", "error": "boom", "ledger": PAID.to_json(),
                                                     "session_id": "session-1", "render_id": "render-1"})
            client.expire(record_key("job1"), 3600)  # a finished record's keeping time
            await ledger.claim("job1", "submission2")
            assert client.ttl(record_key("job1")) == -1  # queued again: kept until it ends
            kept = client.hgetall(record_key("job1"))
            client.hset(record_key("job1"), "state", "failed")
            await ledger.claim("job1", "submission3", force=True)
            return kept, client.hgetall(record_key("job1"))
        finally:
            await ledger.aclose()

    kept, forced = asyncio.run(claims())
    assert kept["submission"] == "submission2" and kept["state"] == "queued" and "error" not in kept
    assert (PaidLedger.from_json(kept["ledger"]), kept["session_id"], kept["render_id"]) == (PAID, "session-1", "render-1")
    assert forced["submission"] == "submission3" and not {"ledger", "session_id", "render_id"} & set(forced)
