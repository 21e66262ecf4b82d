"""Sandboxed, strict templates: what they see, what they refuse, and output names that stay in their folder."""

from __future__ import annotations

from typing import Any

import pytest

from joypix_recipes.errors import PlanError
from joypix_recipes.recipe.template.render import (
    Namespace,
    TemplateFailure,
    check_template,
    evaluate_expression,
    render_number,
    render_output,
    render_template,
    safe_output_path,
)


def context(values: dict[str, Any] | None = None, variant: str | None = None, **inputs: Any) -> dict[str, Any]:
    fields = {"path": "/photos/a.jpg", "name": "a.jpg", "stem": "a", "suffix": ".jpg", "index": 1, **inputs}
    return {
        "vars": Namespace("vars", values or {}, missing_hint=" for a.jpg"),
        "input": Namespace("input", fields),
        "variant": Namespace(
            "variant", {"name": variant} if variant else {}, missing_hint=": this recipe has no variants"
        ),
        "recipe": Namespace("recipe", {"name": "demo"}),
    }


def test_renders_vars_input_variant_and_recipe() -> None:
    text = "{{ recipe.name }}: {{ vars.title }} / {{ input.stem }}{{ input.suffix }} #{{ input.index }} [{{ variant.name }}]"
    assert render_template(text, context({"title": "Sale"}, "reels")) == "demo: Sale / a.jpg #1 [reels]"


def test_plain_text_is_returned_untouched() -> None:
    assert render_template("zoom in {slowly}", {}) == "zoom in {slowly}"


def test_undefined_variable_names_the_variable_and_template_line() -> None:
    with pytest.raises(TemplateFailure) as caught:
        render_template("first line\nsecond {{ vars.missing }}", context())
    assert str(caught.value) == "vars.missing is not defined for a.jpg"
    assert (caught.value.line, caught.value.token) == (2, "vars.missing")
    assert isinstance(caught.value, PlanError)


def test_variant_name_without_variants_says_so() -> None:
    with pytest.raises(TemplateFailure, match="variant.name is not defined: this recipe has no variants"):
        render_template("{{ variant.name }}", context())
    assert render_template("{% if variant %}{{ variant.name }}{% else %}single{% endif %}", context()) == "single"


def test_a_variable_called_like_a_dict_method_is_the_variable() -> None:
    assert render_template("{{ vars.items }} {{ vars.keys }}", context({"items": 3, "keys": "k"})) == "3 k"


def test_lazy_fields_load_once_and_explain_failures() -> None:
    calls: list[int] = []

    def width() -> int:
        calls.append(1)
        return 640

    def height() -> int:
        raise LookupError("the image header of /photos/a.jpg cannot be read")

    data = context()
    data["input"] = Namespace("input", {"stem": "a"}, {"width": width, "height": height})
    assert render_template("{{ input.width }}x{{ input.width }}", data) == "640x640" and calls == [1]
    with pytest.raises(
        TemplateFailure, match="input.height is unknown: the image header of /photos/a.jpg cannot be read"
    ):
        render_template("{{ input.height }}", data)


@pytest.mark.parametrize(
    "template",
    [
        "{{ vars.__class__ }}",
        "{{ input.stem.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ vars | attr('_values') }}",
    ],
)
def test_sandbox_blocks_private_attributes_at_render_time(template: str) -> None:
    with pytest.raises(TemplateFailure, match="not allowed in a template"):
        render_template(template, context({"a": 1}))


@pytest.mark.parametrize(
    "template", ["{{ range(3) }}", "{{ lipsum() }}", "{{ config }}", "{{ environ }}", "{{ cycler }}"]
)
def test_templates_see_nothing_but_the_four_names(template: str) -> None:
    with pytest.raises(TemplateFailure, match="is not defined; templates see only vars, input, variant and recipe"):
        render_template(template, context())


