"""Recipes: YAML with positions (source), schema validation (schema), meaning checks (checks), the model.

`load_recipe` is the entry point; it imports nothing heavy, so `joypix validate` starts fast.
"""

from joypix_recipes.recipe.model import Recipe, load_recipe
from joypix_recipes.recipe.starter import init_recipe_text

__all__ = ["Recipe", "init_recipe_text", "load_recipe"]
