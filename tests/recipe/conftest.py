"""Helpers for recipe tests: write a recipe into tmp_path and read back the problems it has."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.recipes import recipe_file

from joypix_recipes.errors import RecipeError
from joypix_recipes.recipe import load_recipe

WriteRecipe = Callable[..., Path]


@pytest.fixture
def write_recipe(tmp_path: Path) -> WriteRecipe:
    """Write dedented recipe text to tmp_path/NAME and return the path."""
    return functools.partial(recipe_file, tmp_path)


def problems_of(path: Path, extra_vars: tuple[str, ...] = ()) -> list[tuple[int, int, str]]:
    """(line, column, message) of every problem load_recipe reports; fails if the recipe loads."""
    with pytest.raises(RecipeError) as caught:
        load_recipe(path, extra_vars)
    assert str(caught.value).startswith(str(path)), "every line starts with FILE:LINE:COL"
    return [(problem.line, problem.column, problem.message) for problem in caught.value.problems]
