"""``joypix completion SHELL``: a completion script for bash, zsh or fish, written from the parser itself.

The script is generated, not kept by hand, so a new command or option is completed the day it is
added. Recipes (``*.yaml``, ``*.yml``) complete where a command takes one, other paths where an option
takes a file or folder, choices (``--backend local|nemo``) from the parser's own choices, the example
recipes after ``init --template``, and ``--set`` setting paths from the recipe schema, with every step
kind of the registry after ``steps[N].``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any, Literal

from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.parser import build_parser, command_names
from joypix_recipes.cli.streams import say

Completes = Literal["nothing", "recipe", "path", "choice", "setting"]

RECIPE_DESTS = {"recipe", "files"}
"""Arguments that name a recipe (run FILE, validate FILE..., watch --recipe)."""
PATH_METAVARS = {"FILE", "DIR", "PATH", "WATCHFILE"}
"""Other arguments shown with these names are files or folders."""
SETTING_DESTS = {"set"}
"""Arguments that take ``PATH=VALUE`` recipe settings (``--set``)."""
EXAMPLE_DESTS = {"template"}
"""Arguments that name an example recipe (``init --template``)."""


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
class Vocabulary:
    """Words the scripts offer that the parser does not know: recipe setting paths and step kinds."""

    settings: tuple[str, ...]
    """Setting paths as typed after ``--set``: ``name=``, ``export.resolution=``, ``steps[``, ``vars.``."""
    step_kinds: tuple[str, ...]
    """What may follow ``steps[N].``: every step kind a recipe may use."""


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
    if action.dest in EXAMPLE_DESTS:
        from joypix_recipes.recipe.starter import example_names

        choices = tuple(example_names())
    completes: Completes = "nothing"
    if choices:
        completes = "choice"
    elif action.dest in SETTING_DESTS:
        completes = "setting"
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
    return writers[shell](describe(parser), global_options(parser), vocabulary())


def vocabulary() -> Vocabulary:
    """The recipe's setting paths (from its JSON Schema) and step kinds (from the registry)."""
    from joypix_recipes.job.kinds.registry import RECIPE_KINDS
    from joypix_recipes.recipe.schema import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    settings: list[str] = []
    for key, spec in schema.get("properties", {}).items():
        spec = _resolved(schema, spec)
        if spec.get("type") == "array":
            settings.append(f"{key}[")
        elif spec.get("type") == "object" and isinstance(spec.get("properties"), dict):
            settings.extend(f"{key}.{inner}=" for inner in spec["properties"])
        elif spec.get("type") == "object":
            settings.append(f"{key}.")
        else:
            settings.append(f"{key}=")
    return Vocabulary(tuple(settings), tuple(kind.name for kind in RECIPE_KINDS))


def _resolved(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """``spec``, or the definition its local ``$ref`` points at."""
    reference = spec.get("$ref")
    if not isinstance(reference, str) or not reference.startswith("#/"):
        return spec
    target: Any = schema
    for part in reference[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, dict) else {}
    return target if isinstance(target, dict) else spec
