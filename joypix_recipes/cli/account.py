"""``joypix credits`` and ``joypix status``: what the cloud account has left, and what a session holds."""

from __future__ import annotations

import argparse

from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.options import backend_options
from joypix_recipes.cli.signals import run_until_interrupted
from joypix_recipes.cli.streams import say, say_json


def cmd_credits(args: argparse.Namespace) -> int:
    """Show the cloud account's credit balance."""
    from joypix_recipes.backends.account import fetch_credits

    balance = run_until_interrupted(fetch_credits(backend_options(args)))
    if args.json:
        say_json(balance)
    else:
        say(
            f"credits: {balance.get('available', 0)} available, {balance.get('frozen', 0)} frozen,"
            f" {balance.get('total', 0)} total"
        )
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Summarise a cloud session's timeline."""
    from joypix_recipes.backends.account import fetch_status

    say(run_until_interrupted(fetch_status(backend_options(args), args.session)))
    return EXIT_OK
