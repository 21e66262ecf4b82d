"""A farm run on one machine: workers and `joypix run --broker` as real processes against a real Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.repo import REPO
from helpers.runs import partials_under
from helpers.video import probe, same_pictures
from helpers.waiting import wait_until

from cluster.conftest import RECIPE, Farm, environment, finish, free_port, write_batch

pytestmark = pytest.mark.timeout(150)


def done_lines(farm: Farm) -> list[str]:
    """Every "done" a worker logged: one per committed job."""
    return [line for log in farm.root.glob("worker*.log") for line in log.read_text().splitlines() if line.startswith("done ")]


def wait_until_enqueued(farm: Farm, count: int) -> None:
    """Until the farm has ``count`` job records, each with its message on the queue."""

    def enqueued() -> bool:
        records = farm.records().values()
        return len(records) == count and all(record.get("message_id") for record in records)

    wait_until(enqueued, 60, "the jobs were never submitted")


def test_two_workers_make_the_same_videos_as_a_local_run_and_a_rerun_reattaches(farm: Farm, tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=3)
    farm.worker()
    farm.worker()
    code, events, stderr = finish(farm.run(recipe, tmp_path / "farm-out"))
    assert code == 0, stderr
    assert sorted(event["output"] for event in events if event["event"] == "job_done") == sorted(
        str(tmp_path / "farm-out" / f"p{index}.mp4") for index in range(3)
    )
    local = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "run", str(recipe), "--out", str(tmp_path / "local-out"), "-q"],
        env=environment(), capture_output=True, text=True, timeout=120,
    )
    assert local.returncode == 0, local.stderr
    for index in range(3):
        name = f"p{index}.mp4"
        farm_clip, local_clip = tmp_path / "farm-out" / name, tmp_path / "local-out" / name
        assert probe(farm_clip) == probe(local_clip) and same_pictures(farm_clip, local_clip)
    assert (tmp_path / "farm-out" / "manifest.json").is_file()
    assert (tmp_path / "farm-out" / "report.html").read_text().count("data:image/jpeg;base64,") == 3
    assert partials_under(tmp_path / "farm-out", farm.storage) == []
    client = farm.redis.client()
    assert all(0 < client.ttl(f"joypix:job:{identity}") <= 30 * 86_400 for identity in farm.records())

    # Another machine (a fresh output folder) asking for the same jobs collects them; nothing renders again.
    code, events, stderr = finish(farm.run(recipe, tmp_path / "elsewhere"))
    assert code == 0, stderr
    assert len([event for event in events if event["event"] == "job_done"]) == 3
    assert {record["attempts"] for record in farm.records().values()} == {"1"}
    assert len(done_lines(farm)) == 3

    # The same folder again: the local journal already has them.
    code, events, _ = finish(farm.run(recipe, tmp_path / "farm-out"))
    assert code == 0 and len([event for event in events if event["event"] == "job_skipped"]) == 3


def test_broker_unreachable_at_submit_is_one_line_and_exit_1(tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=1)
    closed = f"redis://:secret-password@127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "run", str(recipe), "--broker", closed, "--storage", (tmp_path / "s").as_uri()],
        env=environment(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the broker at redis://<redacted>@127.0.0.1"), result.stderr
    assert "secret-password" not in result.stderr + result.stdout
    assert not (tmp_path / "batch" / "out" / "manifest.json").exists()


def test_run_without_storage_is_a_usage_error(farm: Farm, tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=1)
    result = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "run", str(recipe), "--broker", farm.redis.url],
        env=environment(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and "--storage" in result.stderr


def test_killed_submitter_leaves_the_jobs_running_and_a_rerun_collects_them(farm: Farm, tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=3)
    out = tmp_path / "out"
    submitter = farm.run(recipe, out)
    # Killed once every job is on the queue (a kill between claiming and enqueueing is finished by the rerun).
    wait_until_enqueued(farm, 3)
    os.killpg(submitter.pid, signal.SIGKILL)
    submitter.communicate(timeout=10)  # reads and closes its pipes
    farm.worker()
    wait_until(lambda: all(record["state"] == "done" for record in farm.records().values()), 90, "the farm did not finish")

    code, events, stderr = finish(farm.run(recipe, out))
    assert code == 0, stderr
    assert {Path(event["output"]).name for event in events if event["event"] == "job_done"} == {"p0.mp4", "p1.mp4", "p2.mp4"}
    assert {record["attempts"] for record in farm.records().values()} == {"1"}
    assert len(done_lines(farm)) == 3
    assert partials_under(out, farm.storage) == []


def test_detach_submits_once_and_a_later_run_follows(farm: Farm, tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=2)
    command = [sys.executable, "-m", "joypix_recipes", "run", str(recipe), "--detach"]
    env = {**farm.env, "JOYPIX_BROKER": farm.redis.url, "JOYPIX_STORAGE": farm.storage_url}
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert first.returncode == 0 and "submitted 2 jobs" in first.stdout, first.stderr
    assert again.returncode == 0 and "submitted 0 jobs" in again.stdout and "2 already there" in again.stdout
    farm.worker()
    code, events, stderr = finish(farm.run(recipe, tmp_path / "out"))
    assert code == 0, stderr
    assert len(done_lines(farm)) == 2


def test_watch_with_a_broker_sends_dropped_images_to_the_farm(farm: Farm, tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=2)
    worker = farm.worker()
    result = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "watch", str(tmp_path / "batch" / "photos"), "--recipe", str(recipe),
         "--out", str(tmp_path / "out"), "--once", "--settle", "0.2", "--broker", farm.redis.url, "--storage", farm.storage_url],
        env=farm.env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "out").glob("*.mp4")) == ["p0.mp4", "p1.mp4"]
    assert len(done_lines(farm)) == 2 and worker.poll() is None
    assert all(record["state"] == "done" for record in farm.records().values())


def test_one_worker_command_with_two_processes_shares_the_jobs_and_stops_on_sigterm(farm: Farm, tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=4)
    supervisor = farm.worker("--processes", "2")
    wait_until(lambda: farm.redis.client().zcard("joypix:__heartbeats__") == 2, 60, "two worker processes did not start")
    code, events, stderr = finish(farm.run(recipe, tmp_path / "out"))
    assert code == 0, stderr
    assert len({record["worker"] for record in farm.records().values()}) == 2
    assert farm.redis.url.split("//")[1] not in " ".join(_command_lines_of_children(supervisor.pid))
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(30) == 0


def _command_lines_of_children(parent: int) -> list[str]:
    lines = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(status.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                lines.append((status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    assert lines, "the supervisor started no worker processes"
    return lines


def test_ctrl_c_stops_following_with_130_and_the_farm_finishes_the_jobs(farm: Farm, tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=2)
    out = tmp_path / "out"
    submitter = farm.run(recipe, out)
    wait_until_enqueued(farm, 2)
    submitter.send_signal(signal.SIGINT)
    code, _, stderr = finish(submitter)
    assert code == 130, stderr
    # A report of what it saw, as an interrupted local run writes one.
    assert json.loads((out / "manifest.json").read_text())["stopped_reason"] == "interrupted"
    farm.worker()
    wait_until(lambda: all(record["state"] == "done" for record in farm.records().values()), 90, "the farm did not finish")
    code, events, stderr = finish(farm.run(recipe, out))
    assert code == 0 and len([event for event in events if event["event"] == "job_done"]) == 2, stderr


def test_audio_and_fonts_on_the_submitters_disk_reach_a_worker_that_cannot_see_them(farm: Farm, tmp_path: Path) -> None:
    import shutil

    from helpers.audio import write_wav

    from joypix_recipes.render.fonts import font_file

    batch = tmp_path / "batch"
    recipe = write_batch(batch, count=1, recipe=RECIPE_WITH_FILES)
    (batch / "sound").mkdir()
    write_wav(batch / "sound" / "bed.wav", seconds=1.0)
    write_wav(batch / "chime.wav", seconds=0.5, frequency=880.0)
    shutil.copy(font_file("sans-bold"), batch / "Brand.ttf")  # type: ignore[arg-type]
    submitter = farm.run(recipe, tmp_path / "out")
    wait_until_enqueued(farm, 1)
    # The worker starts only once the files are gone from where the recipe names them.
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    for name in ("sound", "chime.wav", "Brand.ttf"):
        (batch / name).rename(hidden / name)
    farm.worker()
    code, events, stderr = finish(submitter)
    assert code == 0, stderr
    (done,) = [event for event in events if event["event"] == "job_done"]
    import av

    with av.open(done["output"]) as container:
        assert container.streams.audio and sum(1 for _ in container.decode(audio=0)) > 0


RECIPE_WITH_FILES = """\
version: 1
name: farm-files
inputs: ["photos/*.jpg"]
steps:
  - name: move
    animate: {motion: zoom-in, duration: 1}
  - text: {content: SALE, font: Brand.ttf}
  - audio: {file: sound/bed.wav}
  - prompt: 'add "chime.wav" as background music'
