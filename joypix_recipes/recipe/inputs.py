"""Where a run's inputs come from: the recipe's entries, --input values, and tables, as ``Source``s.

Globs and folders expand to sorted absolute paths (never into the output folder); a table gives a
source per row (each table read once per run through ``Tables``); a group (``images:`` or ``--group``)
is one source of several images. Misses come back as one-line problems for the planner to raise together.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from joypix_recipes.job.model import JobInput
from joypix_recipes.recipe.globbing import GlobTooWide, bounded_glob, has_magic
from joypix_recipes.recipe.model import InputSpec, Recipe
from joypix_recipes.recipe.schema import input_issues
from joypix_recipes.recipe.table import Table, Tables, is_table

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".gif"})
"""What a folder given as an input contributes (by name; the renderer checks the content)."""


@dataclass(frozen=True)
class Source:
    """One input before planning: a local file, a URL or a group of files (one clip), and its entry's vars."""

    path: Path | None
    url: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    images: tuple[Path, ...] = ()
    group_name: str = ""
    row: str = ""
    """A table row's key (its first column) or place ("line 4"); empty for inputs listed any other way."""


@dataclass(frozen=True)
class Sources:
    """What a run's inputs gave: a source per input, ``problems`` that stop the plan, and table rows that
    cannot run (``bad_rows``, one line each), which leave out only themselves when the planner allows it."""

    sources: tuple[Source, ...] = ()
    problems: tuple[str, ...] = ()
    bad_rows: tuple[str, ...] = ()

    def __add__(self, other: Sources) -> Sources:
        return Sources(
            self.sources + other.sources, self.problems + other.problems, self.bad_rows + other.bad_rows
        )


def recipe_sources(recipe: Recipe, out: Path, tables: Tables | None = None) -> Sources:
    """The recipe's inputs, globs expanded (relative to the recipe) and sorted; tables give a source per row."""
    tables = tables or Tables()
    found = Sources()
    for spec in recipe.inputs or ():
        if spec.table is not None:
            found += _recipe_table_sources(recipe, spec, spec.table, tables, out)
        elif spec.url is not None:
            found += Sources((Source(None, spec.url, spec.vars),))
        else:
            found += _entry_sources(recipe, spec, out)
    return found


def _entry_sources(recipe: Recipe, spec: InputSpec, out: Path) -> Sources:
    """An inline entry's files (a path or glob: a source each; ``images:``: one group)."""
    patterns = spec.images if spec.images is not None else (str(spec.path),)
    directory = recipe.directory_of(spec.span)  # a brand file's inputs start from the brand file's folder
    files: list[Path] = []
    problems: list[str] = []
    for pattern in patterns:
        try:
            matched = _expand(pattern, directory, out)
        except OSError as error:
            problems.append(
                f"{recipe.problem_at(spec.span, '')}cannot read input '{pattern}': {error.strerror or 'I/O error'}"
            )
            continue
        except GlobTooWide as error:
            problems.append(f"{recipe.problem_at(spec.span, '')}input {error}")
            continue
        if not matched:
            where = recipe.problem_at(spec.span, "")
            what = _miss(pattern, directory, out, "not found")
            problems.append(f"{where}input '{pattern}' {what} (looked in {directory})")
        files += matched
    if spec.images is None:
        sources = tuple(Source(path, None, spec.vars) for path in files)
    else:
        sources = (group_source(files, files[0].stem, spec.vars),) if files else ()
    return Sources(sources, tuple(problems))


def group_source(images: Sequence[Path], name: str, values: Mapping[str, Any] = {}, row: str = "") -> Source:
    """One group input: ``images`` in order (a file listed twice plays twice), named ``name``."""
    return Source(images[0], None, values, images=tuple(images), group_name=name, row=row)


def command_line_sources(
    inputs: Sequence[str], out: Path, tables: Tables | None = None, *, group: bool = False
) -> Sources:
    """Files, folders (their images), globs and tables relative to the current folder, from --input.

    With ``group`` each file, folder or glob becomes one group, named after its folder (or its first image's stem).
    """
    tables = tables or Tables()
    found = Sources()
    for text in inputs:
        table = _command_line_table(text)
        if table is not None:
            found += table_sources(tables.table(table), {}, out)
            continue
        try:
            files = _expand(text, Path.cwd(), out)
        except OSError as error:
            found += Sources(problems=(f"--input '{text}': cannot read it ({error.strerror or 'I/O error'})",))
            continue
        except GlobTooWide as error:
            found += Sources(problems=(f"--input {error}",))
            continue
        if not files:
            found += Sources(problems=(f"--input '{text}': {_miss(text, Path.cwd(), out, 'no such file or folder')}",))
        elif not group:
            found += Sources(tuple(Source(path) for path in files))
        else:
            folder = absolute(Path.cwd() / Path(text).expanduser())
            found += Sources((group_source(files, folder.name if folder.is_dir() else files[0].stem),))
    return found


