"""The install extras: the render farm's packages are optional, and the test extra brings them for CI."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from helpers.repo import REPO

from joypix_recipes.cli.farm_extra import FARM_MODULES

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _names(requirements: list[str]) -> set[str]:
    return {requirement.split(">")[0].split("=")[0].split("[")[0].strip().lower() for requirement in requirements}


def test_a_single_machine_install_does_not_bring_the_farm() -> None:
    assert _names(PROJECT["dependencies"]).isdisjoint({"dramatiq", "redis", "fsspec", "s3fs"})


def test_the_farm_extra_has_every_module_the_farm_check_looks_for() -> None:
    assert set(FARM_MODULES) <= _names(PROJECT["optional-dependencies"]["farm"])


def test_the_test_extra_brings_the_whole_farm_extra() -> None:
    extras = PROJECT["optional-dependencies"]
    assert set(extras["farm"]) <= set(extras["test"])


def test_a_local_run_works_without_the_farm_packages(tmp_path: Path) -> None:
    blocked = "import sys; sys.modules.update({name: None for name in ('dramatiq', 'redis', 'fsspec', 's3fs')}); "
    code = blocked + (
        "from joypix_recipes.cli.main import main; "
        f"sys.exit(main(['run', {str(REPO / 'recipes/quickstart.yaml')!r}, '--out', {str(tmp_path)!r}, '-q']))"
    )
    env = {key: value for key, value in os.environ.items() if key != "JOYPIX_BROKER"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.glob("*.mp4"))
