"""Templates that only print values (``{{ vars.title }}.mp4``) or compare one (``variant.name == 'reels'``) are
checked and rendered without Jinja2; each result, failure and message must be what Jinja2 gives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joypix_recipes.recipe.template import render
from joypix_recipes.recipe.template.render import (
    Namespace,
    TemplateFailure,
    check_template,
    evaluate_expression,
    render_template,
)

OWNERS = ("vars", "input", "variant", "recipe")
ATTRIBUTES = ("title", "price", "stem", "name", "index", "width", "nope", "items", "count", "long", "sep")
KNOWN = ("title", "price", "sep", "long")
LITERALS = (
    "",
    "a",
    " - ",
    "/",
    "..",
    "../",
    "/abs",
    "~x",
    "C:",
    ".joypix/",
    "{",
    "}",
    "}}",
    "%",
    "#",
    "{ x",
    "é",
    ".mp4",
)

VALUES: dict[str, Any] = {
    "title": "Summer sale",
    "price": 12.5,
    "sep": "a/b",
    "long": "x" * 5000,
    "flag": True,
    "count": 3,
    "none": None,
    "items": [1, 2],
}


def _context(variant: bool) -> dict[str, Any]:
    fields = {"path": "in/photo.jpg", "name": "photo.jpg", "stem": "photo", "suffix": ".jpg", "index": 2, "count": 1}
    return {
        "vars": Namespace("vars", VALUES, missing_hint="; add it under vars: or pass --var {key}=VALUE"),
        "input": Namespace("input", fields),
        "variant": Namespace(
            "variant", {"name": ".."} if variant else {}, missing_hint=": this recipe has no variants"
        ),
        "recipe": Namespace("recipe", {"name": "demo"}),
    }


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except TemplateFailure as failure:
        return type(failure).__name__, (str(failure), failure.line, failure.token)


value_part = st.builds(
    lambda owner, attribute, left, right: f"{{{{{left}{owner}.{attribute}{right}}}}}",
    st.sampled_from(OWNERS),
    st.sampled_from(ATTRIBUTES),
    st.sampled_from(("", " ", "  ")),
    st.sampled_from(("", " ")),
)
templates = st.lists(st.one_of(st.sampled_from(LITERALS), value_part), min_size=1, max_size=5).map("".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=templates, role=st.sampled_from(("text", "number", "output")), variant=st.booleans())
def test_a_simple_template_checks_and_renders_as_jinja2_does(text: str, role: Any, variant: bool) -> None:
    assert check_template(text, role, KNOWN) == render._check_with_jinja(text, role, KNOWN)
    if not render.has_template_syntax(text):
        return
    simple = _outcome(lambda: render_template(text, _context(variant), role))
    jinja = _outcome(lambda: render._render_with_jinja(text, _context(variant), role))
    assert simple == jinja


comparisons = st.builds(
    lambda owner, attribute, operator, literal, quote: f"{owner}.{attribute} {operator} {quote}{literal}{quote}",
    st.sampled_from(OWNERS),
    st.sampled_from((*ATTRIBUTES, "flag", "none")),
    st.sampled_from(("==", "!=")),
    st.sampled_from(("", "reels", "..", "Summer sale", "12.5", "photo", "é")),
    st.sampled_from(("'", '"')),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=comparisons, variant=st.booleans())
def test_a_simple_comparison_checks_and_evaluates_as_jinja2_does(text: str, variant: bool) -> None:
    assert check_template(text, "expression", KNOWN) == render._check_with_jinja(text, "expression", KNOWN)
    simple = _outcome(lambda: evaluate_expression(text, _context(variant)))
    jinja = _outcome(lambda: render._evaluate_with_jinja(text, _context(variant)))
    assert simple == jinja


@pytest.mark.parametrize(
    "text",
    [
        "{{ vars.title }}",
        "{{ vars.brand }} - {{ vars.tagline }}",
        "{{ variant.name }}/{{ input.stem }}.mp4",
        "x{{vars.a}}",
    ],
)
def test_the_templates_recipes_write_most_are_simple(text: str) -> None:
    assert render._simple(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "{{ vars.title | upper }}",
        "{{{ vars.title }}",
        "{{- vars.title }}",
        "{% if vars.x %}a{% endif %}",
        "{# note #}{{ vars.a }}",
        "line\n{{ vars.a }}",
        "{{ vars._secret }}",
        "{{ other.name }}",
        "{{ vars.a.b }}",
    ],
)
def test_anything_more_goes_to_jinja2(text: str) -> None:
    assert render._simple(text) is None


def test_only_a_plain_value_is_printed_without_jinja2() -> None:
    context = _context(variant=False)
    for name in ("none", "items", "long", "missing"):
        assert render._plain_value(context, "vars", name) is None
    assert render._plain_value(context, "vars", "title") == "Summer sale"


operand = st.one_of(
    st.builds(lambda owner, attribute: f"{owner}.{attribute}", st.sampled_from(OWNERS), st.sampled_from(ATTRIBUTES)),
    st.sampled_from(("1", "1.5", "0", "2")),
)
side = st.lists(st.tuples(st.sampled_from(("+", "-", "*", "/", " * ", " - ")), operand), max_size=3).map(
    lambda pairs: "".join(f"{operator}{value}" for operator, value in pairs)
)
arithmetic = st.builds(
    lambda left, more, operator, right, rest: f"{left}{more} {operator} {right}{rest}",
    operand,
    side,
    st.sampled_from(("==", "!=", "<=", ">=", "<", ">")),
    operand,
    side,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=arithmetic)
def test_a_simple_arithmetic_comparison_checks_as_jinja2_does(text: str) -> None:
    assert render._simple_arithmetic(text) is not None
    assert check_template(text, "expression", KNOWN) == render._check_with_jinja(text, "expression", KNOWN)
