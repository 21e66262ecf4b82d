"""``joypix completion SHELL``: a completion script for bash, zsh or fish, written from the parser itself.

The script is generated, not kept by hand, so a new command or option is completed the day it is
added. Recipes (``*.yaml``, ``*.yml``) complete where a command takes one, other paths where an option
takes a file or folder, and choices (``--backend local|nemo``) from the parser's own choices.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Literal

from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.parser import build_parser, command_names
from joypix_recipes.cli.streams import say

Completes = Literal["nothing", "recipe", "path", "choice"]

RECIPE_DESTS = {"recipe", "files"}
"""Arguments that name a recipe (run FILE, validate FILE..., watch --recipe)."""
PATH_METAVARS = {"FILE", "DIR", "PATH", "WATCHFILE"}
"""Other arguments shown with these names are files or folders."""


@dataclass(frozen=True)
class Argument:
    """One option or positional argument, as the completion scripts need it."""

    flags: tuple[str, ...]
    """Its option strings; empty for a positional argument."""
    help: str
    takes_value: bool
    completes: Completes
    choices: tuple[str, ...] = ()
    repeats: bool = False
    """Given more than once (``--var``, ``-vv``) or taking several values (``validate FILE...``)."""


@dataclass(frozen=True)
class CommandShape:
    """A command's name, its one-line summary and its arguments."""

    name: str
    summary: str
    options: tuple[Argument, ...]
    positional: Argument | None


def describe(parser: argparse.ArgumentParser) -> list[CommandShape]:
    """Every command of ``parser`` with its arguments, in the order ``joypix --help`` lists them."""
    summaries = {
        choice.dest: choice.help or ""
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for choice in action._choices_actions
    }
    shapes = []
    for name, sub in command_names(parser).items():
        arguments = [_argument(action) for action in sub._actions]
        options = tuple(argument for argument in arguments if argument.flags)
        positional = next((argument for argument in arguments if not argument.flags), None)
        shapes.append(CommandShape(name, summaries.get(name, ""), options, positional))
    return shapes


def global_options(parser: argparse.ArgumentParser) -> tuple[Argument, ...]:
    """The options ``joypix`` itself takes before a command."""
    return tuple(_argument(action) for action in parser._actions if action.option_strings)


def _argument(action: argparse.Action) -> Argument:
    takes_value = action.nargs != 0
    choices = tuple(str(choice) for choice in action.choices) if action.choices and takes_value else ()
    completes: Completes = "nothing"
    if choices:
        completes = "choice"
    elif action.dest in RECIPE_DESTS:
        completes = "recipe"
    elif str(action.metavar or "") in PATH_METAVARS:
        completes = "path"
    help_text = action.help if action.help and action.help != argparse.SUPPRESS else ""
    repeats = action.nargs in ("+", "*") or isinstance(action, (argparse._AppendAction, argparse._CountAction))
    return Argument(tuple(action.option_strings), help_text.replace("%%", "%"), takes_value, completes, choices, repeats)


def cmd_completion(args: argparse.Namespace) -> int:
    """Print the script for ``args.shell``."""
    say(completion_script(args.shell))
    return EXIT_OK


def completion_script(shell: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    from joypix_recipes.cli import completion_scripts

    parser = build_parser()
    writers = {"bash": completion_scripts.bash, "zsh": completion_scripts.zsh, "fish": completion_scripts.fish}
    return writers[shell](describe(parser), global_options(parser))
