"""Before anything renders, a prompt the local backend would fail on is a recipe problem at the phrase itself,
in one line that offers the nearest phrases the interpreter knows (not its whole vocabulary)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.recipes import recipe_file

from joypix_recipes.errors import PlanError
from joypix_recipes.recipe.batch import load_batch
from joypix_recipes.timeline.interpret import interpret_prompt
from joypix_recipes.timeline.interpret.check import phrases_not_understood
from joypix_recipes.timeline.interpret.leftovers import KNOWN_PHRASES, nearest_known


@pytest.mark.parametrize("phrase", KNOWN_PHRASES)
def test_every_phrase_offered_as_a_suggestion_is_understood(phrase: str) -> None:
    reading = interpret_prompt(phrase)
    assert reading.actions and not reading.unknown


def test_the_nearest_phrases_are_alike_and_few() -> None:
    assert nearest_known("zoom inn")[0] == "zoom in"
    assert len(nearest_known("make it sparkle like diamonds")) <= 3


def _recipe(folder: Path, steps: str, backend: str = "local") -> Path:
    for name in ("a.jpg", "b.jpg"):
        write_image(folder / name, (32, 32))
    return recipe_file(folder, f"version: 1\nbackend: {backend}\ninputs: [a.jpg, b.jpg]\nsteps:\n{steps}")


def test_an_unknown_phrase_is_reported_once_at_its_line_and_column(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, '  - prompt: "zoom in,\n      then sparkle"\n')

    with pytest.raises(PlanError) as refused:
        load_batch(recipe).plan(prompts=phrases_not_understood)

    lines = str(refused.value).splitlines()
    assert len(lines) == 1  # two inputs, one prompt: said once
    assert lines[0].startswith(f"{recipe}:6:12: the local backend does not understand \"sparkle\"")
    assert "nearest it knows" in lines[0] and len(lines[0]) < 300


def test_a_templated_prompt_names_the_input_it_fails_for(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, '  - prompt: "zoom in and {{ input.stem }}zzz"\n')

    with pytest.raises(PlanError) as refused:
        load_batch(recipe).plan(prompts=phrases_not_understood)

    assert [line.rsplit("(input ", 1)[-1] for line in str(refused.value).splitlines()] == ["a.jpg)", "b.jpg)"]


@pytest.mark.parametrize(("backend", "setting"), [("nemo", "fail"), ("local", "warn")])
def test_the_cloud_backend_and_unknown_phrases_warn_skip_the_check(tmp_path: Path, backend: str, setting: str) -> None:
    recipe = _recipe(tmp_path, f'  - prompt: "zoom in and sparkle"\nunknown_phrases: {setting}\n', backend)

    assert len(load_batch(recipe).plan(prompts=phrases_not_understood).jobs) == 2
