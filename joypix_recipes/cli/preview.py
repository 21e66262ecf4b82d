"""``joypix preview``: `joypix run --preview`, under a name of its own."""

from __future__ import annotations

import argparse

from joypix_recipes.cli.run import cmd_run

_RUN_ONLY = {"dry_run": False, "notify": [], "detach": False, "broker": None, "storage": None}
"""The run flags a preview does not take, at the values that leave them out."""


def cmd_preview(args: argparse.Namespace) -> int:
    """Plan the recipe's jobs as `joypix run` does, then render each as a draft into OUT/previews/."""
    for name, value in _RUN_ONLY.items():
        setattr(args, name, value)
    args.preview = True
    return cmd_run(args)
