"""Recipe templates: sandboxed Jinja2 with strict undefined, static checks, and output paths kept in their folder.

Templates see exactly four names: ``vars``, ``input``, ``variant`` and ``recipe``; nothing from the
environment or Python. Jinja2 is imported only when a text actually contains template syntax.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal, Self

from joypix_recipes.atomic import STATE_FOLDER
from joypix_recipes.errors import PlanError
from joypix_recipes.printable import printable

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

Role = Literal["text", "number", "expression", "output"]

CONTEXT_NAMES = ("vars", "input", "variant", "recipe")
INPUT_FIELDS = ("path", "name", "stem", "suffix", "index", "width", "height", "count", "images")
_FIELDS: dict[str, tuple[str, ...]] = {"input": INPUT_FIELDS, "variant": ("name",), "recipe": ("name",)}
_GUARD_FILTERS = ("default", "d")
_GUARD_TESTS = ("defined", "undefined")
MAX_RENDERED = 100_000
"""Longest text a template may render to; a prompt or a file name is far shorter."""


@dataclass(frozen=True)
class TemplateIssue:
    """A problem found in a template, at a 1-based line of the template and near ``token`` when known."""

    line: int
    message: str
    token: str | None = None


class TemplateFailure(PlanError):
    """Rendering a template failed for one job; the planner adds the recipe location."""

    def __init__(self, message: str, line: int = 1, token: str | None = None) -> None:
        super().__init__(message)
        self.detail = message
        self.line = line
        self.token = token


class OverLimit(TemplateFailure):
    """A template went over a bound on what one render may cost (``limits``)."""


class UnsafeNameValue(TemplateFailure):
    """A value printed into an output name (an input's name, say) would leave its folder: that job alone fails."""


def has_template_syntax(text: str) -> bool:
    """True when ``text`` contains Jinja2 delimiters (plain text needs no Jinja2 at all)."""
    return "{{" in text or "{%" in text or "{#" in text


class Namespace:
    """A read-only set of names for templates (``vars.x``, ``input.stem``); ``loaders`` fill values lazily.

    It has no public attributes, so ``vars.items`` means the variable ``items``, never a method.
    """

    def __init__(
        self,
        label: str,
        values: Mapping[str, Any],
        loaders: Mapping[str, Callable[[], Any]] | None = None,
        missing_hint: str = "",
    ) -> None:
        self._label = label
        self._values = dict(values)
        self._loaders = dict(loaders or {})
        self._missing_hint = missing_hint
        self._reasons: dict[str, str] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._values and key in self._loaders:
            try:
                self._values[key] = self._loaders.pop(key)()
            except LookupError as reason:
                self._reasons[key] = str(reason.args[0]) if reason.args else ""
        if key in self._values:
            return self._values[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self._values or key in self._loaders

    def __iter__(self) -> Iterator[str]:
        return iter([*self._values, *self._loaders])

    def __len__(self) -> int:
        return len(self._values) + len(self._loaders)

    def __str__(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in self._values.items())

    def _missing(self, key: str) -> str:
        reason = self._reasons.get(key)
        if reason:
            return f"{self._label}.{key} is unknown: {reason}"
        return f"{self._label}.{key} is not defined{self._missing_hint.replace('{key}', key)}"


def check_template(text: str, role: Role, known_vars: Collection[str]) -> list[TemplateIssue]:
    """Syntax, names and (for outputs) path checks of one template, without rendering it."""
    if role != "expression" and not has_template_syntax(text):
        return _check_output_literal(text) if role == "output" else []
    if role == "expression" and has_template_syntax(text):
        return [
            TemplateIssue(
                1, "when is already an expression: write it without {{ }}, as in when: variant.name == 'reels'"
            )
        ]
    from jinja2 import TemplateSyntaxError

    try:
        tree = _parse(text, role)
    except TemplateSyntaxError as error:
        return [TemplateIssue(error.lineno or 1, f"template syntax: {error.message or 'invalid template'}")]
    issues = _check_filters_and_tests(tree)
    if issues:  # the name checks compile the template, which an unknown filter stops
        return issues
    try:
        issues = _check_names(tree, known_vars)
    except TemplateSyntaxError as error:  # compiling found what parsing did not
        return [TemplateIssue(error.lineno or 1, f"template syntax: {error.message or 'invalid template'}")]
    if role == "output":
        issues += _check_output_tree(tree)
    if not issues:
        issues = _check_constant_parts(tree, len(text))
    return sorted(issues, key=lambda issue: issue.line)


_DEFAULT_NAME = re.compile(r"\{\{ input\.stem \}\}(?P<variant>-\{\{ variant\.name \}\})?(?P<suffix>\.[a-z0-9]+)")
"""The output names of a recipe that names none, without and with variants, in any format."""
_PLAIN_PART = 4096
"""Values this short are far under every render limit, so a default name made of them needs no budget."""


def render_output(text: str, context: Mapping[str, Any]) -> str:
    """``render_template(text, context, "output")``; the default names are made without loading Jinja2,
    with the same checks on each value, so a recipe without templates plans without it."""
    default = _DEFAULT_NAME.fullmatch(text)
    if default is None:
        return render_template(text, context, "output")
    parts = (context["input"]["stem"], *((context["variant"]["name"],) if default["variant"] else ()))
    if not all(isinstance(part, str) and len(part) <= _PLAIN_PART for part in parts):
        return render_template(text, context, "output")
    for part in parts:
        _check_name_part(part)
    return "-".join(parts) + default["suffix"]


def render_template(text: str, context: Mapping[str, Any], role: Role = "text") -> str:
    """Render ``text`` (role text, number or output) for one job; raises TemplateFailure."""
    if not has_template_syntax(text):
        return text
    template = _compiled(text, role == "output")
    # Printed values and loop iterations are bounded while rendering, so the whole text stays small.
    rendered = str(_guarded(lambda: template.render(context), len(text)))
    if len(rendered) > MAX_RENDERED:
        raise TemplateFailure(f"the template renders to over {MAX_RENDERED} characters")
    return rendered


def evaluate_expression(text: str, context: Mapping[str, Any]) -> bool:
    """Evaluate a ``when`` expression for one job; raises TemplateFailure."""
    expression = _compiled_expression(text)
    return bool(_guarded(lambda: expression(**context), len(text)))


def render_number(text: str, context: Mapping[str, Any], percent: bool = False) -> float:
    """Render a numeric field and read the number (``percent`` also accepts "35%" as 0.35)."""
    rendered = render_template(text, context).strip()
    number = parse_number(rendered, percent)
    if number is None:
        shown = rendered if len(rendered) <= 40 else rendered[:37] + "..."
        raise TemplateFailure(f"renders to '{shown}', which is not a number")
    return number


def parse_number(text: str, percent: bool = False) -> float | None:
    """A finite number from text such as "5", "1.25" or (with ``percent``) "35%"; None if it is not one."""
    value = text.strip()
    divisor = 1.0
    if percent and value.endswith("%"):
        value, divisor = value[:-1].strip(), 100.0
    try:
        number = float(value)
    except ValueError:
        return None
    return number / divisor if math.isfinite(number) else None


def safe_output_path(rendered: str, suffix: str = ".mp4") -> PurePosixPath:
    """The rendered output name as a relative path that stays inside the output folder, out of its state
    folder, ending in the format's ``suffix``; raises TemplateFailure."""
    name = rendered.strip().replace("\\", "/")
    if not name:
        raise TemplateFailure("the output name renders to nothing")
    if "\x00" in name:
        raise TemplateFailure("the output name contains a NUL character")
    if name.startswith(("/", "~")) or (len(name) > 1 and name[1] == ":"):
        raise TemplateFailure(f"the output name '{name}' is absolute; it must be a name inside the output folder")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts):
        raise TemplateFailure(f"the output name '{name}' leaves the output folder ('..')")
    if _in_state_folder(name):
        raise TemplateFailure(f"the output name '{name}' {_STATE}")
    if path.suffix.lower() != suffix:
        raise TemplateFailure(f"the output name '{name}' must end in {suffix}, the extension of the export format")
    return path


def _guarded(call: Callable[[], Any], length: int) -> Any:
    """Run template code within its limits, turning every failure into a TemplateFailure at the template's line."""
    from jinja2 import TemplateError, UndefinedError
    from jinja2.exceptions import SecurityError

    from joypix_recipes.recipe.template.limits import LimitExceeded, budget

    try:
        with budget(length):
            return call()
    except LimitExceeded as error:
        raise OverLimit(str(error), _template_line(error)) from None
    except TemplateFailure:
        raise
    except UndefinedError as error:
        token = getattr(error.args[0], "token", None) if error.args else None
        raise TemplateFailure(str(error), _template_line(error), token) from error
    except SecurityError as error:
        message = "not allowed in a template: private names and Python internals are off limits"
        raise TemplateFailure(message, _template_line(error)) from error
    except TemplateError as error:
        raise TemplateFailure(f"template error: {error.message or 'failed'}", _template_line(error)) from error
    except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError, MemoryError) as error:
        raise TemplateFailure(f"template failed: {_describe_exception(error)}", _template_line(error)) from error


