"""Recipes written from test text (dedented, loaded when asked), and batches of photos beside a recipe."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

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


def write_photo_batch(
    folder: Path, recipe: str, colours: Sequence[tuple[int, int, int]], size: tuple[int, int]
) -> Path:
    """A batch on disk: ``folder/photos/p<n>.jpg`` in plain ``colours``, and ``recipe`` as ``folder/recipe.yaml``."""
    photos = folder / "photos"
    photos.mkdir(parents=True)
    for index, colour in enumerate(colours):
        Image.new("RGB", size, colour).save(photos / f"p{index}.jpg")
    path = folder / "recipe.yaml"
    path.write_text(recipe)
    return path
