"""Recipes written from test text: dedented, into a folder, loaded when asked."""

from __future__ import annotations

import textwrap
from pathlib import Path

from joypix_recipes.recipe import Recipe, load_recipe


def recipe_file(folder: Path, text: str, name: str = "recipe.yaml") -> Path:
    """Write dedented recipe ``text`` to ``folder/name`` (making its folders) and return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def recipe_at(folder: Path, text: str, name: str = "recipe.yaml") -> Recipe:
    """The recipe ``text`` loaded, once written to ``folder/name``."""
    return load_recipe(recipe_file(folder, text, name))
