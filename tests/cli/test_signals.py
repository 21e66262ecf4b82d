"""SIGTERM to the whole process group (what `timeout`, systemd and Ctrl-C do) interrupts, never fails, a job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "recipes/samples/sample.jpg"

RECIPE = """\
version: 1
name: long
steps:
  - animate: {motion: zoom-in, duration: 8}
export: {resolution: 720p}
"""


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "joypix_recipes", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, which we signal as a whole
    )


def _wait_for_partial(folder: Path, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        if folder.exists() and any(".partial" in path.name for path in folder.rglob("*")):
            return
        time.sleep(0.05)
    raise AssertionError("the render never started")


def _partials(folder: Path) -> list[str]:
    return [path.name for path in folder.rglob("*") if ".partial" in path.name]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_group_stop_signal_mid_render_stops_run_with_130_and_leaves_nothing_partial(
    tmp_path: Path, stop: signal.Signals
) -> None:
    (tmp_path / "photo.jpg").write_bytes(SAMPLE.read_bytes())
    recipe = tmp_path / "long.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    out = tmp_path / "out"
    process = _start(["run", str(recipe), "--input", str(tmp_path / "photo.jpg"), "--out", str(out)], tmp_path)

    _wait_for_partial(out, process)
    os.killpg(process.pid, stop)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 130, output
    assert "failed" not in output.replace("0 failed", "")
    assert _partials(out) == []
    assert not (out / "photo.mp4").exists()
