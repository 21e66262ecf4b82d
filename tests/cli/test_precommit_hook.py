"""The pre-commit hook a repository of recipes uses: ``joypix validate`` on the changed YAML files."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from helpers.repo import REPO

HOOKS_FILE = REPO / ".pre-commit-hooks.yaml"


def _hook() -> dict[str, Any]:
    (hook,) = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(hook, dict)
    return hook


def _selected(path: str) -> bool:
    hook = _hook()
    return bool(re.search(hook["files"], path)) and not re.search(hook["exclude"], path)


def test_the_hook_is_a_python_hook_running_validate_on_the_files_it_is_given() -> None:
    hook = _hook()
    assert hook["id"] == "joypix-validate" and hook["name"] and hook["description"]
    assert hook["language"] == "python"  # pre-commit installs this repository, so `joypix` is on its PATH
    assert shlex.split(hook["entry"]) == ["joypix", "validate"]
    assert hook.get("pass_filenames", True) is True and hook["types"] == ["yaml"]


def test_the_hook_picks_recipes_and_leaves_other_files_and_hidden_folders_alone() -> None:
    for recipe in ("promo.yaml", "recipes/launch.yml", "a/b/c.yaml"):
        assert _selected(recipe), recipe
    for other in ("photo.jpg", "README.md", ".pre-commit-config.yaml", ".github/workflows/ci.yml", "recipes/yaml.txt"):
        assert not _selected(other), other


def test_the_entry_checks_each_file_passed_and_fails_the_commit_on_a_bad_one(tmp_path: Path) -> None:
    good = REPO / "recipes/quickstart.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nsteps:\n  - zoom: {}\n", encoding="utf-8")
    entry = [sys.executable, "-m", "joypix_recipes", *shlex.split(_hook()["entry"])[1:]]

    passing = subprocess.run([*entry, str(good)], capture_output=True, text=True, timeout=60)
    assert passing.returncode == 0 and f"{good}: ok" in passing.stdout

    failing = subprocess.run([*entry, str(good), str(bad)], capture_output=True, text=True, timeout=60)
    assert failing.returncode == 2
    assert f"{good}: ok" in failing.stdout and re.search(rf"{re.escape(str(bad))}:\d+:\d+: ", failing.stderr)
