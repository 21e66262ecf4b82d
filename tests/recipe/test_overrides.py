"""--set PATH=VALUE: values read as YAML, applied to the recipe before it is checked, problems shown at the flag."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.recipes import recipe_file

from joypix_recipes.errors import PlanError, RecipeError, UsageError
from joypix_recipes.job.model import job_identity
from joypix_recipes.recipe.batch import load_batch
from joypix_recipes.recipe.overrides import parse_override, parse_path

RECIPE = """
version: 1
inputs: [a.jpg]
steps:
  - fade: {in: 1}
  - text: {content: Hello}
export: {aspect: "9:16", resolution: 720p, fps: 10}
variants:
  - name: square
    export: {aspect: "1:1"}
"""


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    write_image(tmp_path / "a.jpg", (64, 48))
    return recipe_file(tmp_path, RECIPE)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("480p", "480p"),
        ("24", 24),
        ("0.5", 0.5),
        ("[a, b]", ["a", "b"]),
        ("{in: 0.3}", {"in": 0.3}),
        ("1:1", "1:1"),
        ("no", "no"),
        ("true", True),
        ("", None),
        ("{{ vars.title }}", "{{ vars.title }}"),
    ],
)
def test_a_value_reads_as_the_recipe_would_read_it(text: str, value: object) -> None:
    assert parse_override(f"export.x={text}").value == value


def test_a_path_names_keys_with_dots_and_items_by_index() -> None:
    assert parse_path("steps[1].text.content") == ("steps", 1, "text", "content")
    assert parse_path("variants[0].export.aspect") == ("variants", 0, "export", "aspect")


@pytest.mark.parametrize("pair", ["export.resolution", "=480p", "steps..text=1", "[0].x=1", "steps[x]=1"])
def test_a_malformed_flag_is_a_usage_error(pair: str) -> None:
    with pytest.raises(UsageError, match="--set"):
        parse_override(pair)


def test_set_values_change_the_loaded_recipe(recipe: Path) -> None:
    overrides = [
        parse_override(pair)
        for pair in ("export.resolution=480p", "steps[1].text.content=Sale", "variants[0].export.aspect=4:5")
    ]
    batch = load_batch(recipe, overrides=overrides)
    assert batch.recipe.export.resolution == "480p"
    assert batch.recipe.variants[0].export == {"aspect": "4:5"}
    assert batch.plan().jobs[0].steps[1].to_dict()["text"]["content"] == "Sale"


def test_a_bad_value_gets_the_schema_message_at_its_flag(recipe: Path) -> None:
    with pytest.raises(RecipeError) as caught:
        load_batch(recipe, overrides=[parse_override("export.resolution=999p")])
    (problem,) = caught.value.problems
    assert str(problem) == "--set export.resolution=999p: export.resolution '999p' is not one of 1080p, 720p, 480p"


def test_problems_in_the_file_keep_their_place_beside_a_flag_problem(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 48))
    path = recipe_file(tmp_path, RECIPE.replace("fps: 10", "fps: -3"))
    with pytest.raises(RecipeError) as caught:
        load_batch(path, overrides=[parse_override("steps[0].fade.in=-1")])
    shown = [str(problem) for problem in caught.value.problems]
    assert shown[0].startswith("--set steps[0].fade.in=-1: ")
    assert any(line.startswith(f"{path}:6:") for line in shown[1:])


def test_a_new_key_in_a_mapping_is_judged_by_the_schema(recipe: Path) -> None:
    with pytest.raises(
        RecipeError, match=r"--set export.resoluton=480p: unknown key 'resoluton' in export; did you mean 'resolution'"
    ):
        load_batch(recipe, overrides=[parse_override("export.resoluton=480p")])


def test_a_misspelt_key_on_the_way_is_a_usage_error_with_a_suggestion(recipe: Path) -> None:
    with pytest.raises(UsageError, match="the recipe has no 'exprt'; did you mean 'export'"):
        load_batch(recipe, overrides=[parse_override("exprt.resolution=480p")])


def test_an_index_past_the_end_is_a_usage_error(recipe: Path) -> None:
    with pytest.raises(UsageError, match=r"steps has items \[0\] to \[1\]; \[5\] is out of range"):
        load_batch(recipe, overrides=[parse_override("steps[5].text.content=Sale")])


def test_a_path_through_a_single_value_is_a_usage_error(recipe: Path) -> None:
    with pytest.raises(UsageError, match="export.resolution is a single value, so it has no .height"):
        load_batch(recipe, overrides=[parse_override("export.resolution.height=3")])


def test_a_key_into_a_list_is_a_usage_error(recipe: Path) -> None:
    with pytest.raises(UsageError, match=r"steps is a list; pick an item, as in steps\[0\]"):
        load_batch(recipe, overrides=[parse_override("steps.fade=1")])


def test_a_missing_section_is_made_for_the_schema_to_judge(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 48))
    path = recipe_file(tmp_path, "version: 1\ninputs: [a.jpg]\nsteps:\n  - fade: {in: 1}\n")
    assert load_batch(path, overrides=[parse_override("export.resolution=480p")]).recipe.export.resolution == "480p"


def test_later_flags_win_and_the_job_changes_with_them(recipe: Path) -> None:
    plain = load_batch(recipe).plan().jobs[0]
    changed = (
        load_batch(
            recipe, overrides=[parse_override("export.resolution=1080p"), parse_override("export.resolution=480p")]
        )
        .plan()
        .jobs[0]
    )
    assert changed.export.resolution == "480p"
    assert job_identity(changed, "same input") != job_identity(plain, "same input")


def test_a_template_that_fails_when_planned_is_shown_at_its_flag(recipe: Path) -> None:
    batch = load_batch(
        recipe, var_overrides={"seconds": "abc"}, overrides=[parse_override("steps[0].fade.in={{ vars.seconds }}")]
    )
    with pytest.raises(PlanError) as caught:
        batch.plan()
    assert str(caught.value).startswith("--set steps[0].fade.in={{ vars.seconds }}: fade.in renders to 'abc'")