def test_huge_repetition_and_powers_are_refused() -> None:
    with pytest.raises(TemplateFailure, match="repetition"):
        render_template("{{ 'x' * 100000000 }}", context())
    with pytest.raises(TemplateFailure, match="power"):
        render_template("{{ 9 ** 999999 }}", context())


def test_errors_inside_templates_become_template_failures() -> None:
    with pytest.raises(TemplateFailure, match="division by zero"):
        render_template("{{ 1 / 0 }}", context())
    with pytest.raises(TemplateFailure, match="template syntax"):
        render_template("{{ oops", context())


def test_when_expressions_are_truthy_or_not() -> None:
    assert evaluate_expression("variant.name == 'reels' and input.index == 1", context(variant="reels"))
    assert not evaluate_expression("vars.loud is defined", context())


def test_numbers_render_and_percentages_read_as_fractions() -> None:
    assert render_number("{{ vars.d }}", context({"d": 4})) == 4.0
    assert render_number("{{ vars.v }}%", context({"v": 35}), percent=True) == 0.35
    with pytest.raises(TemplateFailure, match="renders to 'soon', which is not a number"):
        render_number("{{ vars.d }}", context({"d": "soon"}))


@pytest.mark.parametrize("name", ["a.mp4", "reels/a.mp4", "x/y/z.MP4"])
def test_output_names_inside_the_folder_are_kept(name: str) -> None:
    assert str(safe_output_path(name)) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/etc/a.mp4", "is absolute"),
        ("C:/a.mp4", "is absolute"),
        ("~/a.mp4", "is absolute"),
        ("../a.mp4", "leaves the output folder"),
        ("a/../../b.mp4", "leaves the output folder"),
        ("..\\a.mp4", "leaves the output folder"),
        ("a.mov", "must end in .mp4"),
        ("  ", "renders to nothing"),
    ],
)
def test_output_names_leaving_the_folder_are_refused(name: str, message: str) -> None:
    with pytest.raises(TemplateFailure, match=message):
        safe_output_path(name)


@pytest.mark.parametrize("value", ["a/b", "..\\up", "..", "/abs"])
def test_path_separators_cannot_be_smuggled_in_through_variables(value: str) -> None:
    with pytest.raises(TemplateFailure, match="output name"):
        render_template("{{ vars.name }}.mp4", context({"name": value}), "output")


def test_separators_written_in_the_output_template_itself_make_subfolders() -> None:
    assert render_template("{{ variant.name }}/{{ input.stem }}.mp4", context(variant="feed"), "output") == "feed/a.mp4"


def test_static_check_finds_every_problem_with_its_line() -> None:
    issues = check_template("{{ vars.a }}\n{{ vars.b }}\n{{ inptu.stem }}", "text", {"a"})
    assert [(issue.line, issue.token) for issue in issues] == [(2, "vars.b"), (3, "inptu")]


def test_static_check_of_plain_text_needs_no_parse() -> None:
    assert check_template("just words {not a template}", "text", set()) == []
    assert [issue.message for issue in check_template("../x.mp4", "output", set())] == [
        "the output name leaves the output folder ('..'); use --out to choose the folder"
    ]


def _outcome(call: Any) -> str:
    try:
        return f"ok {call()}"
    except TemplateFailure as failure:
        return f"{type(failure).__name__} {failure}"


@pytest.mark.parametrize("stem", ["a", "summer sale", "..", ".", "a\\b", "x" * 5000, "é 🎉"])
@pytest.mark.parametrize("variant", [None, "reels", "..", "a\\b"])
@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_default_output_names_are_made_as_jinja2_makes_them(stem: str, variant: str | None, suffix: str) -> None:
    text = ("{{ input.stem }}-{{ variant.name }}" if variant else "{{ input.stem }}") + suffix
    values = context(None, variant, stem=stem)
    direct = _outcome(lambda: render_output(text, values))
    assert direct == _outcome(lambda: render_template(text, values, "output"))
    assert direct.startswith("ok ") == (stem not in ("..", ".") and "\\" not in stem and variant not in ("..", "a\\b"))
