"""The studio plans as `joypix run` plans: its warnings, its rejected table rows and validate's problems."""

from __future__ import annotations

from pathlib import Path

from helpers.images import write_image

from joypix_recipes.cli.understood import planned_seconds, understood
from joypix_recipes.studio.planning import Reader, plan_recipe
from joypix_recipes.studio.state import StudioState

from .conftest import write_recipe


def test_a_clip_too_long_for_its_preset_is_a_warning_not_a_problem(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (320, 480))
    recipe = write_recipe(tmp_path, """
        version: 1
        inputs: [a.jpg]
        steps:
          - animate: {duration: 61}
        export: {preset: story}
        """)
    planned = plan_recipe(recipe, tmp_path / "out", {})
    assert planned.problems == () and len(planned.jobs) == 1
    assert len(planned.warnings) == 1 and "story" in planned.warnings[0]


def test_a_table_row_that_cannot_run_is_named_as_validate_names_it_and_the_others_plan(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (320, 480))
    (tmp_path / "rows.csv").write_text("image,word\na.jpg,Hi\nmissing.jpg,Lo\n", encoding="utf-8")
    recipe = write_recipe(tmp_path, """
        version: 1
        inputs: [{table: rows.csv}]
        steps:
          - text: {content: "{{ vars.word }}"}
        export: {output: "{{ vars.word }}.mp4"}
        """)
    planned = plan_recipe(recipe, tmp_path / "out", {})
    assert len(planned.jobs) == 1 and len(planned.problems) == 1
    assert planned.problems[0].startswith(f"{recipe}: cannot run ") and "missing.jpg" in planned.problems[0]


def test_a_card_tells_its_steps_as_run_dry_run_does(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (320, 480))
    recipe = write_recipe(tmp_path, """
        version: 1
        inputs: [a.jpg]
        steps:
          - prompt: slow zoom in over 2 seconds
          - text: {content: Sale, position: bottom}
        """)
    state = StudioState(recipe, tmp_path / "out", {}, Reader(length_of=planned_seconds, words_of=understood))
    (job,) = state.apply(plan_recipe(recipe, tmp_path / "out", {}))
    (card,) = state.cards.values()
    prompt, text = card.steps
    read = understood(job)[0]
    assert read is not None and prompt.text == "slow zoom in over 2 seconds" and prompt.understood == "; ".join(read)
    assert "over 2 s" in prompt.understood and text.text == 'caption "Sale" at bottom'
    assert card.length_s == 2.0
