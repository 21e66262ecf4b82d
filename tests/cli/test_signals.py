"""SIGTERM to the whole process group (what `timeout`, systemd and Ctrl-C do) interrupts, never fails, a job."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from helpers.repo import SAMPLE
from helpers.runs import partials_under, start_joypix
from helpers.waiting import wait_until

RECIPE = """\
version: 1
name: long
steps:
  - animate: {motion: zoom-in, duration: 8}
export: {resolution: 720p}
"""


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_group_stop_signal_mid_render_stops_run_with_130_and_leaves_nothing_partial(
    tmp_path: Path, stop: signal.Signals
) -> None:
    (tmp_path / "photo.jpg").write_bytes(SAMPLE.read_bytes())
    recipe = tmp_path / "long.yaml"
    recipe.write_text(RECIPE, encoding="utf-8")
    out = tmp_path / "out"
    # Its own process group (start_joypix's), which we signal as a whole.
    process = start_joypix(
        ["run", str(recipe), "--input", str(tmp_path / "photo.jpg"), "--out", str(out)], tmp_path, stderr=subprocess.STDOUT
    )

    wait_until(lambda: partials_under(out), 60, "the render never started", process=process)
    os.killpg(process.pid, stop)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 130, output
    assert "failed" not in output.replace("0 failed", "")
    assert partials_under(out) == []
    assert not (out / "photo.mp4").exists()
