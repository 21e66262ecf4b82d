"""Bounds on what one template render may cost: loop iterations and calls, value sizes, integer sizes, time.

A recipe in a hot folder or shared in git must not be able to stall the machine. Checking the text a
template renders to comes too late (a nested loop or a 10**9-wide ``center`` has burnt the CPU or
the memory by then), so every operation that can grow a value is checked before it runs, and every
loop iteration and call is charged to a budget that ends the render when it runs out.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame

from joypix_recipes.errors import PlanError

MAX_VALUE = 1_000_000
"""Largest text (in characters) or collection any step of a render may produce."""
MAX_INT_BITS = 10_000
"""Largest integer a template may compute (about 3,000 digits)."""
MAX_ITEMS = 20_000
"""Items the lazy filters of one render (batch, slice, map, select...) may produce in all."""
MAX_WORK = 10_000_000
"""Work units per render; a loop iteration or a call costs the template's length (what it may output)."""
MAX_SECONDS = 1.0
"""Wall-clock time one render may take."""

LOOP_GUARD = "joypix loop guard"
CONCAT_GUARD = "joypix concat guard"
"""Filter names no template can spell (they contain spaces): only the code generator inserts them."""

_PRINTF_WIDTH = re.compile(r"%[#0\- +]*(\d*)(?:\.(\d+))?")
_BRACE_FIELD = re.compile(r"\{[^{}]*\}")
_DIGITS = re.compile(r"\d+")


class LimitExceeded(PlanError):
    """A template went over one of the bounds; the message says which and how to fix it."""


class _Budget:
    def __init__(self, unit: int) -> None:
        self.unit = unit
        self.work = 0
        self.output = 0
        self.items = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def emit(self, size: int) -> None:
        self.output += size
        if self.output > MAX_VALUE:
            raise LimitExceeded(f"the template writes more than {MAX_VALUE:,} characters while rendering")

    def charge(self, units: int | None = None) -> None:
        self.work += self.unit if units is None else units
        if self.work > MAX_WORK:
            raise LimitExceeded("the template loops or calls too many times; keep loops over short lists")
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"the template took longer than {MAX_SECONDS:g} s to render; simplify it")


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("joypix_template_budget", default=None)


@contextlib.contextmanager
def budget(template_length: int) -> Iterator[None]:
    """A fresh budget for one render of a template ``template_length`` characters long."""
    token = _BUDGET.set(_Budget(max(1, template_length)))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def charge(units: int | None = None) -> None:
    """Charge one loop iteration or call (or ``units`` of work) to the current render (nothing outside a render)."""
    current = _BUDGET.get()
    if current is not None:
        current.charge(units)


def _count_item(name: str) -> None:
    """Charge one item a lazy filter produced; a render may produce MAX_ITEMS of them, whatever the chain."""
    current = _BUDGET.get()
    if current is not None:
        current.items += 1
        if current.items > MAX_ITEMS:
            raise LimitExceeded(f"the filter '{name}' produces more than {MAX_ITEMS:,} items; keep lists short")
        current.charge(1)


def count_output(value: Any) -> Any:
    """Charge a printed value (``{{ ... }}``, in macros too) to the render's output; returns it."""
    size = weight(check_size(value, "a printed value"))
    current = _BUDGET.get()
    if current is not None:
        current.emit(size)
    return value


def weight(value: Any, _seen: dict[int, int] | None = None) -> int:
    """About how many characters ``value`` becomes as text; shared sub-lists are measured once."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if isinstance(value, (list, tuple, dict)):
        seen = {} if _seen is None else _seen
        if id(value) in seen:
            return seen[id(value)]
        seen[id(value)] = 0  # a cycle adds nothing
        items: Iterable[Any] = value.items() if isinstance(value, dict) else value
        total = 2
        for item in items:
            total += 2 + (weight(item[0], seen) + weight(item[1], seen) if isinstance(value, dict) else weight(item, seen))
            if total > MAX_VALUE:
                break
        seen[id(value)] = total
        return total
    return 24


def check_size(value: Any, what: str = "a value in the template") -> Any:
    """``value`` itself, or LimitExceeded when it is larger than MAX_VALUE characters."""
    if weight(value) > MAX_VALUE:
        raise LimitExceeded(f"{what} grows beyond {MAX_VALUE:,} characters")
    return value


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large, before Python computes it."""
    if operator == "**" and _is_int(left) and _is_int(right):
        if right > 0 and abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
            raise LimitExceeded("a power in the template is too large")
    elif operator == "*":
        if _is_int(left) and _is_int(right):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise LimitExceeded("a product in the template is too large")
        elif isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
            sequence, count = (left, right) if isinstance(left, (str, list, tuple)) else (right, left)
            if _is_int(count) and weight(sequence) * max(count, 0) > MAX_VALUE:
                raise LimitExceeded("a repetition in the template is too large")
    elif operator == "+" and not (_is_number(left) and _is_number(right)):
        if weight(left) + weight(right) > MAX_VALUE:
            raise LimitExceeded(f"joining values in the template grows beyond {MAX_VALUE:,} characters")
    elif operator == "%" and isinstance(left, str):
        check_format(left, right if isinstance(right, tuple) else (right,))


def check_format(text: str, arguments: Iterable[Any]) -> None:
    """Refuse a format string asking for huge widths or precisions (``%999999999d``, ``{:>999999999}``)."""
    numbers = [int(group) for match in _PRINTF_WIDTH.finditer(text) for group in match.groups() if group]
    numbers += [int(digits) for field in _BRACE_FIELD.findall(text) for digits in _DIGITS.findall(field)]
    arguments = list(arguments)
    if any(number > MAX_VALUE for number in numbers) or len(text) + sum(weight(a) for a in arguments) > MAX_VALUE:
        raise LimitExceeded("a format in the template asks for a text too wide")
    _check_numbers(arguments, "format")