def _describe_exception(error: BaseException) -> str:
    if isinstance(error, ZeroDivisionError):
        return "division by zero"
    if isinstance(error, RecursionError):
        return "too much recursion"
    if isinstance(error, MemoryError):
        return "out of memory"
    if isinstance(error, TypeError):
        return "values of the wrong type (for example text where a number is needed)"
    return str(error).splitlines()[0][:200] if str(error) else "invalid value"


def _template_line(error: BaseException) -> int:
    """Jinja2 rewrites tracebacks so frames from template code carry template line numbers."""
    line = 1
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


@functools.lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    return _make_environment(confined=False)


@functools.lru_cache(maxsize=1)
def _output_environment() -> ImmutableSandboxedEnvironment:
    return _make_environment(confined=True)


def _make_environment(confined: bool) -> ImmutableSandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from jinja2.utils import missing

    from joypix_recipes.recipe.template import limits

    class _Undefined(StrictUndefined):
        """Strict, and its message names the missing variable the way the recipe spells it."""

        __slots__ = ()

        @property
        def _undefined_message(self) -> str:
            owner, name = self._undefined_obj, str(self._undefined_name)
            if self._undefined_hint:
                text = self._undefined_hint
            elif isinstance(owner, Namespace):
                text = owner._missing(name)
                name = f"{owner._label}.{name}"
            elif owner is missing:
                text = f"'{name}' is not defined; templates see only vars, input, variant and recipe"
            else:
                text = f"'{name}' is not defined on {_kind(owner)}"
            return _Message(text, name)

    class _Environment(ImmutableSandboxedEnvironment):
        """Bounds every operation that can grow a value, and charges loops and calls to a budget."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})
        code_generator_class = limits.BoundedCodeGenerator

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            limits.check_binop(operator, left, right)
            return limits.check_size(super().call_binop(context, operator, left, right))

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
            limits.check_call(__obj, args, kwargs)
            return limits.check_size(super().call(__context, __obj, *args, **kwargs))

    environment = _Environment(undefined=_Undefined, autoescape=False, keep_trailing_newline=False)
    environment.globals.clear()
    for name, function in list(environment.filters.items()):
        # Filters marked pass_context / pass_environment get that first; the value comes after it.
        passes = getattr(function, "jinja_pass_arg", None) is not None
        environment.filters[name] = limits.guard_filter(name, function, passes)
    environment.filters[limits.LOOP_GUARD] = limits.guard_loop
    environment.filters[limits.CONCAT_GUARD] = limits.guard_concat
    environment.finalize = _confined_value if confined else limits.count_output
    return environment


class _Message(str):
    """An undefined-variable message that remembers the name, so the planner can point at it."""

    token: str | None

    def __new__(cls, text: str, token: str | None) -> Self:
        message = super().__new__(cls, text)
        message.token = token
        return message


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "this value"


def _confined_value(value: Any) -> Any:
    """Values printed into an output name must not carry path separators or climb out of the folder."""
    from joypix_recipes.recipe.template.limits import count_output

    _check_name_part(str(count_output(value)))
    return value


def _check_name_part(text: str) -> None:
    if "/" in text or "\\" in text:
        raise UnsafeNameValue(f"a value in the output name contains a path separator: '{printable(text[:80])}'")
    if text in (".", ".."):
        raise UnsafeNameValue(f"a value in the output name is '{text}', which would leave the output folder")


@functools.lru_cache(maxsize=512)
def _compiled(text: str, confined: bool) -> Any:
    from jinja2 import TemplateSyntaxError

    environment = _output_environment() if confined else _environment()
    try:
        return environment.from_string(text)
    except TemplateSyntaxError as error:
        raise TemplateFailure(f"template syntax: {error.message}", error.lineno or 1) from error


@functools.lru_cache(maxsize=512)
def _compiled_expression(text: str) -> Any:
    from jinja2 import TemplateSyntaxError

    try:
        return _environment().compile_expression(text, undefined_to_none=False)
    except TemplateSyntaxError as error:
        raise TemplateFailure(f"expression syntax: {error.message}", error.lineno or 1) from error


def _parse(text: str, role: Role) -> nodes.Node:
    from jinja2 import TemplateSyntaxError, nodes
    from jinja2.parser import Parser

    environment = _environment()
    if role != "expression":
        return environment.parse(text)
    parser = Parser(environment, text, state="variable")
    expression = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError("unexpected text after the expression", parser.stream.current.lineno)
    tree = nodes.Template([nodes.Output([expression], lineno=1)], lineno=1)
    tree.set_environment(environment)
    return tree


def _check_names(tree: nodes.Node, known_vars: Collection[str]) -> list[TemplateIssue]:
    from jinja2 import meta, nodes

    issues: list[TemplateIssue] = []
    undeclared = meta.find_undeclared_variables(tree)  # type: ignore[arg-type]
    guarded = _guarded_vars(tree)
    for name_node in tree.find_all(nodes.Name):
        name = name_node.name
        if name.startswith("_"):
            issues.append(TemplateIssue(name_node.lineno, f"private name '{name}' is not allowed in templates", name))
        elif name in undeclared and name not in CONTEXT_NAMES and name_node.ctx == "load":
            hint = f"; did you mean vars.{name}?" if name in known_vars else ""
            issues.append(
                TemplateIssue(
                    name_node.lineno,
                    f"unknown name '{name}': templates see vars, input, variant and recipe{hint}",
                    name,
                )
            )
    for owner, attribute, lineno in _attribute_uses(tree):
        if attribute.startswith("_"):
            issues.append(TemplateIssue(lineno, f"private name '{attribute}' is not allowed in templates", attribute))
        elif owner == "vars" and "vars" in undeclared:
            if attribute not in known_vars and attribute not in guarded:
                issues.append(TemplateIssue(lineno, _unknown_var_message(attribute, known_vars), f"vars.{attribute}"))
        elif owner in _FIELDS and owner in undeclared and attribute not in _FIELDS[owner]:
            fields = ", ".join(_FIELDS[owner])
            issues.append(
                TemplateIssue(lineno, f"{owner} has no '{attribute}'; it has {fields}", f"{owner}.{attribute}")
            )
    for filter_node in tree.find_all(nodes.Filter):
        if filter_node.name == "attr" and any(_private_constant(arg) for arg in filter_node.args):
            issues.append(TemplateIssue(filter_node.lineno, "private names are not allowed in templates", "attr"))
    return issues


def _check_filters_and_tests(tree: nodes.Node) -> list[TemplateIssue]:
    """A filter or test Jinja2 does not have; otherwise it fails only when the template is compiled or run."""
    from jinja2 import nodes

    environment = _environment()
    issues: list[TemplateIssue] = []
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        assert isinstance(node, (nodes.Filter, nodes.Test))
        kind, known = ("filter", environment.filters) if isinstance(node, nodes.Filter) else ("test", environment.tests)
        if node.name in known:
            continue
        # Every name a template can spell: the guards the code generator inserts have spaces in theirs.
        from difflib import get_close_matches  # the suggestion only for a name Jinja2 lacks

        spellable = [name for name in known if " " not in name]
        close = get_close_matches(node.name, spellable, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        issues.append(TemplateIssue(node.lineno, f"unknown {kind} '{node.name}'{hint}", node.name))
    return issues


def _check_constant_parts(tree: nodes.Node, length: int) -> list[TemplateIssue]:
    """Render the parts of a template that read no name (``('x' * 999999)|batch(1)|list``) within the limits a
    run has, so a part that would go over them for every input is refused here too, and as quickly."""
    from joypix_recipes.recipe.template.limits import LimitExceeded, budget

    try:
        with budget(length):  # one budget for all the parts, as a run renders them all in one go
            for part in _constant_parts(tree):
                _render_part(part)
    except LimitExceeded as error:
        return [TemplateIssue(part.lineno, str(error))]
    except Exception:  # noqa: BLE001 - any other failure depends on the branch a run takes; the run reports it
        pass
    return []


def _constant_parts(tree: nodes.Node) -> Iterator[nodes.Expr]:
    """The largest expressions that read no name and do something (a filter, a call, an operator)."""
    from jinja2 import nodes

    literal = (nodes.Const, nodes.TemplateData, nodes.List, nodes.Tuple, nodes.Dict, nodes.Pair, nodes.Keyword)
    reads = (
        nodes.Name,
        nodes.NSRef,
        nodes.ContextReference,
        nodes.DerivedContextReference,
        nodes.InternalName,
        nodes.ImportedName,
        nodes.EnvironmentAttribute,
        nodes.ExtensionAttribute,
    )

    def reads_nothing(node: nodes.Node) -> bool:
        if isinstance(node, nodes.Filter | nodes.Test) and node.node is None:
            return False  # a {% filter %} block: its value is the block's body
        return isinstance(node, literal + (nodes.Expr,)) and not isinstance(node, reads) and all(
            reads_nothing(child) for child in node.iter_child_nodes()
        )

    def walk(node: nodes.Node) -> Iterator[nodes.Expr]:
        if isinstance(node, nodes.Expr) and not isinstance(node, literal) and reads_nothing(node):
            yield node
            return
        for child in node.iter_child_nodes():
            yield from walk(child)

    yield from walk(tree)


def _render_part(part: nodes.Expr) -> None:
    import copy

    from jinja2 import nodes

    environment = _environment()
    body = nodes.Template([nodes.Output([copy.deepcopy(part)], lineno=part.lineno)], lineno=1)
    body.set_environment(environment)
    environment.from_string(body).render()


def _unknown_var_message(name: str, known_vars: Collection[str]) -> str:
    message = f"undefined variable vars.{name}: nothing in the recipe defines it"
    from difflib import get_close_matches

    close = get_close_matches(name, list(known_vars), n=1)
    if close:
        return f"{message}; did you mean vars.{close[0]}?"
    return f"{message}; add it under vars: or pass --var {name}=VALUE"


def _attribute_uses(tree: nodes.Node) -> Iterator[tuple[str | None, str, int]]:
    """(owner name or None, attribute, line) for every ``a.b`` and ``a['b']``."""
    from jinja2 import nodes

    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, (nodes.Getattr, nodes.Getitem))
        owner = node.node.name if isinstance(node.node, nodes.Name) else None
        if isinstance(node, nodes.Getattr):
            yield owner, node.attr, node.lineno
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            yield owner, node.arg.value, node.lineno


def _guarded_vars(tree: nodes.Node) -> set[str]:
    """Variables the template itself treats as optional (``| default(...)``, ``is defined``)."""
    from jinja2 import nodes

    guarded: set[str] = set()
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        names = _GUARD_FILTERS if isinstance(node, nodes.Filter) else _GUARD_TESTS
        if node.name in names and node.node is not None:
            for owner, attribute, _ in _attribute_uses(nodes.Output([node.node])):
                if owner == "vars":
                    guarded.add(attribute)
    return guarded


def _private_constant(node: nodes.Node) -> bool:
    from jinja2 import nodes

    return isinstance(node, nodes.Const) and isinstance(node.value, str) and node.value.startswith("_")


def _is_absolute(text: str) -> bool:
    stripped = text.strip().replace("\\", "/")
    return stripped.startswith(("/", "~")) or (len(stripped) > 1 and stripped[1] == ":")


def _climbs(text: str) -> bool:
    data = text.replace("\\", "/")
    return data.strip() == ".." or data.startswith("../") or "/../" in data or data.rstrip().endswith("/..")


def _in_state_folder(text: str) -> bool:
    """Whether a path names the state folder as one of its folders (in any case: macOS and Windows ignore it)."""
    return any(part.strip().casefold() == STATE_FOLDER for part in text.replace("\\", "/").split("/")[:-1])


_STATE = f"is inside {STATE_FOLDER}/, where joypix keeps its own state (journal, lock, temp files); choose another folder"
_ABSOLUTE = "the output name is an absolute path; give a name inside the output folder (use --out to choose the folder)"
_CLIMBS = "the output name leaves the output folder ('..'); use --out to choose the folder"


def _check_output_literal(text: str) -> list[TemplateIssue]:
    issues = [TemplateIssue(1, _ABSOLUTE)] if _is_absolute(text) else []
    issues += [TemplateIssue(1, f"the output name {_STATE}", STATE_FOLDER)] if _in_state_folder(text) else []
    return issues + ([TemplateIssue(1, _CLIMBS, "..")] if _climbs(text) else [])


def _check_output_tree(tree: nodes.Node) -> list[TemplateIssue]:
    from jinja2 import nodes

    literal = list(tree.find_all(nodes.TemplateData))
    issues: list[TemplateIssue] = []
    if literal and _leads(tree, literal[0]) and _is_absolute(literal[0].data):
        issues.append(TemplateIssue(literal[0].lineno, _ABSOLUTE))
    issues += [TemplateIssue(node.lineno, _CLIMBS, "..") for node in literal if _climbs(node.data)]
    # Only the text before the first value is a folder for certain ("{{ vars.x }}.joypix/" may be a name).
    if literal and _leads(tree, literal[0]) and _in_state_folder(literal[0].data):
        issues.append(TemplateIssue(literal[0].lineno, f"the output name {_STATE}", STATE_FOLDER))
    return issues


def _leads(tree: nodes.Node, first: nodes.TemplateData) -> bool:
    """True when ``first`` is the very start of the template (so a leading '/' makes it absolute)."""
    from jinja2 import nodes

    body = getattr(tree, "body", [])
    return bool(body and isinstance(body[0], nodes.Output) and body[0].nodes and body[0].nodes[0] is first)
