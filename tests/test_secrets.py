"""Credentials in a base URL never reach the terminal, the outputs, the journal or the files in JOYPIX_HOME."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from joypix_recipes.emulator import Emulator

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "recipes/samples/sample.jpg"
PASSWORD = "s3cret-pa55word"

CLOUD = """\
version: 1
name: cloud
backend: nemo
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
"""


def _joypix(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "JOYPIX_HOME": str(home), "JOYPIX_POLL_INTERVAL": "0.1"}
    env.pop("NEMO_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "joypix_recipes", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _files_containing(folder: Path, text: str) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and text.encode() in path.read_bytes()]


@pytest.mark.timeout(120)
def test_url_credentials_are_redacted_in_output_errors_doctor_outputs_journal_and_token_cache(
    tmp_path: Path, emulator: Emulator
) -> None:
    (tmp_path / "photo.jpg").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "cloud.yaml").write_text(CLOUD, encoding="utf-8")
    home = tmp_path / "home"
    base_url = emulator.base_url.replace("://", f"://user:{PASSWORD}@")

    results = [
        _joypix(["run", "cloud.yaml", "--input", "photo.jpg", "--out", "out", "--base-url", base_url], tmp_path, home),
        _joypix(["run", "cloud.yaml", "--input", "photo.jpg", "--out", "out", "--base-url", base_url, "--json"], tmp_path, home),
        _joypix(["doctor", "--base-url", base_url], tmp_path, home),
        _joypix(["status", "--base-url", base_url.replace("127.0.0.1", "127.0.0.2")], tmp_path, home),
        _joypix(["credits", "--base-url", "http://user:" + PASSWORD + "@127.0.0.1:1"], tmp_path, home),
    ]

    for result in results:
        assert PASSWORD not in result.stdout + result.stderr, result.args
        assert "internal error" not in result.stderr
    assert "<redacted>" in results[2].stdout
    assert (tmp_path / "out" / "manifest.json").exists()
    assert _files_containing(tmp_path / "out", PASSWORD) == []
    assert _files_containing(home, PASSWORD) == []


def test_joypix_home_is_created_private(tmp_path: Path, emulator: Emulator) -> None:
    home = tmp_path / "new" / "home"
    result = _joypix(["credits", "--base-url", emulator.base_url], tmp_path, home)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
