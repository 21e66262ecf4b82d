"""`validate --backend` checks a recipe for the backend it will run on: the cloud agent reads prompts the local
interpreter would refuse."""

from __future__ import annotations

from pathlib import Path

from helpers.images import write_image
from helpers.recipes import recipe_file
from helpers.runs import run_joypix

RECIPE = """
version: 1
inputs: [a.jpg]
steps:
  - prompt: sparkles everywhere
"""


def _recipe(tmp_path: Path) -> Path:
    write_image(tmp_path / "a.jpg", (64, 64))
    return recipe_file(tmp_path, RECIPE)


def test_the_local_backend_refuses_a_prompt_it_cannot_read(tmp_path: Path) -> None:
    result = run_joypix(["validate", str(_recipe(tmp_path)), "--backend", "local"], tmp_path)
    assert result.returncode == 2
    assert 'does not understand "sparkles everywhere"' in result.stderr


def test_nemo_leaves_the_prompt_to_the_cloud_agent(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    result = run_joypix(["validate", str(recipe), "--backend", "nemo"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{recipe}: ok"


def test_a_backend_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = run_joypix(["validate", str(_recipe(tmp_path)), "--backend", "cloud"], tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'cloud'" in result.stderr
