"""``extends: brand.yaml``: a recipe built on a brand file (which may build on another), merged into one document.

The rules: mappings merge key by key, the extending file winning; anything else (a list, a value) is
replaced whole, except the top-level lists written ``steps+``, ``inputs+`` or ``variants+``, which are
appended to the brand file's list. Every merged value keeps the place it was written (its span names the
brand file when it came from one), so a problem is shown where the value is, and a brand file's relative
paths start from the brand file's folder.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from joypix_recipes.errors import Problem, RecipeError
from joypix_recipes.recipe.source import DataPath, Document, Origin, Span, read_raw_document, with_hook

APPENDED = ("steps", "inputs", "variants")
"""The lists a file may add to instead of replacing, by writing the key with a ``+`` (``steps+:``)."""

MAX_CHAIN = 16
"""Brand files extending brand files, at most this deep: enough for any real kit, and a bound on a mistake."""


def resolve_document(path: Path, display: str) -> Document:
    """The recipe at ``path`` with every file it extends merged in, then the document hook (--set) applied.

    Raises RecipeError for a brand file that is missing, unreadable, invalid YAML, or part of a loop.
    """
    return with_hook(path, _resolved(Path(path), display, ()))


def _resolved(path: Path, display: str, chain: tuple[tuple[str, str], ...]) -> Document:
    document = read_raw_document(path, display)
    data = document.data
    written = data.get("extends") if isinstance(data, dict) else None
    appends = isinstance(data, dict) and any(f"{key}+" in data for key in APPENDED)
    if not isinstance(written, str) or not written.strip():
        # No brand file (or one the schema will refuse as written): only ``steps+`` and friends to settle.
        return _merged(_empty(document), document, path.parent) if appends else document
    span = document.value_span(("extends",))
    target = path.parent / Path(written).expanduser()
    shown = os.path.normpath(os.path.join(os.path.dirname(display), written))
    here = (_identity(path), display)
    seen = [*chain, here]
    if any(identity == _identity(target) for identity, _ in seen):
        loop = " -> ".join([name for _, name in seen] + [shown])
        raise RecipeError([document.problem(span, f"extends makes a loop ({loop}); remove one of these extends")])
    if len(seen) >= MAX_CHAIN:
        raise RecipeError([document.problem(span, f"extends is nested more than {MAX_CHAIN} files deep")])
    if not target.is_file():
        what = "is a folder, not a brand file" if target.is_dir() else "not found"
        raise RecipeError([document.problem(span, f"brand file '{written}' {what} (looked for {target.resolve()})")])
    base = _resolved(target, shown, tuple(seen))
    return _merged(base, document, Path(os.path.abspath(target)).parent)


def _identity(path: Path) -> str:
    return os.path.normcase(os.path.realpath(path))


def _empty(document: Document) -> Document:
    return Document(document.file, {}, lines=document.lines)


def _merged(base: Document, top: Document, base_directory: Path) -> Document:
    """``top`` laid over ``base`` (read from ``base_directory``) by the rules above; ``top`` keeps its own file
    name, and ``base`` values not already tagged with theirs are tagged with the base's."""
    problems: list[Problem] = [*base.problems, *top.problems]
    tag = base.file if base.data else None
    base_data = {key: value for key, value in (base.data or {}).items() if key != "extends"}
    top_data: dict[str, Any] = top.data
    appended: dict[str, int] = {}  # list name -> how many of the base's items it keeps
    data = dict(base_data)
    for key, value in top_data.items():
        name = key[:-1] if key.endswith("+") and key[:-1] in APPENDED else None
        if name is not None and isinstance(value, list):
            if name in top_data:
                where = top.key_span((key,))
                problems.append(
                    top.problem(where, f"write {name} or {key}, not both ({key} adds to the brand file's {name})")
                )
                continue
            kept = base_data.get(name) if isinstance(base_data.get(name), list) else []
            assert isinstance(kept, list)
            appended[name] = len(kept)
            data[name] = [*kept, *value]
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = _merged_mapping(data[key], value)
        else:
            data[key] = value
    values: dict[DataPath, Span] = {}
    keys: dict[DataPath, Span] = {}
    # Each place is the base's where the base's value shows through, else the top's (one pass over each).
    for mine, theirs in ((values, base.values), (keys, base.keys)):
        for path, span in theirs.items():
            if path and _shows_through(path, top_data, appended):
                mine[path] = span if span.file or tag is None else replace(span, file=tag)
    for mine, theirs in ((values, top.values), (keys, top.keys)):
        for path, span in theirs.items():
            moved = _appended_path(path, top_data, appended)
            if moved is not None:
                mine[moved] = span
    origins = {**base.origins, **top.origins}
    if tag is not None:
        origins[tag] = Origin(base.lines, base_directory)
    return Document(top.file, data, values, keys, top.lines, tuple(problems), origins)


def _merged_mapping(under: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Two mappings merged key by key, ``over`` (the extending file's) winning."""
    result = dict(under)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(result.get(key), dict)
        result[key] = _merged_mapping(result[key], value) if both else value
    return result


def _shows_through(path: DataPath, top: dict[str, Any], appended: dict[str, int]) -> bool:
    """Whether the base's value at ``path`` is the merged document's (the top neither replaces nor writes it)."""
    if path[0] == "extends":
        return False
    if path[0] in appended:
        return len(path) > 1 and isinstance(path[1], int) and path[1] < appended[path[0]]
    node: Any = top
    for part in path:
        if not isinstance(node, dict):
            return False  # the top replaced a value above this one
        if part not in node:
            return True
        node = node[part]
    return False  # the top wrote this very place (a mapping merged here takes the top's span)


def _appended_path(path: DataPath, top: dict[str, Any], appended: dict[str, int]) -> DataPath | None:
    """Where the top's value at ``path`` sits in the merged document (``steps+`` items after the base's)."""
    if not path or not isinstance(path[0], str) or not path[0].endswith("+"):
        return path
    name = path[0][:-1]
    if name not in appended:
        return None if name in APPENDED and name in top else path
    if len(path) == 1:
        return (name,)
    index = path[1]
    return (name, appended[name] + index, *path[2:]) if isinstance(index, int) else None
