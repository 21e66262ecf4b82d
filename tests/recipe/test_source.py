"""The YAML layer: core-schema scalars, positions, duplicate keys, limits, friendly syntax errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from joypix_recipes.errors import RecipeError
from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.source import MAX_BYTES, parse_text, read_document

from .conftest import WriteRecipe, problems_of

MINIMAL = "version: 1\nsteps:\n  - prompt: zoom in\n"


@pytest.mark.parametrize("aspect", ["9:16", "16:9", "1:1", "4:5"])
def test_unquoted_aspect_reads_as_text_not_sexagesimal(write_recipe: WriteRecipe, aspect: str) -> None:
    path = write_recipe(f"{MINIMAL}export:\n  aspect: {aspect}\n")
    assert load_recipe(path).export.aspect == aspect


def test_yes_and_no_stay_text_while_true_and_false_are_booleans() -> None:
    document = parse_text("a: no\nb: yes\nc: true\nd: False\ne: on\n", "x.yaml")
    assert document.data == {"a": "no", "b": "yes", "c": True, "d": False, "e": "on"}


def test_numbers_follow_yaml_1_2_core() -> None:
    document = parse_text("a: 010\nb: 0x1F\nc: 0o17\nd: 1.5e3\ne: 1:30\nf: 2024-01-02\ng: ~\nh: .inf\n", "x.yaml")
    assert document.data == {
        "a": 10,
        "b": 31,
        "c": 15,
        "d": 1500.0,
        "e": "1:30",
        "f": "2024-01-02",
        "g": None,
        "h": float("inf"),
    }


def test_duplicate_key_is_an_error_at_the_second_key(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        steps:
          - prompt: zoom in
        export:
          aspect: "9:16"
          fps: 30
          aspect: "1:1"
        """
    )
    assert problems_of(path) == [(7, 3, "duplicate key 'aspect' (first defined at line 5); remove one")]


def test_every_duplicate_key_is_reported_together(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - prompt: a\nversion: 1\nsteps: []\n")
    assert [(line, column) for line, column, _ in problems_of(path)] == [(4, 1), (5, 1)]


def test_merge_keys_fill_in_without_counting_as_duplicates(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        steps:
          - animate: &camera {motion: pan-left, duration: 4}
          - animate:
              <<: *camera
              duration: 2
        """
    )
    steps = load_recipe(path).steps
    assert [(step.body["motion"], step.body["duration"]) for step in steps] == [("pan-left", 4.0), ("pan-left", 2.0)]


def test_file_over_one_megabyte_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(MINIMAL + "#" * MAX_BYTES)
    started = time.perf_counter()
    assert problems_of(path) == [(1, 1, "the file is over 1 MB; a recipe is a small text file")]
    assert time.perf_counter() - started < 1.0


def test_alias_bomb_is_refused_quickly(write_recipe: WriteRecipe) -> None:
    layers = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    layers += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    path = write_recipe("version: 1\nsteps:\n  - prompt: hi\nvars:\n" + "".join(f"  {layer}\n" for layer in layers))
    started = time.perf_counter()
    (problem,) = problems_of(path)
    assert time.perf_counter() - started < 1.0
    assert "alias bomb" in problem[2]


def test_recursive_alias_is_refused(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps: &s\n  - prompt: hi\n  - *s\n")
    (problem,) = problems_of(path)
    assert problem[:2] == (2, 8) and "loop" in problem[2]


def test_deep_nesting_is_refused_without_a_traceback(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nvars: " + "[" * 5000 + "]" * 5000 + "\n")
    (problem,) = problems_of(path)
    assert "nested" in problem[2]


def test_tab_indentation_is_explained_at_its_position(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n\t- prompt: hi\n")
    assert problems_of(path) == [(3, 1, "YAML syntax: a tab character; YAML is indented with spaces, not tabs")]


def test_bad_indentation_points_at_the_line(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - prompt: hi\n   name: x\n")
    ((line, _, message),) = problems_of(path)
    assert line == 4 and message.startswith("YAML syntax:")


def test_a_second_document_is_refused_at_its_start(write_recipe: WriteRecipe) -> None:
    path = write_recipe(MINIMAL + "---\nversion: 1\n")
    assert problems_of(path) == [(4, 1, "YAML syntax: a recipe is one YAML document; remove the second '---'")]


def test_text_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\nname: caf\xe9\n")
    assert problems_of(path) == [(2, 10, "the file is not UTF-8 text; save it as UTF-8")]


def test_missing_file_and_folder_are_recipe_errors(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.yaml") == [(1, 1, "no such recipe file")]
    assert problems_of(tmp_path) == [(1, 1, "is a folder, not a recipe file")]


@pytest.mark.parametrize(
    "tagged", ["!!binary aGk=", "!!python/object:os.system {}", "!custom x", "!!set {a}", "!!timestamp 2020-01-01"]
)
def test_tags_beyond_plain_data_are_refused(write_recipe: WriteRecipe, tagged: str) -> None:
    path = write_recipe(f"{MINIMAL}description: {tagged}\n")
    ((line, column, message),) = problems_of(path)
    assert (line, column) == (4, 14) and "not supported" in message


def test_empty_file_says_what_to_write(write_recipe: WriteRecipe) -> None:
    path = write_recipe("# nothing yet\n")
    ((line, _, message),) = problems_of(path)
    assert line == 1 and "version: 1" in message


def test_document_keeps_key_and_value_positions(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("version: 1\nsteps:\n  - animate:\n      duration: 3\n")
    document = read_document(path)
    assert (
        document.key_span(("steps", 0, "animate", "duration")).line,
        document.key_span(("steps", 0, "animate", "duration")).column,
    ) == (4, 7)
    assert document.value_span(("steps", 0, "animate", "duration")).column == 17
    assert document.value_span(("steps", 0, "animate", "missing")).line == 4


def test_error_is_a_recipe_error_even_for_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(b"\x00\x01\x02version: 1")
    with pytest.raises(RecipeError):
        load_recipe(path)
