"""Recipes: YAML with positions (source), schema validation (schema), meaning checks (checks), the model.

`load_recipe` is the entry point. The names below are imported on first use, so a module of this package
(``recipe.source``, say) loads without the others, and `joypix validate` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from joypix_recipes.recipe.model import Recipe, load_recipe
    from joypix_recipes.recipe.starter import init_recipe_text

__all__ = ["Recipe", "init_recipe_text", "load_recipe"]

_HOMES = {"Recipe": "model", "load_recipe": "model", "init_recipe_text": "starter"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
