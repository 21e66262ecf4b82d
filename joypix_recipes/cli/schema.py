"""``joypix schema``: print the recipe JSON Schema, or the watch file's."""

from __future__ import annotations

import argparse
import sys

from joypix_recipes.cli.boundary import EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the recipe JSON Schema (or the watch-file schema) for editors and other tools."""
    if args.watch_file:
        from joypix_recipes.watch.config import watch_schema_text

        sys.stdout.write(watch_schema_text())
    else:
        from joypix_recipes.recipe.schema import schema_text

        sys.stdout.write(schema_text())
    return EXIT_OK
