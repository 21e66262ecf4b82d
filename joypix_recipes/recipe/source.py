"""Reading a recipe file into plain data with the line and column of every node.

Scalars follow YAML 1.2's core schema (so `aspect: 9:16` stays the text "9:16" instead of YAML 1.1's
sexagesimal 556, and `no` stays text); duplicate keys, oversized files and alias bombs are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from joypix_recipes.errors import Problem, RecipeError

MAX_BYTES = 1024 * 1024
"""Recipes are small; anything bigger is a mistake (or an attack) and is refused before parsing."""

MAX_NODES = 100_000
"""Nodes after expanding aliases; a billion-laughs document hits this long before memory runs out."""

MAX_DEPTH = 64

DataPath = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _CoreResolver(BaseResolver):  # type: ignore[misc]
    """YAML 1.2 core schema: no sexagesimal numbers, no yes/no/on/off booleans, no timestamps."""


_CoreResolver.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_CoreResolver.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_CoreResolver.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
_CoreResolver.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_CoreResolver.add_implicit_resolver(_MERGE, re.compile(r"^<<$"), ["<"])


class _PythonLoader(Reader, Scanner, Parser, Composer, _CoreResolver):  # type: ignore[misc]
    """PyYAML's pure-Python front half (nodes keep their marks); we build the data ourselves."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


def _make_loader(text: str) -> Any:
    """libyaml's parser when PyYAML has it (much faster on large files), else the pure-Python one."""
    try:
        from yaml.cyaml import CParser
    except ImportError:
        return _PythonLoader(text)

    class _CLoader(CParser, _CoreResolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _CoreResolver.__init__(self)

    return _CLoader(text)


@dataclass(frozen=True)
class Span:
    """Where a node sits in the file: 1-based start and end, plus the scalar style (``|``, ``>``, quotes).

    ``file`` names the file it was written in when that is not the document's own: a value a recipe takes
    from a brand file (``extends``) keeps the brand file's place, so a problem in it is shown there.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    style: str | None = None
    file: str | None = None


@dataclass(frozen=True)
class Origin:
    """A file a recipe builds on (through ``extends``): its lines, and the folder its relative paths start from."""

    lines: tuple[str, ...]
    directory: Path


@dataclass(frozen=True)
class Document:
    """A parsed recipe file: its data, the span of every value and key, its lines, and problems found."""

    file: str
    data: Any
    values: dict[DataPath, Span] = field(default_factory=dict)
    keys: dict[DataPath, Span] = field(default_factory=dict)
    lines: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    origins: dict[str, Origin] = field(default_factory=dict)
    """The other files values came from (``extends``), by the name spans give them."""

    def value_span(self, path: DataPath) -> Span:
        """Span of the value at ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            span = self.values.get(path[:end])
            if span is not None:
                return span
        return Span(1, 1, 1, 1)

    def key_span(self, path: DataPath) -> Span:
        """Span of the key that holds ``path`` (falls back to the value's span)."""
        return self.keys.get(path) or self.value_span(path)

    def problem(self, span: Span, message: str) -> Problem:
        """A Problem at ``span``, in this file or the one the value was written in."""
        return Problem(span.file or self.file, span.line, span.column, message)

    def template_problem(self, span: Span, template_line: int, token: str | None, message: str) -> Problem:
        """A Problem inside a template value, at the template's own line (and ``token``, when found)."""
        origin = self.origins.get(span.file) if span.file else None
        line, column = locate(origin.lines if origin else self.lines, span, template_line, token)
        return Problem(span.file or self.file, line, column, message)


def locate(lines: tuple[str, ...], span: Span, template_line: int = 1, token: str | None = None) -> tuple[int, int]:
    """Recipe line and column of ``token`` on line ``template_line`` of the template held by the scalar at ``span``.

    A dotted token ("vars.title") is looked for whole first, and the column given is its last part's.
    """
    first = span.line
    last = max(first, min(span.end_line, len(lines)))
    block = span.style in ("|", ">")
    hint = min(max(first + template_line - (0 if block else 1), first), last)
    order = [hint, *(n for n in range(first, last + 1) if n != hint)]
    for candidate in _token_forms(token):
        for number in order:
            text = lines[number - 1] if number <= len(lines) else ""
            found = _find_token(text, candidate, span.column - 1 if number == first else 0)
            if found >= 0:
                return number, found + len(candidate) - len(candidate.rsplit(".", 1)[-1]) + 1
    if hint == first and not block:
        return first, span.column
    text = lines[hint - 1] if hint <= len(lines) else ""
    return hint, len(text) - len(text.lstrip()) + 1


def _token_forms(token: str | None) -> list[str]:
    if not token:
        return []
    return [token, token.rsplit(".", 1)[-1]] if "." in token.strip(".") else [token]


def _find_token(text: str, token: str, start: int) -> int:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", token):  # a name: match it whole, not inside a longer one
        match = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(token)}(?![A-Za-z0-9_])").search(text, start)
        return match.start() if match else -1
    return text.find(token, start)


