"""Faults between hosts: a worker host cut off and back, the Redis host restarting, the S3 host unreachable,
a worker host killed outright. Every clip is published once and whole, every turn and render paid once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from helpers.video import probe
from helpers.waiting import wait_until

from cluster.hosts.conftest import HEARTBEAT_S, HostFarm, finish, write_cloud_batch
from joypix_recipes.emulator import Emulator, Knobs

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(120)]

STEPS = 1


def knobs(render_latency: float) -> Knobs:
    return Knobs(render_latency=render_latency, stub_render=True, no_text_ratio=0.0, heartbeat_interval=0.2)


def assert_published_once(hosts: HostFarm, events: list[dict[str, Any]], count: int) -> None:
    """``count`` clips came home, each decodes whole, and each was written to the bucket exactly once."""
    done = [event for event in events if event["event"] == "job_done"]
    assert len(done) == count, events
    for event in done:
        clip = probe(Path(event["output"]))
        assert clip["frames"] == 24 and clip["size"] == (480, 480), clip
    versions = hosts.versions()
    clips = {key: written for key, written in versions.items() if key.endswith(".mp4")}
    assert len(clips) == count and set(clips.values()) == {1}, versions
    assert not [key for key in hosts.versions("jobs/") if ".partial" in key]


def assert_paid_once(emulator: Emulator, count: int) -> None:
    """One session per job, each step's turn and the render paid once."""
    paid = emulator.paid()
    assert len(paid) == count and set(paid.values()) == {(STEPS, 1)}, dict(paid)


def test_a_worker_host_cut_off_past_its_lease_sees_its_job_finished_elsewhere_and_drops_its_copy(
    hosts: HostFarm, tmp_path: Path
) -> None:
    recipe = write_cloud_batch(tmp_path / "batch", 1)
    with hosts.cloud(knobs(render_latency=4.0)) as emulator:
        hosts.start_workers()
        submitter = hosts.submit(recipe, tmp_path / "out")
        cut = wait_until(hosts.holder, 40, "no worker started the render")
        other = next(host for host in hosts.worker_hosts if host is not cut)
        cut.link_down()
        (record,) = wait_until(
            lambda: [r for r in hosts.records().values() if r.get("state") == "done"], 40, "the job did not finish elsewhere"
        )
        assert record["worker"] == hosts.worker_name(other) and record["attempts"] == "2"
        cut.link_up()
        wait_until(lambda: "dropping this worker's output unpublished" in cut.log("worker.log"), 40,
                   "the returning worker did not drop its copy")
        code, events, stderr = finish(submitter)
        assert code == 0, (stderr, [e for e in events if e['event'] == 'job_failed'], hosts.records())
        assert_paid_once(emulator, 1)
    assert_published_once(hosts, events, 1)
    assert "done " not in cut.log("worker.log")


def test_the_redis_host_killed_and_restarted_with_its_data_loses_and_repeats_nothing(hosts: HostFarm, tmp_path: Path) -> None:
    recipe = write_cloud_batch(tmp_path / "batch", 2)
    with hosts.cloud(knobs(render_latency=1.5)) as emulator:
        hosts.start_workers()
        submitter = hosts.submit(recipe, tmp_path / "out")
        wait_until(hosts.holder, 40, "no worker started a render")
        hosts.kill_redis()
        time.sleep(HEARTBEAT_S)  # down long enough for every client to notice
        hosts.start_redis()
        code, events, stderr = finish(submitter)
        assert code == 0, (stderr, [e for e in events if e['event'] == 'job_failed'], hosts.records())
        assert_paid_once(emulator, 2)
    assert_published_once(hosts, events, 2)
    assert {record["state"] for record in hosts.records().values()} == {"done"}


def test_the_s3_host_unreachable_for_30_s_during_an_upload_delays_the_clip_but_publishes_it_once(
    hosts: HostFarm, tmp_path: Path
) -> None:
    recipe = write_cloud_batch(tmp_path / "batch", 1)
    with hosts.cloud(knobs(render_latency=1.0)) as emulator:
        hosts.start_workers()
        submitter = hosts.submit(recipe, tmp_path / "out")
        wait_until(hosts.holder, 40, "no worker started the render")
        hosts.store.link_down()
        cut_at = time.monotonic()
        wait_until(lambda: any(r.get("stage") == "storing the output" for r in hosts.records().values()), 20,
                   "the worker did not start storing the clip")
        time.sleep(max(0.0, 30 - (time.monotonic() - cut_at)))
        assert [record["state"] for record in hosts.records().values()] == ["running"]
        hosts.store.link_up()
        code, events, stderr = finish(submitter)
        took = time.monotonic() - cut_at
        assert code == 0, (stderr, [e for e in events if e['event'] == 'job_failed'], hosts.records())
        assert_paid_once(emulator, 1)
    assert_published_once(hosts, events, 1)
    (record,) = hosts.records().values()
    assert record["attempts"] == "1", record
    print(f"clip home {took:.1f} s after the storage host was cut off")


def test_a_worker_host_killed_outright_has_its_jobs_finished_once_on_the_other(hosts: HostFarm, tmp_path: Path) -> None:
    recipe = write_cloud_batch(tmp_path / "batch", 2)
    with hosts.cloud(knobs(render_latency=2.0)) as emulator:
        hosts.start_workers()
        submitter = hosts.submit(recipe, tmp_path / "out")
        doomed = wait_until(hosts.holder, 40, "no worker started a render")
        doomed.kill_all()
        assert doomed.pids() == []
        code, events, stderr = finish(submitter)
        assert code == 0, (stderr, [e for e in events if e['event'] == 'job_failed'], hosts.records())
        assert_paid_once(emulator, 2)
    assert_published_once(hosts, events, 2)
    survivor = next(host for host in hosts.worker_hosts if host is not doomed)
    assert {record["worker"] for record in hosts.records().values()} == {hosts.worker_name(survivor)}