def table_sources(table: Table, table_vars: Mapping[str, Any], out: Path) -> Sources:
    """A source per row of a table, pictures relative to the table's folder; rows that cannot run are bad rows.

    Each row is checked as an inline input entry would be, then its picture is looked up like one.
    """
    sources: list[Source] = []
    bad_rows: list[str] = []
    vars_checked = False
    for row in table.rows:
        entry = row.entry or {}
        # Every row has the same var names, all text, so their verdict is the first row's: later
        # rows are checked without them (the check costs a validator pass per key).
        checked = entry if not vars_checked else {key: value for key, value in entry.items() if key != "vars"}
        issues = [row.problem] if row.problem is not None else input_issues(checked)
        vars_checked = vars_checked or not issues
        found: list[Path] = []
        for pattern in ([entry["path"]] if "path" in entry else entry.get("images", [])) if not issues else ():
            pictures, issues = _row_pictures(str(pattern), table.path.parent, out)
            found += pictures
            if issues:
                break
        if issues:
            bad_rows.append(f"{row.place}: {issues[0]}")
            continue
        row_vars = {**table_vars, **entry["vars"]}
        key = _row_key(entry["vars"], row.place)
        if "url" in entry:
            sources.append(Source(None, str(entry["url"]), row_vars, row=key))
        elif "images" in entry:
            sources.append(group_source(found, found[0].stem, row_vars, row=key))
        else:
            sources += [Source(path, None, row_vars, row=key) for path in found]
    problems = (table.failure,) if table.failure is not None else ()
    return Sources(tuple(sources), problems, tuple(bad_rows))


MAX_ROW_KEY = 40


def _row_key(row_vars: Mapping[str, Any], place: str) -> str:
    """How messages tell a row apart: its first column (a SKU, a name) when short and filled in, else its place."""
    first = str(next(iter(row_vars.values()), "")).strip()
    return first if first and len(first) <= MAX_ROW_KEY and "\n" not in first else place


def _recipe_table_sources(recipe: Recipe, spec: InputSpec, name: str, tables: Tables, out: Path) -> Sources:
    """The sources of a table a recipe entry names (relative to the file that names it), with the entry's vars."""
    table = absolute(recipe.directory_of(spec.span) / Path(name).expanduser())
    return table_sources(tables.table(table), spec.vars, out)


def command_line_table_columns(inputs: Sequence[str], tables: Tables | None = None) -> set[str]:
    """The columns of the tables among --input values: vars the recipe's templates may use."""
    tables = tables or Tables()
    columns: set[str] = set()
    for text in inputs:
        table = _command_line_table(text)
        if table is not None:
            columns.update(tables.columns(table))
    return columns


def _command_line_table(text: str) -> Path | None:
    """The table an --input value names, if it names one."""
    table = absolute(Path.cwd() / Path(text).expanduser())
    return table if is_table(table) and is_file(table) else None


def _row_pictures(pattern: str, base: Path, out: Path) -> tuple[list[Path], list[str]]:
    """The pictures a table cell names, relative to the table's folder ``base``; a glob must stay inside it."""
    if _is_glob(pattern) and (Path(pattern).expanduser().is_absolute() or ".." in Path(pattern).parts):
        return [], [
            f"image '{pattern}' looks outside the table's folder; a glob in a table names pictures under"
            f" {base}, so write it relative to the table, without '..'"
        ]
    try:
        found = _expand(pattern, base, out)
    except OSError as error:
        return [], [f"cannot read image '{pattern}': {error.strerror or 'I/O error'}"]
    except GlobTooWide as error:
        return [], [f"image {error}"]
    if not found:
        return [], [f"image '{pattern}' {_miss(pattern, base, out, 'not found')} (looked in {base})"]
    return found, []


def _miss(pattern: str, base: Path, out: Path, missing: str) -> str:
    """Why ``pattern`` gave no images, in words."""
    try:
        if _expand(pattern, base, None):
            return (
                f"matches only files in the output folder {out}, which inputs never come from (clips and their"
                " posters are written there); give --out a folder of its own"
            )
        if (base / Path(pattern).expanduser()).is_dir():
            return "holds no images (.jpg, .png, .webp, .heic, .gif)"
    except (OSError, GlobTooWide):
        pass
    return "matches no file" if _is_glob(pattern) else missing


def _is_glob(text: str) -> bool:
    return has_magic(text)


def _expand(pattern: str, base: Path, out: Path | None) -> list[Path]:
    """A file, a folder's images, or a glob's files, as sorted absolute paths; raises GlobTooWide.

    A folder or glob never yields files from the output folder ``out`` (posters beside clips are JPEGs too).
    """
    candidate = absolute(base / Path(pattern).expanduser())
    if candidate.is_file():
        return [candidate]
    if candidate.is_dir():
        found = [
            path
            for path in candidate.iterdir()
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")
        ]
    elif _is_glob(pattern):
        found = [path for path in bounded_glob(str(Path(pattern).expanduser()), base) if is_file(path)]
    else:
        return []
    return sorted({path for path in found if out is None or not path.is_relative_to(out)})


def is_file(path: Path) -> bool:
    """Whether ``path`` is a file; False, not an error, for a name the file system refuses."""
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, for one
        return False


def absolute(path: Path) -> Path:
    """Absolute and normalized, but symlinks kept: a linked photo keeps its own name in the output."""
    return Path(os.path.abspath(path))


def job_input_of(source: Source, index: int) -> JobInput:
    """The job input a source becomes (``index`` counts sources from 1)."""
    if source.images:
        first = source.images[0]
        name = source.group_name or first.stem
        return JobInput(name=name, stem=name, suffix="", index=index, path=first, images=source.images, row=source.row)
    if source.path is not None:
        path = source.path
        return JobInput(name=path.name, stem=path.stem, suffix=path.suffix, index=index, path=path, row=source.row)
    name = unquote(urlsplit(str(source.url)).path.rsplit("/", 1)[-1]) or "image"
    pure = Path(name)
    return JobInput(
        name=name, stem=pure.stem or "image", suffix=pure.suffix, index=index, url=source.url, row=source.row
    )
