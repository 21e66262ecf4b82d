"""``joypix validate``: refuse what ``joypix run`` would refuse before it renders or spends, with the same words.

A recipe is loaded and planned exactly as ``run`` loads and plans it (the same --var values, the same
inputs, tables, media files and templates), so the two commands cannot disagree about a recipe.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from joypix_recipes.cli.boundary import EXIT_JOB_FAILED, EXIT_OK, EXIT_USAGE
from joypix_recipes.cli.parser import parse_vars
from joypix_recipes.cli.streams import complain, say
from joypix_recipes.errors import PlanError, RecipeError


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 2 if any recipe is invalid or cannot be planned, 1 if table rows cannot run, else 0."""
    from joypix_recipes.recipe.batch import load_batch
    from joypix_recipes.recipe.overrides import parse_overrides
    from joypix_recipes.timeline.interpret.check import phrases_not_understood

    # The cloud agent reads prompts itself: only the local backend's reading can be checked here.
    prompts = None if args.backend == "nemo" else phrases_not_understood
    overrides = parse_vars(args.var)
    settings = parse_overrides(args.set)
    failed = bad_rows = False
    for name in args.files:
        try:
            batch = load_batch(Path(name), var_overrides=overrides, overrides=settings)
            # A recipe without inputs gets them from --input or a hot folder: nothing to plan here.
            rows = batch.plan(backend=args.backend, prompts=prompts).rejected if batch.recipe.inputs is not None else ()
        except RecipeError as error:
            failed = True
            for problem in error.problems:
                complain(str(problem))
            continue
        except PlanError as error:
            failed = True
            complain(str(error))
            continue
        for row in rows:
            complain(f"{name}: cannot run {row}")
        bad_rows = bad_rows or bool(rows)
        say(f"{name}: ok" if not rows else f"{name}: ok, but {len(rows)} table row(s) cannot run")
    return EXIT_USAGE if failed else EXIT_JOB_FAILED if bad_rows else EXIT_OK