export: {resolution: 480p, aspect: "1:1", fps: 24, quality: low}
"""


def test_a_group_of_images_becomes_the_same_clip_on_the_farm_as_locally(farm: Farm, tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    recipe = write_batch(batch, count=3, recipe=GROUP_RECIPE)
    # Two images of one name in different folders stay apart on the worker.
    from PIL import Image

    (batch / "photos" / "more").mkdir()
    Image.new("RGB", (320, 240), (230, 30, 30)).save(batch / "photos" / "more" / "p1.jpg")
    farm.worker()
    code, events, stderr = finish(farm.run(recipe, tmp_path / "farm-out"))
    assert code == 0, stderr
    local = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "run", str(recipe), "--out", str(tmp_path / "local-out"), "-q"],
        env=environment(), capture_output=True, text=True, timeout=120,
    )
    assert local.returncode == 0, local.stderr
    (done,) = [event for event in events if event["event"] == "job_done"]
    name = Path(done["output"]).name
    farm_clip, local_clip = probe(tmp_path / "farm-out" / name), probe(tmp_path / "local-out" / name)
    assert farm_clip["frames"] == 3 * 24 - 12  # three 1 s shots joined by two 0.25 s crossfades, at 24 fps
    assert farm_clip == local_clip
    assert same_pictures(tmp_path / "farm-out" / name, tmp_path / "local-out" / name)


GROUP_RECIPE = """\
version: 1
name: farm-group
inputs:
  - images: [photos/p2.jpg, photos/p1.jpg, photos/more/p1.jpg]
steps:
  - name: move
    animate: {motion: zoom-in, duration: 1}
  - transition: {kind: crossfade, duration: 0.25}
export: {resolution: 480p, aspect: "1:1", fps: 24, quality: low}
"""


def test_a_farm_run_notifies_each_job_and_the_run_from_the_submitting_machine(farm: Farm, tmp_path: Path) -> None:
    received = tmp_path / "events.jsonl"
    append = "import sys; open(sys.argv[1], 'a', encoding='utf-8').write(sys.stdin.read() + chr(10))"
    notify = f"notify: {{command: {json.dumps([sys.executable, '-c', append, str(received)])}}}\n"
    recipe = write_batch(tmp_path / "batch", count=2, recipe=RECIPE + notify)
    farm.worker()
    code, _, stderr = finish(farm.run(recipe, tmp_path / "out"))
    assert code == 0 and "notif" not in stderr, stderr
    events = [json.loads(line) for line in received.read_text(encoding="utf-8").splitlines()]
    assert sorted(event["event"] for event in events) == ["job.finished", "job.finished", "run.finished"]
    assert {Path(event["output"]).name for event in events if event["event"] == "job.finished"} == {"p0.mp4", "p1.mp4"}
