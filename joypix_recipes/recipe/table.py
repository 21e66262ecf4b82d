"""Tables of inputs (.csv, .tsv, .json list of objects, .jsonl): one input entry per row, read as a stream.

A row becomes the same entry a recipe could list inline (``{path: ..., vars: {...}}`` or ``{url: ...}``):
the column ``image`` (or ``path``, or ``url``) names the picture and every other column is a var, as
text. A row that cannot become an entry is a ``TableRow`` with a problem, so the other rows still run;
a table that cannot be read at all (no picture column, a column that is no var name) is a PlanError.
``Tables`` keeps each table of a run once read, for the recipe's checks, the command line and the planner.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from joypix_recipes.errors import PlanError

if TYPE_CHECKING:
    import csv

TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".json", ".jsonl"})
PICTURE_COLUMNS = ("image", "path", "url")
GROUP_COLUMN = "images"
MAX_ROWS = 100_000
"""More rows than this is one batch too many to plan at once: split the table."""
MAX_JSON_BYTES = 32 * 1024 * 1024
"""A .json list is parsed whole, so it is capped; .jsonl streams a line at a time."""
MAX_LINE_CHARACTERS = 1024 * 1024
"""A .jsonl line (one row), and a .csv/.tsv cell, may be this long at most."""

_VAR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class TableRow:
    """One row: where it is (``place``, "line 4" or "item 3"), and its input entry or why there is none."""

    place: str
    entry: dict[str, Any] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Table:
    """A table read whole: its column names (None if reading stopped before them), its rows, and the
    reason reading stopped early, if it did (the rows before that point are kept)."""

    path: Path
    columns: tuple[str, ...] | None
    rows: tuple[TableRow, ...]
    failure: str | None = None

    def column_names(self) -> tuple[str, ...]:
        """The columns (vars the recipe's templates may use); raises PlanError if the table has none to give."""
        if self.columns is not None:
            return self.columns
        raise PlanError(self.failure or f"table {self.path} has no rows")


TableReader = Callable[[Path], Table]
"""How ``Tables`` reads a table file: ``read_whole_table``, or a stand-in given by a test."""


class Tables:
    """The tables of one run, each read once by whoever asks first (the recipe's checks, --input, the plan)."""

    def __init__(self, read: TableReader | None = None) -> None:
        self._read = read or read_whole_table
        self._tables: dict[Path, Table] = {}

    def table(self, path: Path) -> Table:
        """The table at ``path`` (relative to the current folder), read on first use."""
        key = Path(os.path.abspath(path))
        if key not in self._tables:
            self._tables[key] = self._read(key)
        return self._tables[key]

    def columns(self, path: Path) -> tuple[str, ...]:
        """The column names of the table at ``path``; raises PlanError if it has none to give."""
        return self.table(path).column_names()


def is_table(name: str | Path) -> bool:
    """Whether a file name is one of the table kinds (by its suffix)."""
    return Path(name).suffix.lower() in TABLE_SUFFIXES


def read_table(path: Path) -> Iterator[TableRow]:
    """Every row of a table, in order, streamed; raises PlanError when the table as a whole is unusable."""
    with _opened(path) as file:
        yield from _Reader(path, file).rows()


def read_whole_table(path: Path) -> Table:
    """Every row of a table, kept (at most MAX_ROWS); a PlanError while reading becomes the table's failure."""
    rows: list[TableRow] = []
    try:
        with _opened(path) as file:
            reader = _Reader(path, file)
            try:
                for row in reader.rows():
                    rows.append(row)
            except PlanError as error:
                return Table(path, reader.known_columns(), tuple(rows), str(error))
    except PlanError as error:  # the file would not open
        return Table(path, None, (), str(error))
    return Table(path, reader.known_columns(), tuple(rows))


def _opened(path: Path) -> IO[str]:
    try:
        if path.suffix.lower() == ".json" and path.stat().st_size > MAX_JSON_BYTES:
            raise PlanError(
                f"table {path} is larger than {MAX_JSON_BYTES // (1024 * 1024)} MB; write it as .jsonl "
                "(one object a line) so it can be read a row at a time"
            )
        # newline="" lets the csv module see line ends inside quoted cells.
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise PlanError(f"cannot read table {path}: {error.strerror or 'I/O error'}") from error


class _Reader:
    """Reads one open table file; the header is checked before any row is given out."""

    def __init__(self, path: Path, file: IO[str]) -> None:
        self.path = path
        self.file = file
        self.kind = path.suffix.lower()
        self.name = str(path)
        self._columns: list[str] | None = None
        self._column_set: frozenset[str] = frozenset()
        self._picture = PICTURE_COLUMNS[0]
        self._at_end = False

    def known_columns(self) -> tuple[str, ...] | None:
        """The column names once the header (or the first JSON object) has been read, else None."""
        return None if self._columns is None else tuple(self._columns)

    def rows(self) -> Iterator[TableRow]:
        try:
            records = self._json_records() if self.kind in (".json", ".jsonl") else self._delimited_records()
            for count, (place, record) in enumerate(records, start=1):
                if count > MAX_ROWS:
                    raise PlanError(f"table {self.path} has more than {MAX_ROWS} rows; split it into smaller tables")
                yield self._row(place, record)
        except (OSError, UnicodeDecodeError) as error:
            reason = "it is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else error.strerror or "I/O error"
            raise PlanError(f"cannot read table {self.path}: {reason}") from error

    def _delimited_records(self) -> Iterator[tuple[str, tuple[str, ...] | str]]:
        import csv  # only for a recipe with a table

        # csv.Error reports a cell over field_size_limit (a process-wide setting) or a broken quote.
        csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_CHARACTERS))
        too_long: set[int] = set()
        delimiter = "\t" if self.kind == ".tsv" else ","
        # strict: a quote left open fails at the end of the file instead of swallowing every row after it.
        reader = csv.reader(self._bounded_lines(too_long), delimiter=delimiter, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as error:
            raise PlanError(f"{self.path} line 1: cannot read the header ({error})") from error
        if header is None:
            return
        self._set_columns([cell.strip() for cell in header])
        columns = self._columns or []
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader, None)
            except csv.Error as error:
                if self._at_end:
                    raise PlanError(self._unclosed_quote(start, delimiter)) from error
                yield f"line {start}", _csv_problem(error)
                continue
            if cells is None:
                return
            if too_long and too_long.intersection(range(start, reader.line_num + 1)):
                yield f"line {start}", f"longer than {MAX_LINE_CHARACTERS} characters"
                continue
            if not "".join(cells).strip():
                continue  # a blank line between rows is no row
            if len(cells) > len(columns):
                yield f"line {start}", f"{len(cells)} cells but the header names {len(columns)} columns"
                continue
            yield f"line {start}", tuple(cells)

    def _json_records(self) -> Iterator[tuple[str, Any]]:
        if self.kind == ".json":
            try:
                data = json.load(self.file)
            except json.JSONDecodeError as error:
                raise PlanError(f"{self.path} line {error.lineno}: not JSON ({error.msg})") from error
            if not isinstance(data, list):
                raise PlanError(f"{self.path}: a .json table is a list of objects, one per row")
            for index, item in enumerate(data, start=1):
                yield f"item {index}", item
            return
        too_long: set[int] = set()
        for number, line in enumerate(self._bounded_lines(too_long), start=1):
            if number in too_long:
                yield f"line {number}", f"longer than {MAX_LINE_CHARACTERS} characters"
                continue
            if not line.strip():
                continue
            try:
                yield f"line {number}", json.loads(line)
            except json.JSONDecodeError as error:
                yield f"line {number}", f"not JSON ({error.msg})"

    def _bounded_lines(self, too_long: set[int]) -> Iterator[str]:
        """The file's lines, each read with a cap: an over-long line is skipped (an empty line in its
        place keeps the numbering) and its number noted in ``too_long``, so it never sits in memory whole."""
        number = 0
        self._at_end = False
        while line := self.file.readline(MAX_LINE_CHARACTERS + 1):
            number += 1
            if len(line) > MAX_LINE_CHARACTERS and not line.endswith("\n"):
                too_long.add(number)
                while line and not line.endswith("\n"):
                    line = self.file.readline(MAX_LINE_CHARACTERS + 1)
                line = "\n"
            yield line
        self._at_end = True

    def _unclosed_quote(self, start: int, delimiter: str) -> str:
        """Why the file ended inside a record that began at line ``start``: the line its open quote is on."""
        self.file.seek(0)
        lines = enumerate(self._bounded_lines(set()), start=1)
        opened = _open_quote_line(((number, line) for number, line in lines if number >= start), delimiter)
        return (
            f"{self.path} line {opened or start}: a quoted cell starts here and its quote is never closed, so every"
            ' line after it would be read into that cell; close it with " (a quote inside a quoted cell is written "")'
        )

    def _set_columns(self, names: list[str]) -> None:
        wrong = [name for name in names if not _VAR_NAME.match(name)]
        if wrong:
            shown = ", ".join(f"'{name}'" for name in wrong)
            raise PlanError(
                f"table {self.path}: column {shown} cannot be a var name; name columns with a letter "
                "followed by letters, digits or '_'"
            )
        if len(set(names)) != len(names):
            twice = next(name for name in names if names.count(name) > 1)
            raise PlanError(f"table {self.path}: column '{twice}' appears twice")
        pictures = [name for name in (*PICTURE_COLUMNS, GROUP_COLUMN) if name in names]
        if len(pictures) != 1:
            what = "none" if not pictures else " and ".join(f"'{name}'" for name in pictures)
            raise PlanError(
                f"table {self.path}: exactly one column must name the picture (image, path or url;"
                f" or images for a group); found {what}"
            )
        self._columns = names
        self._column_set = frozenset(names)
        self._picture = pictures[0]

    def _row(self, place: str, record: tuple[str, ...] | str | Any) -> TableRow:
        where = f"{self.name} {place}"
        if isinstance(record, str):
            return TableRow(where, problem=record)
        if isinstance(record, tuple):  # the cells of a .csv/.tsv line (JSON gives lists, never tuples)
            values = dict(zip(self._columns or [], record, strict=False))
            for name in self._missing(values):
                values[name] = ""
        elif isinstance(record, dict):
            if self._columns is None:
                self._set_columns([str(key) for key in record])
            extra = next((str(key) for key in record if key not in self._column_set), None)
            if extra is not None:
                return TableRow(where, problem=f"column '{extra}' is not in the first row, which names the columns")
            values = {name: _text(record.get(name)) for name in self._columns or []}
        else:
            return TableRow(where, problem="a row must be an object of column values")
        target = values.pop(self._picture).strip()
        if not target:
            return TableRow(where, problem=f"the {self._picture} cell is empty")
        if self._picture == GROUP_COLUMN:  # a group: paths and globs with ';' between them, one clip
            return TableRow(where, entry={"images": [part.strip() for part in target.split(";") if part.strip()], "vars": values})
        key = "url" if self._picture == "url" or target.startswith(("http://", "https://")) else "path"
        return TableRow(where, entry={key: target, "vars": values})

    def _missing(self, values: dict[str, str]) -> list[str]:
        return [name for name in self._columns or [] if name not in values] if len(values) < len(self._column_set) else []


def _csv_problem(error: csv.Error) -> str:
    if "expected after" in str(error):
        return 'text follows the closing quote of a cell; quote the whole cell (a quote inside it is written "")'
    return f"cannot read the row ({error})"


def _open_quote_line(lines: Iterable[tuple[int, str]], delimiter: str) -> int | None:
    """The number of the line where a quoted cell opens and is still open when ``lines`` end, read as the
    csv module reads a record: a quote opens a cell only as its first character, and "" inside it is a quote."""
    opened: int | None = None
    at_cell_start = True
    for number, line in lines:
        index = 0
        while index < len(line):
            if opened is not None:
                index = line.find('"', index)
                if index < 0:
                    break
                if line.startswith('"', index + 1):
                    index += 2
                    continue
                opened, at_cell_start, index = None, False, index + 1
                continue
            character = line[index]
            if character == '"' and at_cell_start:
                opened = number
            at_cell_start = character in (delimiter, "\r", "\n")
            index += 1
    return opened


def _text(value: Any) -> str:
    """A cell as text: vars from a table are typed as text whatever JSON said (a JSON null is empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
