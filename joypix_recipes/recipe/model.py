"""The typed recipe, and `load_recipe`: read, check `requires`, validate, check templates, build.

A Recipe keeps each template with the span it came from, so the planner can report a failure for
one job at the template's own FILE:LINE:COL.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from joypix_recipes.errors import PlanError, Problem, RecipeError
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.kinds.kind import Field
from joypix_recipes.job.kinds.registry import RECIPE_KIND_NAMES, kind_named
from joypix_recipes.recipe.checks import check_document, check_requires
from joypix_recipes.recipe.extends import resolve_document
from joypix_recipes.recipe.schema import validate_document
from joypix_recipes.recipe.source import DataPath, Document, Origin, Span, locate
from joypix_recipes.recipe.table import Tables, is_table
from joypix_recipes.recipe.template.render import Role, has_template_syntax, parse_number

if TYPE_CHECKING:
    from joypix_recipes.job.kinds.captions import CaptionStyle
    from joypix_recipes.job.model import UnknownPhrases


@dataclass(frozen=True)
class Template:
    """A template string and where it is in the recipe; ``percent`` lets a number read "35%"."""

    text: str
    role: Role
    span: Span
    percent: bool = False


Number = float | Template


StepValue: TypeAlias = "Template | float | str | bool | CaptionStyle | None"
"""One field of a step as the recipe wrote it, its default filled in: a template (``text``, ``media`` and
templated ``number`` fields), a number, a word, a caption style, or None (a text with no end)."""


@dataclass(frozen=True)
class Step:
    """One step: its display name, its kind, its body (keyed as the kind's ``Field``s), and an optional ``when``."""

    name: str
    kind: str
    body: dict[str, StepValue]
    when: Template | bool | None
    span: Span


@dataclass(frozen=True)
class InputSpec:
    """One entry of ``inputs``: a glob relative to the recipe, a URL, a table of inputs, or a group, with its own vars.

    ``images`` (files and globs relative to the recipe, in order) makes the entry one group: its images
    become a single clip. Any input source can produce this plain form.
    """

    path: str | None
    url: str | None
    vars: dict[str, Any]
    span: Span
    table: str | None = None
    images: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Variant:
    """One version of every clip: overrides of vars and export settings, and maybe its own output name."""

    name: str
    vars: dict[str, Any]
    export: dict[str, Any]
    output: Template | None
    span: Span


@dataclass(frozen=True)
class Recipe:
    """A valid recipe, ready to plan."""

    path: Path
    file: str
    name: str
    description: str
    backend: str
    seed: int
    unknown_phrases: UnknownPhrases
    requires: str | None
    vars: dict[str, Any]
    inputs: tuple[InputSpec, ...] | None
    steps: tuple[Step, ...]
    export: ExportSettings
    output: Template | None
    variants: tuple[Variant, ...]
    lines: tuple[str, ...] = field(default=(), repr=False, compare=False)
    extra_vars: frozenset[str] = frozenset()
    notify_urls: tuple[str, ...] = ()
    notify_commands: tuple[tuple[str, ...], ...] = ()
    preset: str | None = None
    origins: dict[str, Origin] = field(default_factory=dict, repr=False, compare=False)
    """The brand files values came from (``extends``), by the name their spans give them."""

    @property
    def directory(self) -> Path:
        """The folder relative paths in the recipe start from."""
        return self.path.parent

    def directory_of(self, span: Span) -> Path:
        """The folder a relative path written at ``span`` starts from: its brand file's, or the recipe's."""
        origin = self.origins.get(span.file) if span.file else None
        return origin.directory if origin is not None else self.directory

    def problem_at(self, span: Span, message: str, template_line: int = 1, token: str | None = None) -> Problem:
        """A Problem where ``span`` was written (this recipe or a brand file), at ``token`` on a template's line when given."""
        origin = self.origins.get(span.file) if span.file else None
        line, column = locate(origin.lines if origin else self.lines, span, template_line, token)
        return Problem(span.file or self.file, line, column, message)


def load_recipe(path: Path, extra_vars: Iterable[str] = (), tables: Tables | None = None) -> Recipe:
    """Read and check a recipe; raises RecipeError listing every problem (RequiresError first).

    ``tables`` keeps the recipe's tables once read, so planning the same run reads none of them again.
    """
    document = resolve_document(Path(path), str(path))
    check_requires(document)
    columns, table_problems = _table_columns(document, Path(path).parent, tables or Tables())
    extra = frozenset(extra_vars) | columns
    # A value the YAML layer already faulted (an unsupported tag) is not reported twice.
    faulted = {(problem.file, problem.line, problem.column) for problem in document.problems}
    later = [
        p
        for p in (*validate_document(document), *check_document(document, extra))
        if (p.file, p.line, p.column) not in faulted
    ]
    problems = [*document.problems, *table_problems, *later]
    if problems:
        raise RecipeError(sorted(set(problems), key=lambda p: (p.file, p.line, p.column, p.message)))
    return build_recipe(document, Path(path), extra)


def build_recipe(document: Document, path: Path, extra_vars: frozenset[str] = frozenset()) -> Recipe:
    """A Recipe from a document that passed every check."""
    data: dict[str, Any] = document.data
    export = data.get("export", {})
    inputs = data.get("inputs")
    return Recipe(
        path=Path(os.path.abspath(path)),
        file=document.file,
        name=str(data.get("name") or path.stem),
        description=str(data.get("description", "")),
        backend=str(data.get("backend", "local")),
        seed=int(data.get("seed", 0)),
        unknown_phrases=data.get("unknown_phrases", "fail"),
        requires=data.get("requires"),
        vars=dict(data.get("vars", {})),
        inputs=None if inputs is None else tuple(_input(document, index, item) for index, item in enumerate(inputs)),
        steps=tuple(_step(document, index, step) for index, step in enumerate(data["steps"])),
        export=export_settings(ExportSettings(), export),
        output=_optional_template(document, ("export", "output"), export.get("output"), "output"),
        variants=tuple(_variant(document, index, item) for index, item in enumerate(data.get("variants", []))),
        lines=document.lines,
        extra_vars=extra_vars,
        notify_urls=tuple(target for target in _notify_targets(data) if isinstance(target, str)),
        notify_commands=tuple(tuple(target) for target in _notify_targets(data) if isinstance(target, list)),
        preset=export.get("preset"),
        origins=dict(document.origins),
    )


def _notify_targets(data: dict[str, Any]) -> list[str | list[str]]:
    """``notify:`` as URLs (strings) and commands (argv lists), whichever of its forms was written."""
    written = data.get("notify")
    items = written if isinstance(written, list) else [] if written is None else [written]
    targets: list[str | list[str]] = []
    for item in items:
        if isinstance(item, str):
            targets.append(item)
        elif isinstance(item, dict) and "url" in item:
            targets.append(str(item["url"]))
        elif isinstance(item, dict) and "command" in item:
            targets.append([str(part) for part in item["command"]])
    return targets


def export_settings(base: ExportSettings, overrides: dict[str, Any]) -> ExportSettings:
    """``base`` with the export keys of a recipe or variant applied (``output`` is handled separately).

    A ``preset`` fills its platform's keys first, so keys written beside it win.
    """
    preset: dict[str, Any] = {}
    if "preset" in overrides:
        from joypix_recipes.job.presets import PRESETS  # the platform table only for a recipe that names one

        preset = PRESETS[overrides["preset"]].export_keys()
    explicit = {key: value for key, value in overrides.items() if key not in ("output", "preset")}
    merged = {**base.to_dict(), **preset, **explicit}
    if "preset" in overrides:
        merged["preset"] = overrides["preset"]
    return ExportSettings.from_dict(merged)


def _input(document: Document, index: int, item: Any) -> InputSpec:
    span = document.value_span(("inputs", index))
    if isinstance(item, str):
        return InputSpec(path=item, url=None, vars={}, span=span)
    images = item.get("images")
    return InputSpec(
        path=item.get("path"),
        url=item.get("url"),
        vars=dict(item.get("vars", {})),
        span=span,
        table=item.get("table"),
        images=None if images is None else tuple(str(pattern) for pattern in images),
    )


def _table_columns(document: Document, directory: Path, tables: Tables) -> tuple[frozenset[str], list[Problem]]:
    """The column names of the recipe's tables (vars its templates may use), or why a table cannot be read whole."""
    columns: set[str] = set()
    problems: list[Problem] = []
    inputs = document.data.get("inputs") if isinstance(document.data, dict) else None
    for index, item in enumerate(inputs if isinstance(inputs, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("table"), str) or not is_table(item["table"]):
            continue
        span = document.value_span(("inputs", index))
        origin = document.origins.get(span.file) if span.file else None
        table = tables.table((origin.directory if origin else directory) / Path(item["table"]).expanduser())
        try:
            columns.update(table.column_names())
        except PlanError as error:
            problems.append(document.problem(document.value_span(("inputs", index, "table")), str(error)))
            continue
        if table.failure is not None:  # read only in part (a quote never closed, too many rows): no run of it
            problems.append(document.problem(document.value_span(("inputs", index, "table")), table.failure))
    return frozenset(columns), problems


def _variant(document: Document, index: int, item: dict[str, Any]) -> Variant:
    export = dict(item.get("export", {}))
    output = _optional_template(document, ("variants", index, "export", "output"), export.get("output"), "output")
    return Variant(
        name=item["name"],
        vars=dict(item.get("vars", {})),
        export=export,
        output=output,
        span=document.value_span(("variants", index)),
    )


def _optional_template(document: Document, path: DataPath, text: Any, role: Role) -> Template | None:
    return Template(text, role, document.value_span(path)) if isinstance(text, str) else None


def _step(document: Document, index: int, step: dict[str, Any]) -> Step:
    path: DataPath = ("steps", index)
    kind = next(key for key in RECIPE_KIND_NAMES if key in step)
    when = step.get("when")
    return Step(
        name=str(step.get("name") or f"{kind} {index + 1}"),
        kind=kind,
        body=_body(document, (*path, kind), kind, step[kind]),
        when=Template(when, "expression", document.value_span((*path, "when"))) if isinstance(when, str) else when,
        span=document.value_span(path),
    )


def _body(document: Document, path: DataPath, name: str, written: Any) -> dict[str, StepValue]:
    """Each field of a step's kind, as written or by default; templates kept, literal numbers read."""
    kind = kind_named(name)
    short = not isinstance(written, dict)
    body: dict[str, Any] = {kind.shorthand: written} if short and kind.shorthand else written
    values: dict[str, StepValue] = {}
    for each in kind.fields:
        at = path if short and each.key == kind.shorthand else (*path, each.key)
        values[each.key] = _field(document, at, each, body.get(each.key, kind.default(each)), body)
    return values


def _field(document: Document, at: DataPath, field: Field, value: Any, body: dict[str, Any]) -> StepValue:
    if field.role in ("text", "media"):
        return Template(str(value), "text", document.value_span(at))
    if field.role == "number":
        return None if value is None else _number(document, at, value, field.percent)
    if field.role == "real":
        return float(value)
    if field.role == "flag":
        return bool(value)
    if field.role == "style":
        return _style(document, at[:-1], body)
    return str(value)  # a choice, or the file of cues, as written


def _style(document: Document, path: DataPath, body: dict[str, Any]) -> CaptionStyle:
    """A caption's style, every colour checked (the schema lets any word through as a CSS name)."""
    from joypix_recipes.job.kinds.captions import CaptionStyle, parse_color

    places = [("color",), ("stroke", "color"), ("box", "color")]
    problems = []
    for place in places:
        value: Any = body
        for key in place:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            try:
                parse_color(value)
            except ValueError as error:
                message = f"{error}{_closest_colour(value)}"
                problems.append(document.problem(document.value_span((*path, *place)), message))
    if problems:
        raise RecipeError(problems)
    return CaptionStyle.from_body(body)


def _closest_colour(text: str) -> str:
    """ "; did you mean 'gold'?" for a misspelt CSS name, else nothing."""
    from difflib import get_close_matches

    from PIL import ImageColor  # only for a colour already refused: loading a recipe stays free of imaging libraries

    close = get_close_matches(text.strip().lower(), list(ImageColor.colormap), n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def _number(document: Document, path: DataPath, value: Any, percent: bool) -> Number:
    """A literal number now, or a template kept for the planner (checks already proved literals parse)."""
    if isinstance(value, str):
        if has_template_syntax(value):
            return Template(value, "number", document.value_span(path), percent=percent)
        parsed = parse_number(value, percent)
        if parsed is None:
            raise RecipeError([document.problem(document.value_span(path), f"'{value}' is not a number")])
        return parsed
    return float(value)
