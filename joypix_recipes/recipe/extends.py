"""``extends: brand.yaml``: a recipe built on a brand file (which may build on another), merged into one document.

The rules: mappings merge key by key, the extending file winning; anything else (a list, a value) is
replaced whole, except the top-level lists written ``steps+``, ``inputs+`` or ``variants+``, which are
appended to the brand file's list. Every merged value keeps the place it was written (its span names the
brand file when it came from one), so a problem is shown where the value is, and a brand file's relative
paths start from the brand file's folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
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


@dataclass
class _Spans:
    """The merged document's spans, gathered as each merged value says where it came from."""

    values: dict[DataPath, Span]
    keys: dict[DataPath, Span]

    def take(self, source: Document, tag: str | None, at: DataPath, origin: DataPath, whole: bool) -> None:
        """Copy the spans of ``origin`` in ``source`` to ``at`` (its whole subtree when ``whole``)."""
        for mine, theirs in ((self.values, source.values), (self.keys, source.keys)):
            for path, span in theirs.items():
                if path[: len(origin)] != origin or (not whole and len(path) != len(origin)):
                    continue
                moved = (*at, *path[len(origin) :])
                mine[moved] = span if span.file or tag is None else replace(span, file=tag)


def _merged(base: Document, top: Document, base_directory: Path) -> Document:
    """``top`` laid over ``base`` (read from ``base_directory``) by the rules above; ``top`` keeps its own file
    name, and ``base`` values not already tagged with theirs are tagged with the base's."""
    spans = _Spans({}, {})
    problems: list[Problem] = [*base.problems, *top.problems]
    tag = base.file if base.data else None
    base_data = base.data if isinstance(base.data, dict) else {}
    top_data: dict[str, Any] = top.data
    spans.take(top, None, (), (), whole=False)
    data: dict[str, Any] = {}
    for key, value in base_data.items():
        if key == "extends":
            continue
        data[key] = value
        spans.take(base, tag, (key,), (key,), whole=True)
    for key, value in top_data.items():
        name = key[:-1] if key.endswith("+") and key[:-1] in APPENDED else None
        if name is not None and isinstance(value, list):
            if name in top_data:
                where = top.key_span((key,))
                problems.append(
                    top.problem(where, f"write {name} or {key}, not both ({key} adds to the brand file's {name})")
                )
                continue
            kept = data.get(name) if isinstance(data.get(name), list) else []
            assert isinstance(kept, list)
            if not isinstance(data.get(name), list):
                _drop(spans, (name,))
            spans.take(top, None, (name,), (key,), whole=False)
            for index in range(len(value)):
                spans.take(top, None, (name, len(kept) + index), (key, index), whole=True)
            data[name] = [*kept, *value]
            continue
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = _mapping(base, tag, top, (key,), data[key], value, spans)
            continue
        _drop(spans, (key,))
        data[key] = value
        spans.take(top, None, (key,), (key,), whole=True)
    origins = {**base.origins, **top.origins}
    if tag is not None:
        origins[tag] = Origin(base.lines, base_directory)
    return Document(top.file, data, spans.values, spans.keys, top.lines, tuple(problems), origins)


def _mapping(
    base: Document,
    tag: str | None,
    top: Document,
    at: DataPath,
    under: dict[str, Any],
    over: dict[str, Any],
    spans: _Spans,
) -> dict[str, Any]:
    """Two mappings at ``at`` merged key by key, ``over`` (the extending file's) winning."""
    spans.take(top, None, at, at, whole=False)
    result = dict(under)
    for key, value in over.items():
        here = (*at, key)
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _mapping(base, tag, top, here, result[key], value, spans)
            continue
        _drop(spans, here)
        result[key] = value
        spans.take(top, None, here, here, whole=True)
    return result


def _drop(spans: _Spans, at: DataPath) -> None:
    """Forget the spans under ``at``: a value replaced whole leaves nothing of the old one behind."""
    for mine in (spans.values, spans.keys):
        for path in [path for path in mine if path[: len(at)] == at]:
            del mine[path]
