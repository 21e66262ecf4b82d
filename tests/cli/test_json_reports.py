"""`doctor --json` gives its checks as one object, and `status --json` the session's summary; the shared flag
works on either side of the command's name."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.recipes import recipe_file
from helpers.runs import run_joypix

from joypix_recipes.emulator import Emulator

CLOUD = """
version: 1
backend: nemo
inputs: [a.jpg]
steps:
  - animate: {duration: 1}
export: {aspect: "1:1", resolution: 480p, fps: 10, quality: low}
"""


def _joypix(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_joypix(args, tmp_path, env={"JOYPIX_HOME": str(tmp_path / "home")}, timeout=60)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("where", ["after", "before"])
def test_doctor_json_is_one_object_of_named_checks(tmp_path: Path, emulator: Emulator, where: str) -> None:
    args = ["doctor", "--base-url", emulator.base_url]
    result = _joypix([*args, "--json"] if where == "after" else ["--json", *args], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    checks = {check["name"]: check for check in report["checks"]}
    assert {"joypix", "H.264 encoder", "HEIC photos", "token", "base URL"} <= set(checks)
    assert checks["base URL"]["ok"] is True and "answers (HTTP" in checks["base URL"]["value"]


def test_doctor_json_marks_the_check_that_fails_and_exits_1(tmp_path: Path) -> None:
    result = _joypix(["doctor", "--json", "--base-url", f"http://127.0.0.1:{_closed_port()}"], tmp_path)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [check["name"] for check in report["checks"] if not check["ok"]] == ["base URL"]


def test_status_json_gives_the_last_sessions_summary(tmp_path: Path, emulator: Emulator) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    recipe = recipe_file(tmp_path, CLOUD)
    ran = _joypix(["run", str(recipe), "--base-url", emulator.base_url, "--poll-interval", "0.05", "-q"], tmp_path)
    assert ran.returncode == 0, ran.stderr
    result = _joypix(["--json", "status", "--base-url", emulator.base_url], tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"summary": "Timeline (1 track): 1. Video: a.jpg (0-1s)"}
