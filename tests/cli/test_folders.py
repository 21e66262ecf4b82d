"""Where the command line keeps its files: tokens in the config folder, crash logs in the state folder,
everything in JOYPIX_HOME when that is set; folders private (0700), files with secrets private (0600)."""

from __future__ import annotations

import json
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


def test_with_json_a_crash_is_one_json_object_on_stderr_naming_the_log(tmp_path: Path) -> None:
    result = run_joypix(["--json", "schema"], tmp_path, env={**_desktop(tmp_path), **_with_a_bug(tmp_path)})
    assert result.returncode == 3, result.stderr
    (line,) = result.stderr.splitlines()
    error = json.loads(line)
    log = Path(error["crash_log"])
    assert error["exit_code"] == 3 and f"the details are in {log}" in error["error"]
    assert log.parent == tmp_path / "xdg-state" / "joypix" / "crashes"
    assert "a bug planted by the test" in log.read_text(encoding="utf-8")


def _doctor(tmp_path: Path, emulator: Emulator, env: dict[str, str]) -> tuple[int, dict[str, dict[str, object]]]:
    result = run_joypix(["doctor", "--json", "--base-url", emulator.base_url], tmp_path, env=env, timeout=60)
    return result.returncode, {check["name"]: check for check in json.loads(result.stdout)["checks"]}


def test_doctor_shows_the_state_and_cache_folders_it_uses(emulator: Emulator, tmp_path: Path) -> None:
    code, checks = _doctor(tmp_path, emulator, _desktop(tmp_path))
    assert code == 0
    assert str(checks["state folder"]["value"]).startswith(f"{tmp_path / 'xdg-state' / 'joypix'} (crash logs")
    assert str(checks["cache folder"]["value"]).startswith(f"{tmp_path / 'xdg-cache' / 'joypix'} (")
    assert checks["state folder"]["ok"] and checks["cache folder"]["ok"]


def test_doctor_shows_joypix_home_as_both_folders_when_set(emulator: Emulator, tmp_path: Path) -> None:
    code, checks = _doctor(tmp_path, emulator, {**_desktop(tmp_path), "JOYPIX_HOME": str(tmp_path / "home")})
    assert code == 0
    for name in ("state folder", "cache folder"):
        assert str(checks[name]["value"]).startswith(f"{tmp_path / 'home'} ("), name


def test_doctor_exits_1_when_the_state_folder_cannot_be_used(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "xdg-state").write_text("a file where the state folder goes", encoding="utf-8")
    result = run_joypix(["doctor", "--base-url", emulator.base_url], tmp_path, env=_desktop(tmp_path), timeout=60)
    assert result.returncode == 1, result.stderr
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("state folder")]
    assert "cannot be used" in row and "xdg-state" in row