def check_call(function: Any, arguments: tuple[Any, ...], keywords: dict[str, Any]) -> None:
    """Refuse a method call (``'x'.center(10**9)``, ``s.replace('', s)``) whose result would be too large."""
    charge()
    # The sandbox hands out str.format wrapped in a function of its own; the string is on the original.
    owner = getattr(getattr(function, "__wrapped__", function), "__self__", None)
    name = getattr(function, "__name__", "")
    if isinstance(owner, str):
        _check_growth(name, owner, arguments, keywords, method=True)
    else:
        _check_numbers([*arguments, *keywords.values()], name or "call")


def guard_filter(name: str, function: Callable[..., Any], passes_argument: bool) -> Callable[..., Any]:
    """``function`` (a Jinja filter) with its arguments checked before and its result after each call."""

    @functools.wraps(function)
    def guarded(*arguments: Any, **keywords: Any) -> Any:
        charge()
        values = arguments[1:] if passes_argument else arguments
        if values:
            check_size(values[0], f"the value given to the filter '{name}'")
            _check_growth(name, values[0], values[1:], keywords, method=False)
        result = function(*arguments, **keywords)
        if isinstance(result, Iterator):
            # A lazy result (batch, slice, map, select...) is sized only as it is consumed, by ``list``
            # or a loop: chained, such filters would build a huge value in one call without this.
            return _bounded_items(name, result)
        return check_size(result, f"the result of the filter '{name}'")

    return guarded


def _bounded_items(name: str, items: Iterator[Any]) -> Iterator[Any]:
    """``items`` as they come, refused once they are too many or add up to more than MAX_VALUE characters.

    An item is measured one level deep: a list inside it was measured by the filter that made it.
    """
    produced = 0
    for item in items:
        _count_item(name)
        produced += _shallow_weight(item) + 2
        if produced > MAX_VALUE:
            raise LimitExceeded(f"the filter '{name}' produces more than {MAX_VALUE:,} characters")
        yield item


def _shallow_weight(value: Any) -> int:
    if isinstance(value, (list, tuple)):
        return 2 + sum(len(item) + 2 if isinstance(item, str) else 4 for item in value)
    return weight(value) if not isinstance(value, dict) else 2 + 4 * len(value)


def guard_loop(iterable: Iterable[Any]) -> Iterator[Any]:
    """Iterate, charging each iteration to the render's budget."""
    for item in iterable:
        charge()
        yield item


def guard_concat(parts: list[Any]) -> str:
    """``a ~ b ~ c`` joined, refused before joining when the result would be too large."""
    if sum(weight(part) for part in parts) > MAX_VALUE:
        raise LimitExceeded(f"joining values with ~ grows beyond {MAX_VALUE:,} characters")
    return "".join(str(part) for part in parts)


class BoundedCodeGenerator(CodeGenerator):
    """Compiles every ``for`` to iterate through ``guard_loop`` and every ``~`` through ``guard_concat``."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # Rewritten before the base class collects the filters the template uses.
        for loop in list(node.find_all(nodes.For)):
            loop.iter = nodes.Filter(loop.iter, LOOP_GUARD, [], [], None, None, lineno=loop.lineno)
        for concat in list(node.find_all(nodes.Concat)):
            parts = nodes.List(concat.nodes, lineno=concat.lineno)
            concat.nodes = [nodes.Filter(parts, CONCAT_GUARD, [], [], None, None, lineno=concat.lineno)]
        super().visit_Template(node, frame)


def _check_growth(name: str, value: Any, arguments: tuple[Any, ...], keywords: dict[str, Any], *, method: bool) -> None:
    """Estimate the size of what a text filter or method would produce from ``value``; refuse it when too large."""
    _check_numbers([*arguments, *keywords.values()], name)
    size = weight(value)

    def argument(position: int, keyword: str, default: Any = None) -> Any:
        return arguments[position] if len(arguments) > position else keywords.get(keyword, default)

    if name == "indent":
        width = argument(0, "width", 4)
        estimate = size + (_count(value, "\n") + 1) * (width if _is_int(width) else weight(width))
    elif name == "wordwrap":
        estimate = size * (1 + weight(argument(2, "wrapstring", "\n") or "\n"))
    elif name == "replace":
        estimate = size + (size + 1) * weight(argument(1, "new", ""))
    elif name == "join":
        # A method: SEPARATOR.join(items); a filter: items|join(SEPARATOR).
        joiner = value if method else argument(0, "d", "")
        items = argument(0, "iterable", ()) if method else value
        if not isinstance(items, (list, tuple, str, dict)):
            return
        estimate = weight(items) + len(items) * weight(joiner)
    elif name == "expandtabs":
        tabsize = argument(0, "tabsize", 8)
        estimate = size * (tabsize if _is_int(tabsize) else 8)
    elif name in ("format", "format_map") and isinstance(value, str):
        check_format(value, [*arguments, *keywords.values()])
        return
    else:
        return
    if estimate > MAX_VALUE:
        raise LimitExceeded(f"the filter '{name}' would produce more than {MAX_VALUE:,} characters")


def _check_numbers(values: Iterable[Any], name: str) -> None:
    if any(_is_int(value) and abs(value) > MAX_VALUE for value in values):
        raise LimitExceeded(f"a number given to '{name}' is too large (over {MAX_VALUE:,})")


def _count(value: Any, text: str) -> int:
    return value.count(text) if isinstance(value, str) else 0


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
