"""``--set PATH=VALUE``: change any recipe setting from the command line, before the recipe is validated.

The value is read as YAML (the recipe's own core schema), so ``480p`` is text, ``24`` a number and
``{in: 0.3}`` a mapping. It replaces the value at PATH in the parsed document, and the document is then
checked exactly as if the file had said it; a problem inside a set value is shown at its --set flag
instead of a FILE:LINE:COL, because the file never held it.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from joypix_recipes.errors import Problem, RecipeError, UsageError
from joypix_recipes.recipe.source import DataPath, Document, DocumentHook, Span, parse_text

_KEY = r"[^.\[\]=\s]+"
_PATH = re.compile(rf"{_KEY}(?:\.{_KEY}|\[\d+\])*")
_PART = re.compile(rf"({_KEY})|\[(\d+)\]")


@dataclass(frozen=True)
class Override:
    """One --set: where (as written and as a data path), the value as typed, and the value it reads as."""

    written: str
    path: DataPath
    text: str
    value: Any

    @property
    def flag(self) -> str:
        return f"--set {self.written}={self.text}"


@dataclass(frozen=True)
class FlagProblem(Problem):
    """A problem in a value --set gave, shown at the flag (the file has no line for it)."""

    flag: str = ""

    def __str__(self) -> str:
        return f"{self.flag}: {self.message}"


def parse_overrides(pairs: Iterable[str]) -> tuple[Override, ...]:
    """``--set PATH=VALUE`` flags as Overrides; raises UsageError for a malformed one."""
    return tuple(parse_override(pair) for pair in pairs)


def parse_override(pair: str) -> Override:
    """One ``PATH=VALUE``; raises UsageError when it is no PATH=VALUE or the value is not YAML."""
    written, separator, text = pair.partition("=")
    written = written.strip()
    if not separator or not written:
        raise UsageError(f"--set expects PATH=VALUE (as in export.resolution=480p), got '{pair}'")
    return Override(written, parse_path(written), text, _parse_value(written, text))


def parse_path(written: str) -> DataPath:
    """``steps[1].text.content`` as ``("steps", 1, "text", "content")``; raises UsageError for another form."""
    if not _PATH.fullmatch(written):
        raise UsageError(
            f"--set {written}: not a setting path; write keys with dots and list items as [N],"
            " as in steps[0].text.content"
        )
    return tuple(key if key else int(index) for key, index in _PART.findall(written))


def _parse_value(written: str, text: str) -> Any:
    # A template alone ("{{ vars.title }}") is meant as text; YAML would read its braces as a mapping.
    if text.strip().startswith("{{"):
        return text
    try:
        document = parse_text(text, "--set")
    except RecipeError as error:
        raise UsageError(f"--set {written}={text}: the value is not valid YAML ({error.problems[0].message})") from None
    if document.problems:
        raise UsageError(f"--set {written}={text}: {document.problems[0].message}")
    return document.data


def show_path(path: DataPath) -> str:
    """A data path as --set writes it: ``steps[1].text``."""
    shown = ""
    for part in path:
        shown += f"[{part}]" if isinstance(part, int) else (f".{part}" if shown else part)
    return shown


def _flag_span(index: int) -> Span:
    """Where a set value "is": a line no file has (-1 for the first flag), mapped back to its flag later."""
    return Span(-(index + 1), 1, -(index + 1), 1)


def apply_overrides(document: Document, overrides: Sequence[Override]) -> Document:
    """The document with every override applied in order; raises UsageError for a path it cannot have."""
    if not overrides:
        return document
    data = copy.deepcopy(document.data) if document.data is not None else {}
    values, keys = dict(document.values), dict(document.keys)
    for index, override in enumerate(overrides):
        data = _set(data, override)
        inside = override.path
        for spans in (values, keys):
            for path in [path for path in spans if path[: len(inside)] == inside]:
                del spans[path]
        values[inside] = keys[inside] = _flag_span(index)
    return replace(document, data=data, values=values, keys=keys)


def _set(data: Any, override: Override) -> Any:
    node = data
    path = override.path
    for depth, part in enumerate(path):
        here = path[:depth]
        last = depth == len(path) - 1
        if isinstance(part, int):
            if not isinstance(node, list):
                raise _path_error(override, here, node, f"[{part}]")
            if part >= len(node):
                items = f"items [0] to [{len(node) - 1}]" if node else "no items"
                raise UsageError(f"{override.flag}: {show_path(here)} has {items}; [{part}] is out of range")
        else:
            if not isinstance(node, dict):
                raise _path_error(override, here, node, f".{part}")
            if part not in node and not last:
                close = difflib.get_close_matches(part, [str(key) for key in node], n=1, cutoff=0.6)
                if close:
                    raise UsageError(
                        f"{override.flag}: {_place(here)} has no '{part}'; did you mean '{show_path((*here, close[0]))}'?"
                    )
                node[part] = {}
        if last:
            node[part] = copy.deepcopy(override.value)
        else:
            node = node[part]
    return data


def _place(path: DataPath) -> str:
    return show_path(path) if path else "the recipe"


def _path_error(override: Override, here: DataPath, node: Any, step: str) -> UsageError:
    kind = "a list" if isinstance(node, list) else "a mapping" if isinstance(node, dict) else "a single value"
    if isinstance(node, list):
        hint = f"; pick an item, as in {show_path(here)}[0]"
    elif isinstance(node, dict):
        hint = f"; name a key, as in {show_path(here)}.KEY" if here else ""
    else:
        hint = f", so it has no {step}; set {show_path(here)} itself"
    return UsageError(f"{override.flag}: {_place(here)} is {kind}{hint}")


def at_flags(problems: Iterable[Problem], overrides: Sequence[Override]) -> list[Problem]:
    """``problems`` with each one inside a set value moved to its --set flag."""
    moved: list[Problem] = []
    for problem in problems:
        index = -problem.line - 1
        if 0 <= index < len(overrides):
            flag = overrides[index].flag
            moved.append(FlagProblem(problem.file, 0, index + 1, problem.message, flag))
        else:
            moved.append(problem)
    return moved


def at_flags_text(text: str, file: str, overrides: Sequence[Override]) -> str:
    """A message that names a place inside a set value (``FILE:-1:5: ...``), naming the --set flag instead."""

    def flag(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return f"{overrides[index].flag}: " if index < len(overrides) else match.group(0)

    return re.sub(rf"{re.escape(file)}:-(\d+):\d+: ", flag, text)


def overrides_hook(recipe: Path, overrides: Sequence[Override]) -> DocumentHook:
    """A source.document_hook that applies ``overrides`` to the recipe at ``recipe`` (and no other file)."""

    def hook(path: Path, document: Document) -> Document:
        return apply_overrides(document, overrides) if Path(path) == Path(recipe) else document

    return hook


def as_mapping(overrides: Sequence[Override]) -> dict[str, Any]:
    """The overrides as plain data, path as written -> value (for --dry-run's JSON and the manifest)."""
    return {override.written: override.value for override in overrides}
