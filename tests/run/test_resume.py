"""Kill `joypix run` with SIGKILL mid-batch, rerun, and check every output exists once and nothing is redone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers.recipes import write_photo_batch
from helpers.runs import events_of, partials_under, start_joypix

RECIPE = """\
version: 1
name: resume-test
inputs: ["photos/*.jpg"]
steps:
  - name: move
    animate: {motion: zoom-in, duration: 1}
  - name: square title
    when: "variant.name == 'square'"
    text: {content: "TITLE"}
export: {resolution: 480p, fps: 24, quality: low}
variants:
  - name: square
    export: {aspect: "1:1"}
  - name: tall
    export: {aspect: "4:5"}
"""


def write_batch(folder: Path) -> Path:
    return write_photo_batch(folder, RECIPE, [(200, 30, 30), (30, 200, 30), (30, 30, 200)], (640, 480))


def joypix(recipe: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    # start_joypix's own process group: the kill takes the worker processes too, as a crash of the whole run would.
    return start_joypix(["run", str(recipe), "--out", str(out), "--json", *extra], env=env)


def outputs_with(events: list[dict[str, Any]], kind: str) -> set[str]:
    return {Path(event["output"]).name for event in events if event["event"] == kind}


def run_to_end(recipe: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    process = joypix(recipe, out, *extra, env=env)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    return events_of(stdout)


def assert_traceable(done: dict[str, Any]) -> None:
    """The MP4 names its job identity and recipe in its own metadata."""
    import av

    with av.open(done["output"]) as container:
        metadata = " ".join(f"{key}={value}" for key, value in container.metadata.items())
    assert done["identity"] in metadata and "resume-test" in metadata


EXPECTED = {f"p{index}-{variant}.mp4" for index in range(3) for variant in ("square", "tall")}


@pytest.mark.timeout(240)
def test_sigkill_midway_then_rerun_skips_finished_and_completes_the_rest(tmp_path: Path) -> None:
    recipe = write_batch(tmp_path)
    out = tmp_path / "out"

    process = joypix(recipe, out)
    assert process.stdout is not None
    seen: list[dict[str, Any]] = []
    for line in process.stdout:
        seen.append(json.loads(line))
        if seen[-1]["event"] == "job_done":
            os.killpg(process.pid, signal.SIGKILL)
            break
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    done_before = outputs_with(seen + events_of(rest), "job_done")
    assert 1 <= len(done_before) < len(EXPECTED)

    rerun = run_to_end(recipe, out)
    skipped, redone = outputs_with(rerun, "job_skipped"), outputs_with(rerun, "job_done")
    assert done_before <= skipped
    assert skipped | redone == EXPECTED and not skipped & redone
    assert {path.name for path in out.glob("*.mp4")} == EXPECTED
    assert partials_under(out) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(Path(job["output"]).name for job in manifest["jobs"]) == sorted(EXPECTED)
    assert (out / "report.html").read_text().count("data:image/jpeg;base64,") == len(EXPECTED)
    assert_traceable(next(event for event in rerun if event["event"] == "job_done"))

    assert outputs_with(run_to_end(recipe, out), "job_skipped") == EXPECTED

    recipe.write_text(RECIPE.replace('content: "TITLE"', 'content: "NEW TITLE"'))
    edited = run_to_end(recipe, out)
    assert outputs_with(edited, "job_done") == {name for name in EXPECTED if "square" in name}
    assert outputs_with(edited, "job_skipped") == {name for name in EXPECTED if "tall" in name}
    assert partials_under(out) == []


def test_ctrl_c_stops_cleanly_with_exit_130_and_no_partial_files(tmp_path: Path) -> None:
    recipe = write_batch(tmp_path)
    out = tmp_path / "out"
    process = joypix(recipe, out)
    assert process.stdout is not None
    for line in process.stdout:
        if json.loads(line).get("stage") == "rendering":
            process.send_signal(signal.SIGINT)
            break
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert partials_under(out) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stopped_reason"] == "interrupted"
    assert "cancelled" in {job["status"] for job in manifest["jobs"]}
    rerun = run_to_end(recipe, out)
    assert outputs_with(rerun, "job_done") | outputs_with(rerun, "job_skipped") == EXPECTED


CLOUD_RECIPE = """\
version: 1
name: cloud-resume
backend: nemo
inputs: ["photos/*.jpg"]
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
"""


@pytest.mark.timeout(120)
def test_cloud_render_in_flight_at_the_kill_is_reattached_not_paid_twice(tmp_path: Path) -> None:
    from joypix_recipes.emulator import Emulator
    from joypix_recipes.emulator.state import Knobs

    write_batch(tmp_path)
    recipe = tmp_path / "cloud.yaml"
    recipe.write_text(CLOUD_RECIPE)
    out = tmp_path / "out"
    knobs = Knobs(render_latency=1.0, stub_render=True, no_text_ratio=0.0, heartbeat_interval=0.2)
    with Emulator(knobs=knobs) as emulator:
        env = {"JOYPIX_HOME": str(tmp_path / "home"), "JOYPIX_POLL_INTERVAL": "0.1", "NEMO_TOKEN": ""}
        extra = ("--base-url", emulator.base_url, "--concurrency", "1")
        process = joypix(recipe, out, *extra, env=env)
        assert process.stdout is not None
        killed = ""
        for line in process.stdout:
            event = json.loads(line)
            if event["event"] == "job_stage" and event["stage"].startswith("rendering"):
                killed = Path(event["output"]).name
                os.killpg(process.pid, signal.SIGKILL)
                break
        _, stderr = process.communicate(timeout=60)
        assert killed, stderr
        assert emulator.state.counters.renders_started == 1

        rerun = run_to_end(recipe, out, *extra, env=env)
        stages = [event["stage"] for event in rerun if event["event"] == "job_stage" and Path(event["output"]).name == killed]
        assert "re-attaching to the recorded export" in stages
        assert outputs_with(rerun, "job_done") == {"p0.mp4", "p1.mp4", "p2.mp4"}
        assert emulator.state.counters.renders_started == 3
    assert partials_under(out) == []