def load_yaml(path: Path, display: str | None = None) -> Document:
    """Parse ``path``; raises RecipeError on anything wrong in the YAML itself (syntax, duplicates, limits)."""
    document = read_document(path, display)
    if document.problems:
        raise RecipeError(list(document.problems))
    return document


def read_document(path: Path, display: str | None = None) -> Document:
    """Parse ``path`` and return the document with its YAML-level problems; raises RecipeError if unreadable."""
    return with_hook(path, read_raw_document(path, display))


def read_raw_document(path: Path, display: str | None = None) -> Document:
    """``read_document`` without the document hook (a file another builds on is read so)."""
    file = display if display is not None else str(path)
    return parse_text(_read_text(path, file), file)


def with_hook(path: Path, document: Document) -> Document:
    """``document`` (read from ``path``) as the current document hook changes it, if any."""
    hook = _document_hook.get()
    return document if hook is None else hook(path, document)


DocumentHook = Callable[[Path, Document], Document]

_document_hook: ContextVar[DocumentHook | None] = ContextVar("joypix_document_hook", default=None)


@contextmanager
def document_hook(hook: DocumentHook) -> Iterator[None]:
    """While inside, every document read passes through ``hook`` before anything checks it.

    This is how --set changes a recipe before validation, so its values are judged like the file's own.
    """
    token = _document_hook.set(hook)
    try:
        yield
    finally:
        _document_hook.reset(token)


def parse_text(text: str, file: str) -> Document:
    """Parse recipe text (already decoded); raises RecipeError for syntax errors and limits."""
    _check_flow_depth(text, file)
    try:
        loader = _make_loader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as error:
        line, column = _position(text, error.position)
        raise RecipeError(
            [Problem(file, line, column, "a control character that YAML does not allow; remove it")]
        ) from error
    except yaml.MarkedYAMLError as error:
        raise RecipeError([_syntax_problem(file, error, text)]) from error
    except yaml.YAMLError as error:
        raise RecipeError([Problem(file, 1, 1, "not valid YAML")]) from error
    except RecursionError as error:
        raise RecipeError([Problem(file, 1, 1, "the YAML is nested too deeply to be a recipe")]) from error
    lines = tuple(text.splitlines())
    if root is None:
        return Document(file, None, lines=lines)
    _check_size(root, file)
    builder = _Builder(file, lines)
    data = builder.build(root, (), 0)
    return Document(file, data, builder.values, builder.keys, lines, tuple(builder.problems))


def _check_flow_depth(text: str, file: str) -> None:
    """Refuse deeply nested [ and { before parsing: PyYAML's scanner slows quadratically with flow depth."""
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if match.group() in "[{" else max(0, depth - 1)
        if depth > MAX_DEPTH:
            line, column = _position(text, match.start())
            raise RecipeError(
                [Problem(file, line, column, f"nested more than {MAX_DEPTH} levels deep; a recipe is much flatter")]
            )


def _position(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(offset, len(text)))
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


_stand_ins: ContextVar[tuple[tuple[Path, bytes], ...]] = ContextVar("joypix_recipe_stand_ins", default=())


@contextmanager
def recipe_bytes(path: Path, raw: bytes) -> Iterator[None]:
    """While inside, the recipe at ``path`` reads as ``raw``: a recipe piped in, named by a path that is no file
    (``<stdin>``), so its messages name that and its relative paths resolve against the path's folder."""
    token = _stand_ins.set(((Path(path), raw), *_stand_ins.get()))
    try:
        yield
    finally:
        _stand_ins.reset(token)


