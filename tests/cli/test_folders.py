"""Where the command line keeps its files: tokens in the config folder, crash logs in the state folder,
everything in JOYPIX_HOME when that is set; folders private (0700), files with secrets private (0600)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers.repo import REPO
from helpers.runs import run_joypix

from joypix_recipes.emulator import Emulator

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the XDG folders are Linux's")

_BUG = """
import joypix_recipes.cli.schema as schema

def cmd_schema(args):
    raise RuntimeError("a bug planted by the test")

schema.cmd_schema = cmd_schema
"""


def _desktop(tmp_path: Path) -> dict[str, str]:
    """A user's environment with HOME and the XDG folders in ``tmp_path`` and JOYPIX_HOME unset (empty)."""
    return {
        "HOME": str(tmp_path / "user"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "JOYPIX_HOME": "",
        "JOYPIX_DEBUG": "",
        "NEMO_TOKEN": "",
    }


def _with_a_bug(tmp_path: Path) -> dict[str, str]:
    """PYTHONPATH for a child whose ``joypix schema`` raises an unexpected error (a sitecustomize plants it)."""
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "sitecustomize.py").write_text(_BUG, encoding="utf-8")
    return {"PYTHONPATH": f"{planted}{os.pathsep}{REPO}"}


def _mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


def _crash_log(stderr: str) -> Path:
    (line,) = [line for line in stderr.splitlines() if "internal error" in line]
    return Path(line.split("the details are in ", 1)[1].split("; please report it", 1)[0])


def test_a_crash_log_goes_to_the_state_folder_and_its_printed_path_points_there(tmp_path: Path) -> None:
    result = run_joypix(["schema"], tmp_path, env={**_desktop(tmp_path), **_with_a_bug(tmp_path)})
    assert result.returncode == 3, result.stderr
    log = _crash_log(result.stderr)
    assert log.parent == tmp_path / "xdg-state" / "joypix" / "crashes"
    assert "a bug planted by the test" in log.read_text(encoding="utf-8")
    assert _mode(log) == "0o600"
    assert _mode(log.parent) == _mode(log.parent.parent) == "0o700"
    assert not (tmp_path / "xdg-config").exists() and not (tmp_path / "user").exists()


def test_without_xdg_variables_a_crash_log_goes_to_local_state_under_home(tmp_path: Path) -> None:
    env = {**_desktop(tmp_path), **_with_a_bug(tmp_path)}
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = ""  # platformdirs takes an empty value for unset, as the XDG spec says
    result = run_joypix(["schema"], tmp_path, env=env)
    assert result.returncode == 3, result.stderr
    assert _crash_log(result.stderr).parent == tmp_path / "user" / ".local" / "state" / "joypix" / "crashes"


def test_joypix_home_still_holds_the_crash_logs_when_set(tmp_path: Path) -> None:
    env = {**_desktop(tmp_path), **_with_a_bug(tmp_path), "JOYPIX_HOME": str(tmp_path / "home")}
    result = run_joypix(["schema"], tmp_path, env=env)
    assert result.returncode == 3, result.stderr
    assert _crash_log(result.stderr).parent == tmp_path / "home" / "crashes"
    assert not (tmp_path / "xdg-state").exists()


def test_the_token_cache_goes_to_the_config_folder_and_nothing_to_state(emulator: Emulator, tmp_path: Path) -> None:
    result = run_joypix(["credits", "--base-url", emulator.base_url], tmp_path, env=_desktop(tmp_path))
    assert result.returncode == 0, result.stderr
    config = tmp_path / "xdg-config" / "joypix"
    assert _mode(config) == "0o700"
    tokens = [path for path in config.iterdir() if path.suffix == ".json"]
    assert tokens and all(_mode(path) == "0o600" for path in tokens)
    assert not (tmp_path / "xdg-state").exists() and not (tmp_path / "xdg-cache").exists()


def test_joypix_home_still_holds_the_token_cache_when_set(emulator: Emulator, tmp_path: Path) -> None:
    env = {**_desktop(tmp_path), "JOYPIX_HOME": str(tmp_path / "home")}
    result = run_joypix(["credits", "--base-url", emulator.base_url], tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert any(path.suffix == ".json" for path in (tmp_path / "home").iterdir())
    assert not (tmp_path / "xdg-config").exists()
