"""Credentials in a base URL never reach the terminal, the outputs, the journal or the files in JOYPIX_HOME."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from helpers.repo import SAMPLE
from helpers.runs import run_joypix

from joypix_recipes.emulator import Emulator

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
    return run_joypix(args, cwd, env={"JOYPIX_HOME": str(home), "JOYPIX_POLL_INTERVAL": "0.1"})


def _files_containing(folder: Path, text: str) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and text.encode() in path.read_bytes()]


@pytest.mark.timeout(120)
def test_credentials_in_the_base_url_are_refused_as_a_usage_error_and_never_shown(
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
        _joypix(["credits", "--base-url", base_url], tmp_path, home),
    ]

    for result in results:
        assert result.returncode == 2, (result.args, result.stderr)
        assert PASSWORD not in result.stdout + result.stderr, result.args
        assert "internal error" not in result.stderr
        assert "user name or password" in result.stderr and "<redacted>" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "manifest.json").exists()
    assert not home.exists() or _files_containing(home, PASSWORD) == []


def test_joypix_home_is_created_private(tmp_path: Path, emulator: Emulator) -> None:
    home = tmp_path / "new" / "deeper" / "home"
    result = _joypix(["credits", "--base-url", emulator.base_url], tmp_path, home)
    assert result.returncode == 0, result.stderr
    assert [stat.S_IMODE(folder.stat().st_mode) for folder in (tmp_path / "new", home.parent, home)] == [0o700] * 3


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://127.0.0.1:99999", "http://127.0.0.1:port", "ftp://example.com", "http://", "http://:80"]
)
def test_a_malformed_base_url_is_a_usage_error_naming_it(tmp_path: Path, url: str) -> None:
    result = _joypix(["credits", "--base-url", url], tmp_path, tmp_path / "home")
    assert result.returncode == 2, result.stderr
    assert "base URL" in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _read_only_folder(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        return _chmod_read_only(tmp_path)
    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("root ignores permissions, and no read-only tmpfs can be mounted here")
    return folder


def _chmod_read_only(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o500)
    return folder


@pytest.mark.parametrize("command", ["credits", "run"])
@pytest.mark.parametrize("kind", ["a file", "under a file", "read-only"])
def test_an_unusable_joypix_home_is_a_clear_error(tmp_path: Path, emulator: Emulator, kind: str, command: str) -> None:
    (tmp_path / "photo.jpg").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "cloud.yaml").write_text(CLOUD, encoding="utf-8")
    args = ["run", "cloud.yaml", "--input", "photo.jpg", "--out", "out"] if command == "run" else ["credits"]
    if kind == "a file":
        home = tmp_path / "home"
        home.write_text("not a folder")
    elif kind == "under a file":
        (tmp_path / "file").write_text("not a folder")
        home = tmp_path / "file" / "home"
    else:
        home = _read_only_folder(tmp_path)
    try:
        result = _joypix([*args, "--base-url", emulator.base_url], tmp_path, home)
    finally:
        if kind == "read-only" and os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(home)], check=False)

    assert result.returncode == 2, result.stderr
    assert "JOYPIX_HOME" in result.stderr and str(home) in result.stderr
    assert "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