def _read_text(path: Path, file: str) -> str:
    raw = next((given for where, given in _stand_ins.get() if where == Path(path)), None)
    if raw is None:
        raw = _read_bytes(path, file)
    if len(raw) > MAX_BYTES:
        raise RecipeError([Problem(file, 1, 1, "the file is over 1 MB; a recipe is a small text file")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise RecipeError([Problem(file, line, column, "the file is not UTF-8 text; save it as UTF-8")]) from error


def _read_bytes(path: Path, file: str) -> bytes:
    try:
        if path.is_dir():
            raise RecipeError([Problem(file, 1, 1, "is a folder, not a recipe file")])
        with path.open("rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError as error:
        raise RecipeError([Problem(file, 1, 1, "no such recipe file")]) from error
    except OSError as error:
        raise RecipeError(
            [Problem(file, 1, 1, f"cannot read the recipe file ({error.strerror or 'I/O error'})")]
        ) from error


_FRIENDLY = (
    ("found character '\\t' that cannot start any token", "a tab character; YAML is indented with spaces, not tabs"),
    (
        "mapping values are not allowed",
        "unexpected ':' here; check the indentation, or quote a value that contains ': '",
    ),
    ("could not find expected ':'", "expected 'key: value' here; check the indentation or a missing ':'"),
    ("expected a single document", "a recipe is one YAML document; remove the second '---'"),
    ("found undefined alias", "an alias (*name) that refers to no anchor (&name)"),
    (
        "did not find expected key",
        "this line is not lined up with the keys above it{since}; indent it as far as the key it belongs with",
    ),
    (
        "did not find expected '-' indicator",
        "this list item is not lined up with the items above it{since}; put its '-' under theirs",
    ),
    ("did not find expected ',' or '}'", "a '{{' opened here is never closed with '}}', or a ',' is missing"),
    ("did not find expected ',' or ']'", "a '[' opened here is never closed with ']', or a ',' is missing"),
    ("while scanning a quoted scalar", "a quote opened here is never closed; close it on the same text"),
    ("expected <block end>", "this line is indented differently from the lines around it; line it up with its key"),
    ("that cannot start any token", "this character cannot start a plain value; put the value in quotes"),
)
"""PyYAML's wording -> plain words; ``{since}`` names where the block the line should line up with starts."""

_AT_THE_OPENING = ("while scanning a quoted scalar", "did not find expected ',' or")
"""Mistakes better shown where they begin (the quote or bracket left open) than where YAML gave up."""

_UNQUOTED_TEMPLATE = r"^(\s*(?:-\s+)?[^\s:#'\"][^:#]*?):\s+(\{\{.*?)\s*$"
"""A ``key: {{ ... }}`` line (compiled only for a file with a syntax error)."""


def _syntax_problem(file: str, error: yaml.MarkedYAMLError, text: str) -> Problem:
    mark = error.problem_mark or error.context_mark
    context = error.context_mark
    problem = error.problem or error.context or "not valid YAML"
    lines = text.splitlines()
    if mark is not None and mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
        problem = "found character '\\t' that cannot start any token"
    for number in sorted({m.line for m in (mark, context) if m is not None and m.line < len(lines)}, reverse=True):
        unquoted = _unquoted_template(file, lines[number], number + 1)
        if unquoted is not None:
            return unquoted
    since = ""
    if context is not None and mark is not None and context.line < mark.line:
        since = f" (line {context.line + 1} starts them at column {context.column + 1})"
    for fragment, friendly in _FRIENDLY:
        if fragment in f"{error.context} {problem}":
            problem = friendly.format(since=since)
            if fragment.startswith(_AT_THE_OPENING) and context is not None:
                mark = context
            break
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Problem(file, line, column, f"YAML syntax: {problem}")


def _unquoted_template(file: str, line: str, number: int) -> Problem | None:
    """A ``key: {{ ... }}`` line: YAML reads the braces as a mapping, so the template needs quotes."""
    match = re.match(_UNQUOTED_TEMPLATE, line)
    if match is None:
        return None
    key, value = match.group(1).strip().removeprefix("- ").strip(), match.group(2)
    return Problem(file, number, match.start(2) + 1, _quote_hint(key, value))


def _quote_hint(key: str, value: str) -> str:
    quote = "'" if '"' in value else '"'
    return (
        f"put the template in quotes, as in {key}: {quote}{value}{quote}"
        " (without them YAML reads {{ ... }} as a mapping)"
    )


def _check_size(root: Node, file: str) -> None:
    """Count nodes as if aliases were expanded, without expanding them; refuse cycles and bombs."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _refuse(file, node, "an alias refers to its own anchor (a loop); recipes cannot be recursive")
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        if total > MAX_NODES:
            raise _refuse(file, node, f"the document expands to over {MAX_NODES} nodes (an alias bomb?); refusing it")
        sizes[key] = total
        return total

    try:
        size(root)
    except RecursionError as error:
        raise RecipeError([Problem(file, 1, 1, "the YAML is nested too deeply to be a recipe")]) from error


def _refuse(file: str, node: Node, message: str) -> RecipeError:
    return RecipeError([Problem(file, node.start_mark.line + 1, node.start_mark.column + 1, message)])


def _span(node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    style = (node.style or None) if isinstance(node, ScalarNode) else None
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1, style)


class _Builder:
    """Turns the node graph into dicts, lists and scalars, recording spans and problems on the way."""

    def __init__(self, file: str, lines: tuple[str, ...] = ()) -> None:
        self.file = file
        self.lines = lines
        self.values: dict[DataPath, Span] = {}
        self.keys: dict[DataPath, Span] = {}
        self.problems: list[Problem] = []

    def _problem(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, node.start_mark.column + 1, message))

    def build(self, node: Node, path: DataPath, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self._problem(node, f"nested more than {MAX_DEPTH} levels deep; a recipe is much flatter")
            return None
        self.values.setdefault(path, _span(node))
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode):
            self._check_tag(node, _SEQ)
            return [self.build(child, (*path, index), depth + 1) for index, child in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        template = self._unquoted_template(node)
        if template is not None:
            return template
        self._check_tag(node, _MAP)
        return self._mapping(node, path, depth)

    def _unquoted_template(self, node: MappingNode) -> str | None:
        """``key: {{ vars.x }}`` parses as a mapping in a mapping; said once, and kept as the text it meant."""
        start, end = node.start_mark, node.end_mark
        if not node.flow_style or start.line != end.line or start.line >= len(self.lines):
            return None
        line = self.lines[start.line]
        written = str(line[start.column : end.column])
        if not written.startswith("{{") or not written.endswith("}}"):
            return None
        before = re.search(r"([^\s{},\[\]:'\"-][^{},\[\]:]*?)\s*:\s*$", line[: start.column])
        key = before.group(1).strip() if before else "key"
        self._problem(node, _quote_hint(key, written))
        return written

    def _check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            self._problem(node, f"the tag {node.tag} is not supported in recipes; remove it")

    def _scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        try:
            if tag == _STR:
                return text
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return text.lower() == "true"
            if tag == _INT:
                return _to_int(text)
            if tag == _FLOAT:
                return _to_float(text)
        except ValueError:
            self._problem(node, f"'{text}' is not a valid {tag.rsplit(':', 1)[-1]}")
            return text
        self._problem(node, f"the tag {tag} is not supported in recipes; remove it")
        return text

    def _mapping(self, node: MappingNode, path: DataPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(key_node, "a key must be plain text, not a list or mapping")
                continue
            key = key_node.value
            if key in result:
                first = self.keys[(*path, key)]
                self._problem(key_node, f"duplicate key '{key}' (first defined at line {first.line}); remove one")
                continue
            self.keys.setdefault((*path, key), _span(key_node))
            result[key] = self.build(value_node, (*path, key), depth + 1)
        for merge in merges:
            self._merge(result, merge, path, depth)
        return result

    def _merge(self, result: dict[str, Any], merge: Node, path: DataPath, depth: int) -> None:
        sources = merge.value if isinstance(merge, SequenceNode) else [merge]
        for source in sources:
            if not isinstance(source, MappingNode):
                self._problem(source, "'<<' merges a mapping (or a list of mappings) only")
                continue
            merged = self._mapping(source, path, depth)
            for key, value in merged.items():
                result.setdefault(key, value)


def _to_int(text: str) -> int:
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text, 10)


def _to_float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    return float(text)
