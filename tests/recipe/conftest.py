"""Helpers for recipe tests: write a recipe into tmp_path and read back the problems it has."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from joypix_recipes.errors import RecipeError
from joypix_recipes.recipe import load_recipe

WriteRecipe = Callable[..., Path]


@pytest.fixture
def write_recipe(tmp_path: Path) -> WriteRecipe:
    """Write dedented recipe text to tmp_path/NAME and return the path."""

    def write(text: str, name: str = "recipe.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


def problems_of(path: Path, extra_vars: tuple[str, ...] = ()) -> list[tuple[int, int, str]]:
    """(line, column, message) of every problem load_recipe reports; fails if the recipe loads."""
    with pytest.raises(RecipeError) as caught:
        load_recipe(path, extra_vars)
    assert str(caught.value).startswith(str(path)), "every line starts with FILE:LINE:COL"
    return [(problem.line, problem.column, problem.message) for problem in caught.value.problems]
