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
    folder = target.parent
    made = not folder.is_dir()
    try:
        # As mkdir -p: `joypix init promos/summer.yaml` means "a recipe there", folder or not.
        folder.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as file:
            file.write(init_recipe_text(target.stem))
    except FileExistsError as error:
        if error.filename == str(target):  # written since the check above
            raise UsageError(f"{target} already exists; choose another name or remove it first") from error
        raise UsageError(f"cannot make the folder {error.filename}: a file has that name") from error
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or 'I/O error'}") from error
    made_note = f" (made the folder {folder})" if made else ""
    say(f"wrote {target}{made_note}; edit it, then run: joypix run {target}")
    return EXIT_OK
