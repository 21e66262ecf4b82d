"""``joypix init``: write a commented starter recipe (or a copy of an example) that editors can autocomplete."""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path

from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.streams import say
from joypix_recipes.errors import UsageError


def cmd_init(args: argparse.Namespace) -> int:
    """Write NAME.yaml (recipe.yaml by default), never over an existing file."""
    from joypix_recipes.recipe.starter import init_recipe_text, template_recipe_text

    name = args.name or "recipe"
    target = Path(name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    template = getattr(args, "template", None)
    if template is not None:
        _check_template(template)
    if target.exists():
        raise UsageError(f"{target} already exists; choose another name or remove it first")
    folder = target.parent
    made = not folder.is_dir()
    shown = target.as_posix()
    text = (
        template_recipe_text(template, target.stem, path=shown)
        if template is not None
        else init_recipe_text(target.stem, path=shown)
    )
    try:
        # As mkdir -p: `joypix init promos/summer.yaml` means "a recipe there", folder or not.
        folder.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError as error:
        if error.filename == str(target):  # written since the check above
            raise UsageError(f"{target} already exists; choose another name or remove it first") from error
        raise UsageError(f"cannot make the folder {error.filename}: a file has that name") from error
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or 'I/O error'}") from error
    made_note = f" (made the folder {folder})" if made else ""
    say(f"wrote {target}{made_note}; edit it, then run: joypix run {target}")
    return EXIT_OK


def _check_template(template: str) -> None:
    """An unknown example name is a usage error naming the closest one and all of them."""
    from joypix_recipes.recipe.starter import example_names

    names = example_names()
    if template in names:
        return
    if not names:
        raise UsageError(f"no example recipe named '{template}': this install has no examples (they ship in the source checkout's recipes/)")
    close = difflib.get_close_matches(template.removesuffix(".yaml"), names, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise UsageError(f"no example recipe named '{template}'; {hint}choose from {', '.join(names)}")
