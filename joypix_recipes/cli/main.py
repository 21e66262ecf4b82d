"""The `joypix` command: parse the command line, then run one command inside the error boundary.

Each command lives in a module of its own, imported only when that command runs (and each imports
its heavy modules only when it runs), so `joypix validate` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from joypix_recipes.cli.boundary import EXIT_USAGE, Command, run_command
from joypix_recipes.cli.parser import build_parser, chosen_command
from joypix_recipes.cli.streams import complain_json, configure_logging, forgiving_standard_streams

COMMANDS: dict[str, str] = {
    "validate": "validate",
    "schema": "schema",
    "init": "starter",
    "run": "run",
    "preview": "preview",
    "studio": "studio",
    "credits": "account",
    "status": "account",
    "fetch": "account",
    "doctor": "doctor",
    "emulator": "emulator",
    "watch": "watch",
    "worker": "worker",
    "farm": "farm",
    "completion": "completion",
}
"""Each command and the module under joypix_recipes.cli whose ``cmd_<command>`` runs it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; the error boundary maps errors to exit codes and never shows a traceback to users."""
    chosen = chosen_command(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        if args.json:
            complain_json("joypix: give a command (joypix --help lists them)", EXIT_USAGE)
        else:
            parser.print_help()
        return EXIT_USAGE
    with forgiving_standard_streams():
        if args.command != "validate":  # validate prints its own lines and must start fast
            configure_logging(args)
        return run_command(_checking_farm_packages(command_handler(args.command)), args)


def command_handler(command: str) -> Command:
    """The function that runs ``command``, its module imported now."""
    module = import_module(f"joypix_recipes.cli.{COMMANDS[command]}")
    handler: Command = getattr(module, f"cmd_{command}")
    return handler


def _checking_farm_packages(handler: Command) -> Command:
    """``handler``, preceded by the check that a farm command has the farm extra installed."""

    def checked(args: argparse.Namespace) -> int:
        from joypix_recipes.cli.farm_extra import require_farm_packages, wants_farm

        if wants_farm(args):
            require_farm_packages()
        return handler(args)

    return checked
