"""``joypix validate``: refuse what ``joypix run`` would refuse before it renders or spends, with the same words.

A recipe is loaded and planned exactly as ``run`` loads and plans it (the same --var values, the same
inputs, tables, media files and templates), so the two commands cannot disagree about a recipe.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joypix_recipes.cli.boundary import EXIT_JOB_FAILED, EXIT_OK, EXIT_USAGE
from joypix_recipes.cli.parser import parse_vars
from joypix_recipes.cli.streams import complain, say, say_json
from joypix_recipes.errors import PlanError, RecipeError

if TYPE_CHECKING:
    from joypix_recipes.recipe.overrides import Override
    from joypix_recipes.recipe.plan import PromptCheck

STDIN = "-"
STDIN_NAME = "<stdin>"
"""How a recipe piped in is named in messages; its relative paths resolve against the current folder."""

_PLACED = r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<column>\d+))?: (?P<message>.*)$"
"""A printed problem's parts (compiled only for --json)."""


@dataclass
class Verdict:
    """One file's result: its problems (each a line as printed) and the table rows that cannot run."""

    file: str
    problems: list[str] = field(default_factory=list)
    rows: tuple[str, ...] = ()

    @property
    def invalid(self) -> bool:
        return bool(self.problems)

    def to_json(self) -> dict[str, Any]:
        """``{"file", "ok", "problems": [{"line", "column", "message"}]}``; a row that cannot run is a problem too."""
        lines = [*self.problems, *self.rows]
        return {"file": self.file, "ok": not lines, "problems": [_placed(self.file, line) for line in lines]}


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 2 if any recipe is invalid or cannot be planned, 1 if table rows cannot run, else 0."""
    if args.files.count(STDIN) > 1:
        from joypix_recipes.errors import UsageError

        raise UsageError("validate reads standard input once; give '-' only once")
    # The cloud agent reads prompts itself: only the local backend's reading can be checked here.
    prompts = None if args.backend == "nemo" else _phrases_not_understood
    overrides = parse_vars(args.var)
    settings = _settings(args.set)
    verdicts = []
    for name in args.files:
        with _piped() if name == STDIN else nullcontext():
            verdict = _check(STDIN_NAME if name == STDIN else name, overrides, settings, args.backend, prompts)
        verdicts.append(verdict)
        _show(verdict, as_json=args.json)
    if any(verdict.invalid for verdict in verdicts):
        return EXIT_USAGE
    return EXIT_JOB_FAILED if any(verdict.rows for verdict in verdicts) else EXIT_OK


def _settings(pairs: list[str] | None) -> tuple[Override, ...]:
    """The --set flags read; their module loads only when there are some."""
    if not pairs:
        return ()
    from joypix_recipes.recipe.overrides import parse_overrides

    return parse_overrides(pairs)


def _phrases_not_understood(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The local interpreter's reading of a prompt, its phrase rules compiled only for a recipe with prompts."""
    from joypix_recipes.timeline.interpret.check import phrases_not_understood

    return phrases_not_understood(text)


@contextmanager
def _piped() -> Iterator[None]:
    """While inside, the recipe named ``<stdin>`` is what standard input holds."""
    from joypix_recipes.recipe.source import MAX_BYTES, recipe_bytes

    with recipe_bytes(Path(STDIN_NAME), sys.stdin.buffer.read(MAX_BYTES + 1)):
        yield


def _check(
    name: str,
    overrides: dict[str, str],
    settings: tuple[Override, ...],
    backend: str | None,
    prompts: PromptCheck | None,
) -> Verdict:
    from joypix_recipes.recipe.batch import load_batch

    try:
        batch = load_batch(Path(name), var_overrides=overrides, overrides=settings)
        # A recipe without inputs gets them from --input or a hot folder: nothing to plan here.
        rows = batch.plan(backend=backend, prompts=prompts).rejected if batch.recipe.inputs is not None else ()
    except RecipeError as error:
        return Verdict(name, [str(problem) for problem in error.problems])
    except PlanError as error:
        return Verdict(name, str(error).splitlines())
    return Verdict(name, rows=tuple(rows))


def _show(verdict: Verdict, *, as_json: bool) -> None:
    if as_json:
        say_json(verdict.to_json())
        return
    for problem in verdict.problems:
        complain(problem)
    if verdict.invalid:
        return
    for row in verdict.rows:
        complain(f"{verdict.file}: cannot run {row}")
    rows = verdict.rows
    say(f"{verdict.file}: ok" if not rows else f"{verdict.file}: ok, but {len(rows)} table row(s) cannot run")


def _placed(file: str, line: str) -> dict[str, Any]:
    """A printed problem as ``{"line", "column", "message"}`` (with ``file`` when it is in another file);
    line and column are null for a problem that names no place."""
    found = re.match(_PLACED, line, re.DOTALL)
    if found is None:
        return {"line": None, "column": None, "message": line}
    column = found["column"]
    placed = {"line": int(found["line"]), "column": int(column) if column else None, "message": found["message"]}
    return placed if found["file"] == file else {"file": found["file"], **placed}
