"""Checks beyond the schema: the `requires` version, templates (syntax, names, output paths), numbers
written as text, frame rates written as ratios, and variant names. They read the raw data defensively, so they also run on a recipe
that failed the schema and every problem is reported at once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from joypix_recipes import __version__
from joypix_recipes.errors import Problem, RequiresError
from joypix_recipes.job.export import parse_fps
from joypix_recipes.job.kinds.registry import RECIPE_KIND_NAMES, kind_named
from joypix_recipes.recipe.schema import field_schema, number_issues
from joypix_recipes.recipe.source import DataPath, Document
from joypix_recipes.recipe.template.render import (
    Role,
    check_template,
    has_template_syntax,
    parse_number,
)

# Read from each kind's recipe fields (job.kinds), so a new kind needs no entry here; a kind is loaded
# only when a step uses it.


@functools.cache
def number_fields(kind: str) -> tuple[str, ...]:
    """The fields of a step kind that hold a number (or a template that renders to one)."""
    return tuple(f.key for f in kind_named(kind).fields if f.role == "number")


@functools.cache
def text_fields(kind: str) -> tuple[str, ...]:
    """The fields of a step kind, other than its shorthand, that hold a template rendered to text."""
    found = kind_named(kind)
    return tuple(f.key for f in found.fields if f.role in ("text", "media") and f.key != found.shorthand)


@functools.cache
def _text_shorthand(kind: str) -> bool:
    """Whether a kind's bare string is a template (``prompt: hello {{ vars.title }}``)."""
    found = kind_named(kind)
    return any(f.key == found.shorthand and f.role in ("text", "media") for f in found.fields)


@functools.cache
def _percent_fields(kind: str) -> frozenset[str]:
    return frozenset(f.key for f in kind_named(kind).fields if f.percent)


def definition(kind: str) -> str:
    """The schema's ``$defs`` entry for a step kind's body."""
    written = kind_named(kind).definition
    assert written is not None, kind
    return written


def _step_kinds(step: dict[str, Any]) -> list[str]:
    """The step keywords ``step`` has, in the order recipes document them."""
    return [name for name in RECIPE_KIND_NAMES if name in step]


_REQUIRES = re.compile(r"^(?:>=\s*)?([0-9]+(?:\.[0-9]+){0,2})$")


