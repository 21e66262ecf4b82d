"""``joypix init``: write a commented starter recipe that editors can autocomplete from the schema."""

from __future__ import annotations

import argparse
from pathlib import Path

from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.streams import say
from joypix_recipes.errors import UsageError


def cmd_init(args: argparse.Namespace) -> int:
    """Write NAME.yaml (recipe.yaml by default), never over an existing file."""
    from joypix_recipes.recipe import init_recipe_text

    name = args.name or "recipe"
    target = Path(name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    if target.exists():
        raise UsageError(f"{target} already exists; choose another name or remove it first")
    target.write_text(init_recipe_text(target.stem), encoding="utf-8")
    say(f"wrote {target}; edit it, then run: joypix run {target}")
    return EXIT_OK
