"""``joypix validate``: check recipes against the schema and the template rules, and their tables' rows."""

from __future__ import annotations

import argparse
from pathlib import Path

from joypix_recipes.cli.boundary import EXIT_JOB_FAILED, EXIT_OK, EXIT_USAGE
from joypix_recipes.cli.parser import parse_vars
from joypix_recipes.cli.streams import complain, say
from joypix_recipes.errors import RecipeError


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 2 if any recipe is invalid, 1 if table rows cannot run, else 0."""
    from joypix_recipes.recipe import load_recipe
    from joypix_recipes.recipe.inputs import bad_table_rows
    from joypix_recipes.recipe.table import Tables

    promised = list(parse_vars(args.var))
    failed = bad_rows = False
    for name in args.files:
        tables = Tables()  # each table is read once, for the recipe's checks and for its rows
        try:
            recipe = load_recipe(Path(name), extra_vars=promised, tables=tables)
        except RecipeError as error:
            failed = True
            for problem in error.problems:
                complain(str(problem))
            continue
        rows = bad_table_rows(recipe, tables)
        for row in rows:
            complain(f"{name}: cannot run {row}")
        bad_rows = bad_rows or bool(rows)
        say(f"{name}: ok" if not rows else f"{name}: ok, but {len(rows)} table row(s) cannot run")
    return EXIT_USAGE if failed else EXIT_JOB_FAILED if bad_rows else EXIT_OK