def check_requires(document: Document) -> None:
    """Raise RequiresError when the recipe states a newer joypix than this one (checked before anything else)."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("requires"), str):
        return
    match = _REQUIRES.match(data["requires"].strip())
    if match is None:
        return
    needed = _version_tuple(match.group(1))
    if needed > _version_tuple(__version__):
        message = (
            f"this recipe needs joypix {match.group(1)} or newer, but this is joypix {__version__}; "
            "upgrade with: pip install --upgrade joypix-recipes"
        )
        raise RequiresError([document.problem(document.value_span(("requires",)), message)])


def _version_tuple(text: str) -> tuple[int, int, int]:
    numbers = [int(part) for part in re.findall(r"[0-9]+", text)[:3]]
    numbers += [0] * (3 - len(numbers))
    return numbers[0], numbers[1], numbers[2]


def known_variables(data: Any, extra_vars: Iterable[str] = ()) -> set[str]:
    """Every variable name something defines: recipe vars, inputs' and variants' vars, and --var names."""
    names = set(extra_vars)
    if not isinstance(data, dict):
        return names
    names |= _keys(data.get("vars"))
    for key in ("inputs", "variants"):
        for item in _items(data.get(key)):
            names |= _keys(item.get("vars"))
    return names


def check_document(document: Document, extra_vars: Iterable[str] = ()) -> list[Problem]:
    """Template, number and variant problems (the schema checks shapes; these check meaning)."""
    data = document.data
    if not isinstance(data, dict):
        return []
    known = known_variables(data, extra_vars)
    problems: list[Problem] = []
    for path, text, role in template_fields(data):
        for issue in check_template(text, role, known):
            problems.append(
                document.template_problem(document.value_span(path), issue.line, issue.token, issue.message)
            )
    problems += _number_problems(document)
    problems += _frame_rate_problems(document)
    problems += _variant_name_problems(document)
    return problems


def template_fields(data: dict[str, Any]) -> Iterator[tuple[DataPath, str, Role]]:
    """(path, text, role) of every template in the recipe that has the right shape."""
    steps = data.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("when"), str):
            yield ("steps", index, "when"), step["when"], "expression"
        kinds = _step_kinds(step)
        for name in kinds:
            if isinstance(step.get(name), str) and _text_shorthand(name):
                yield ("steps", index, name), step[name], "text"
        for kind in kinds:
            body = step.get(kind)
            for name in text_fields(kind):
                if isinstance(body, dict) and isinstance(body.get(name), str):
                    yield ("steps", index, kind, name), body[name], "text"
        for path, text in _number_texts(index, step):
            if has_template_syntax(text):
                yield path, text, "number"
    if isinstance(data.get("export"), dict) and isinstance(data["export"].get("output"), str):
        yield ("export", "output"), data["export"]["output"], "output"
    for index, variant in enumerate(_items(data.get("variants"), keep_index=True)):
        export = variant.get("export") if isinstance(variant, dict) else None
        if isinstance(export, dict) and isinstance(export.get("output"), str):
            yield ("variants", index, "export", "output"), export["output"], "output"


def _number_texts(index: int, step: dict[str, Any]) -> Iterator[tuple[DataPath, str]]:
    for kind in _step_kinds(step):
        body = step.get(kind)
        if not isinstance(body, dict):
            continue
        for name in number_fields(kind):
            if isinstance(body.get(name), str):
                yield ("steps", index, kind, name), body[name]


def _number_problems(document: Document) -> Iterator[Problem]:
    """Numbers written as text ("5", "35%") must read as numbers in range; templates are checked at plan time."""
    steps = document.data.get("steps")
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict):
            continue
        for path, text in _number_texts(index, step):
            if has_template_syntax(text):
                continue
            kind, name = str(path[2]), str(path[3])
            percent = name in _percent_fields(kind)
            number = parse_number(text, percent=percent)
            span = document.value_span(path)
            if number is None:
                extra = ' or a percentage such as "35%"' if percent else ""
                yield document.problem(
                    span, f"{kind}.{name} must be a number{extra} or a template that renders to one, not '{text}'"
                )
                continue
            for issue in number_issues(number, field_schema(definition(kind), name), path):
                yield document.problem(span, issue.message)


def _frame_rate_problems(document: Document) -> Iterator[Problem]:
    """A rate written as text ("30000/1001") must be in range too: the schema checks the form, and the range of numbers only."""
    data = document.data
    places: list[DataPath] = [("export",)]
    places += [("variants", index, "export") for index, _ in enumerate(_items(data.get("variants"), keep_index=True))]
    form = re.compile(field_schema("Export", "fps")["pattern"])
    for place in places:
        export = _at(data, place)
        text = export.get("fps") if isinstance(export, dict) else None
        if not isinstance(text, str) or form.search(text) is None:
            continue
        try:
            parse_fps(text)
        except ValueError as error:
            yield document.problem(document.value_span((*place, "fps")), f"export.fps {error}")


def _at(data: Any, path: DataPath) -> Any:
    for key in path:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


def _variant_name_problems(document: Document) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, variant in enumerate(_items(document.data.get("variants"), keep_index=True)):
        name = variant.get("name") if isinstance(variant, dict) else None
        if not isinstance(name, str):
            continue
        span = document.value_span(("variants", index, "name"))
        if name in seen:
            yield document.problem(
                span, f"variant name '{name}' is used twice (first at line {seen[name]}); names must differ"
            )
        else:
            seen[name] = span.line


def _items(value: Any, keep_index: bool = False) -> list[Any]:
    """The dict items of a list (or, with ``keep_index``, every item so indexes match the file)."""
    if not isinstance(value, list):
        return []
    return list(value) if keep_index else [item for item in value if isinstance(item, dict)]


def _keys(value: Any) -> set[str]:
    return {str(key) for key in value} if isinstance(value, dict) else set()
