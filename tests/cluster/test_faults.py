"""Faults a farm must survive, with real processes: killed workers, a restarted Redis, failing storage, cloud jobs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.disks import mount_small_disk
from helpers.runs import partials_under
from helpers.waiting import wait_until

from cluster.conftest import Farm, environment, finish, free_port, write_batch
from cluster.test_farm import done_lines

pytestmark = pytest.mark.timeout(150)


def rendering(farm: Farm) -> str | None:
    """The identity of a job a worker is rendering right now."""
    for identity, record in farm.records().items():
        if record.get("state") == "running" and record.get("stage", "").startswith("render"):
            return identity
    return None


def test_worker_killed_mid_render_is_redelivered_after_the_heartbeat_and_done_once(farm: Farm, tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=2)
    out = tmp_path / "out"
    doomed = farm.worker()
    submitter = farm.run(recipe, out)
    wait_until(lambda: rendering(farm) is not None, 60, "no job started rendering")
    killed = rendering(farm)
    os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its render processes, as a power cut would
    doomed.wait(10)
    farm.worker()

    code, events, stderr = finish(submitter)
    assert code == 0, stderr
    assert {Path(event["output"]).name for event in events if event["event"] == "job_done"} == {"p0.mp4", "p1.mp4"}
    records = farm.records()
    assert records[str(killed)]["attempts"] == "2"
    assert all(record["state"] == "done" for record in records.values())
    assert len(done_lines(farm)) == 2  # each job committed once
    assert partials_under(out, farm.storage) == []
    assert sorted(path.name for path in (farm.storage / "outputs").rglob("*.mp4")) == ["p0.mp4", "p1.mp4"]


def three_jobs_one_done(farm: Farm, tmp_path: Path) -> tuple[Path, Path, subprocess.Popen[str]]:
    """A run of three jobs on one worker, once the submitter has brought the first clip home: its recipe,
    output folder and process."""
    recipe = write_batch(tmp_path / "batch", count=3)
    out = tmp_path / "out"
    farm.worker()
    submitter = farm.run(recipe, out)
    wait_until(lambda: any(out.glob("p*.mp4")), 60, "nothing finished")
    return recipe, out, submitter


def test_redis_restarted_mid_run_loses_and_duplicates_nothing(farm: Farm, tmp_path: Path) -> None:
    _, out, submitter = three_jobs_one_done(farm, tmp_path)
    farm.redis.stop()
    farm.redis.start()

    code, events, stderr = finish(submitter)
    assert code == 0, stderr
    assert len([event for event in events if event["event"] == "job_done"]) == 3
    assert {record["attempts"] for record in farm.records().values()} == {"1"}
    assert len(done_lines(farm)) == 3
    assert partials_under(out, farm.storage) == []


def test_unreachable_object_storage_fails_the_jobs_clearly(farm: Farm, tmp_path: Path) -> None:
    pytest.importorskip("s3fs")
    recipe = write_batch(tmp_path / "batch", count=1)
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "run", str(recipe), "--out", str(tmp_path / "out"),
         "--broker", farm.redis.url, "--storage", "s3://farm/jobs"],
        env={**farm.env, **env}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and "in the storage s3://farm/jobs" in failed[0], result.stdout
    assert "Traceback" not in result.stderr
    assert list((tmp_path / "out").glob("*.mp4")) == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs as the shared folder, or a skip where mounting is not allowed."""
    with mount_small_disk(tmp_path, "512k") as mount:
        yield mount


def test_full_storage_fails_the_job_and_leaves_nothing_under_a_final_name(farm: Farm, tmp_path: Path, small_disk: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=1)
    out = tmp_path / "out"
    farm.storage = small_disk
    submitter = farm.run(recipe, out)
    wait_until(lambda: any((small_disk / "inputs").rglob("*.jpg")) if (small_disk / "inputs").exists() else False, 60, "not staged")
    filler = os.open(small_disk / "filler.bin", os.O_WRONLY | os.O_CREAT)
    try:  # fill what is left, so the worker's commit cannot fit
        while os.write(filler, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(filler)
    farm.worker()
    code, events, stderr = finish(submitter)
    assert code == 1, stderr
    failed = [event for event in events if event["event"] == "job_failed"]
    assert len(failed) == 1 and "No space left on device" in failed[0]["error"], events
    assert not (small_disk / "outputs").exists() or list((small_disk / "outputs").rglob("*.mp4")) == []
    assert partials_under(small_disk, out) == []


def test_cloud_job_whose_worker_dies_during_the_render_is_reattached_and_rendered_once(farm: Farm, tmp_path: Path) -> None:
    from joypix_recipes.emulator import Emulator, Knobs

    recipe = write_batch(tmp_path / "batch", count=1, recipe=CLOUD_RECIPE)
    knobs = Knobs(render_latency=4.0, stub_render=True, no_text_ratio=0.0, heartbeat_interval=0.2)
    cloud = {"JOYPIX_HOME": str(tmp_path / "home"), "JOYPIX_POLL_INTERVAL": "0.1"}
    with Emulator(knobs=knobs, workdir=tmp_path / "emulator") as emulator:
        doomed = farm.worker(env=cloud)
        submitter = farm.run(recipe, tmp_path / "out", "--base-url", emulator.base_url)
        wait_until(lambda: any(record.get("render_id") for record in farm.records().values()), 60, "no render started")
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(10)
        farm.worker(env=cloud)
        code, events, stderr = finish(submitter)
        assert code == 0, stderr
        assert emulator.state.counters.renders_started == 1
    (record,) = farm.records().values()
    assert record["attempts"] == "2" and record["state"] == "done"
    assert [event for event in events if event["event"] == "job_done"]


CLOUD_RECIPE = """\
version: 1
name: farm-cloud
backend: nemo
inputs: ["photos/*.jpg"]
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
"""


def test_ctrl_c_stops_a_worker_with_130_and_sigterm_with_0(farm: Farm) -> None:
    interrupted = farm.worker()
    terminated = farm.worker()
    wait_until(lambda: all("slot" in (farm.root / f"worker{i}.log").read_text() for i in (0, 1)), 30, "workers did not start")
    interrupted.send_signal(signal.SIGINT)
    terminated.send_signal(signal.SIGTERM)
    assert interrupted.wait(30) == 130
    assert terminated.wait(30) == 0
    assert "Traceback" not in (farm.root / "worker0.log").read_text()


def test_worker_without_a_reachable_broker_exits_1_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "worker", "--broker", f"redis://127.0.0.1:{free_port()}/0"],
        env=environment(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: cannot reach the broker") and len(result.stderr.strip().splitlines()) == 1


CHATTY_RECIPE = """\
version: 1
name: farm-chatty
backend: nemo
inputs: ["photos/*.jpg"]
steps:
  - animate: {motion: zoom-in, duration: 1}
  - text: {content: Hi, position: top}
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
"""


def test_a_finished_farm_job_holds_each_reply_and_warning_once_in_its_record_events_and_manifest(
    farm: Farm, tmp_path: Path
) -> None:
    from joypix_recipes.emulator import Emulator, Knobs

    recipe = write_batch(tmp_path / "batch", count=1, recipe=CHATTY_RECIPE)
    # Every turn speaks (one reply per step), and the session is lost after the first turn: one warning.
    knobs = Knobs(stub_render=True, no_text_ratio=0.0, lose_session_after_turns=1)
    cloud = {"JOYPIX_HOME": str(tmp_path / "home"), "JOYPIX_POLL_INTERVAL": "0.1"}
    with Emulator(knobs=knobs, workdir=tmp_path / "emulator") as emulator:
        farm.worker(env=cloud)
        code, events, stderr = finish(farm.run(recipe, tmp_path / "out", "--base-url", emulator.base_url))
    assert code == 0, stderr
    (record,) = farm.records().values()
    replies, warnings = json.loads(record["replies"]), json.loads(record["warnings"])
    assert len(replies) == 2 and len(set(replies)) == 2, replies
    assert len(warnings) == 1 and "session was lost" in warnings[0], warnings
    assert [event["text"] for event in events if event["event"] == "job_reply"] == replies
    assert [event["message"] for event in events if event["event"] == "job_warning"] == warnings
    (job,) = json.loads((tmp_path / "out" / "manifest.json").read_text())["jobs"]
    assert (job["replies"], job["warnings"]) == (replies, warnings)


def test_redis_restarted_without_its_data_stops_the_run_clearly_and_a_second_run_finishes_it(
    farm: Farm, tmp_path: Path
) -> None:
    recipe, out, submitter = three_jobs_one_done(farm, tmp_path)
    farm.redis.stop()
    for kept in farm.redis.folder.iterdir():  # the queue and every record go with the data
        if kept.is_dir():
            shutil.rmtree(kept)
        else:
            kept.unlink()
    farm.redis.start()

    code, events, stderr = finish(submitter)
    assert code == 1, stderr
    finished = {Path(event["output"]).name for event in events if event["event"] == "job_done"}
    lost = {Path(event["output"]).name: event["error"] for event in events if event["event"] == "job_failed"}
    assert finished and lost and finished | set(lost) == {"p0.mp4", "p1.mp4", "p2.mp4"}
    [stopped] = [event["reason"] for event in events if event["event"] == "run_stopped"]
    assert stopped == (
        f"the broker at {farm.redis.url} no longer holds this job's record (restarted without its data?);"
        " nothing on the farm will finish it: run the command again to submit it anew"
    )
    assert set(lost.values()) == {stopped}

    code, events, stderr = finish(farm.run(recipe, out))
    assert code == 0, stderr
    redone = {Path(event["output"]).name for event in events if event["event"] == "job_done"}
    assert redone == {"p0.mp4", "p1.mp4", "p2.mp4"} - finished
