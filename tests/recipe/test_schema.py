"""The schema file (one source of truth, editor-friendly) and the messages validation gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers.repo import REPO

from joypix_recipes.recipe.schema import SCHEMA_PATH, load_schema, schema_text

from .conftest import WriteRecipe, problems_of


def test_package_schema_is_identical_to_the_repository_copy() -> None:
    assert (REPO / "schemas" / "recipe.schema.json").read_bytes() == SCHEMA_PATH.read_bytes()
    assert schema_text() == SCHEMA_PATH.read_text(encoding="utf-8")


def test_schema_is_valid_json_schema_2020_12() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _objects(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            found += _objects(value, f"{path}/{key}")
    return found


def test_every_object_refuses_unknown_keys_so_typos_fail() -> None:
    for path, node in _objects(load_schema()):
        assert node.get("additionalProperties") is False, path


CHOICES_WITHOUT_DEFAULT = {"#/$defs/Export/preset"}
"""Choices that are absent unless written: no preset is a preset of its own."""


def test_every_property_is_documented_for_editors() -> None:
    definitions = load_schema()["$defs"]
    for path, node in _objects(load_schema()):
        for name, prop in node["properties"].items():
            target = definitions[prop["$ref"].rsplit("/", 1)[-1]] if "$ref" in prop else prop
            documented = {**target, **prop}
            assert documented.get("title") and documented.get("description"), f"{path}/{name}"
            if "enum" in documented and f"{path}/{name}" not in CHOICES_WITHOUT_DEFAULT:
                assert "default" in documented, f"{path}/{name} lists choices but no default"


def test_examples_in_the_schema_are_valid_values() -> None:
    for path, node in _objects(load_schema()):
        for name, prop in node["properties"].items():
            for example in prop.get("examples", []):
                validator = jsonschema.Draft202012Validator({**prop, "$defs": load_schema()["$defs"]})
                assert validator.is_valid(example), f"{path}/{name}: {example}"


def test_unknown_key_suggests_the_closest_name(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        steps:
          - animate: {motoin: pan-left}
        """
    )
    assert problems_of(path) == [(3, 15, "unknown key 'motoin' in animate step; did you mean 'motion'?")]


def test_unknown_top_level_key_suggests_or_lists_names(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nstpes: []\nsteps:\n  - prompt: hi\nzzz: 1\n")
    problems = problems_of(path)
    assert problems[0] == (2, 1, "unknown key 'stpes'; did you mean 'steps'?")
    assert problems[1][:2] == (5, 1) and "expected one of version, name" in problems[1][2]


def test_misspelt_choice_says_did_you_mean(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - animate:\n      motion: zoom-inn\n")
    ((line, column, message),) = problems_of(path)
    assert (line, column) == (4, 15)
    assert message.startswith("animate.motion 'zoom-inn' is not one of zoom-in, zoom-out") and message.endswith(
        "did you mean 'zoom-in'?"
    )


def test_missing_required_field_points_at_its_key(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - text:\n      position: top\n")
    assert problems_of(path) == [(3, 5, "text step is missing 'content'")]


def test_missing_version_and_steps_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("name: x\n")
    assert problems_of(path) == [(1, 1, "the recipe is missing 'steps'"), (1, 1, "the recipe is missing 'version'")]


def test_step_with_two_kinds_is_an_error(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - prompt: hi\n    fade: {in: 1}\n")
    assert problems_of(path) == [
        (3, 5, "step 1 has prompt and fade; a step does exactly one thing (split it into several steps)")
    ]


def test_step_without_a_kind_names_the_kinds(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - name: lonely\n")
    ((line, column, message),) = problems_of(path)
    assert (line, column) == (3, 5) and "needs one of prompt, animate, text, audio, fade" in message


def test_misspelt_step_kind_gives_one_problem_not_two(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps:\n  - promt: hi\n")
    assert problems_of(path) == [(3, 5, "unknown key 'promt' in step 1; did you mean 'prompt'?")]


def test_input_needs_exactly_one_of_path_url_and_images(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        inputs:
          - {vars: {a: 1}}
          - {path: a.jpg, url: "https://example.com/a.jpg"}
          - {url: "ftp://example.com/a.jpg"}
        steps:
          - prompt: hi
        """
    )
    assert problems_of(path) == [
        (3, 5, "input 1 needs one of path, url, table, images; give exactly one of path or url or table or images"),
        (4, 5, "input 2 has path and url; give exactly one of path or url or table or images"),
        (5, 11, "url 'ftp://example.com/a.jpg' must start with http:// or https://"),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("version: 2", (1, 10, "version must be 1, not 2")),
        ("backend: cloud", (1, 10, "backend 'cloud' is not one of local, nemo")),
        ("seed: -1", (1, 7, "seed must be at least 0, not -1")),
        ("seed: 1.5", (1, 7, "seed must be a whole number, not 1.5")),
        ("requires: 'latest'", (1, 11, "requires 'latest' must be a version such as \">=0.3\"")),
        ("unknown_phrases: ignore", (1, 18, "unknown_phrases 'ignore' is not one of fail, warn")),
        (
            "vars: {my-var: 1}",
            (1, 8, "the name 'my-var' must start with a letter and contain only letters, digits and '_'"),
        ),
        ("vars: {a: [1]}", (1, 11, "vars.a must be text or a number or true or false, not a list")),
        ("export: {resolution: 1080}", (1, 22, "export.resolution 1080 is not one of 1080p, 720p, 480p")),
        ("export: {fps: 121}", (1, 15, "export.fps must be at most 120, not 121")),
        ("export: {fps: 0.5}", (1, 15, "export.fps must be at least 1, not 0.5")),
        (
            "export: {fps: fast}",
            (1, 15, 'export.fps \'fast\' is not a frame rate; write a number such as 30 or 29.97, or a ratio such as "30000/1001"'),
        ),
        ("export: {fps: 240000/1001}", (1, 15, "export.fps '240000/1001' frames per second is out of range; use 1 to 120")),
        ("export: {aspect: 1.5}", (1, 18, "export.aspect 1.5 is not one of 9:16, 16:9, 1:1, 4:5")),
        (
            "variants: [{name: 'my reel'}]",
            (
                1,
                19,
                "name 'my reel' may contain only letters, digits, '.', '_' and '-', starting with a letter or digit",
            ),
        ),
        ("variants: []", (1, 11, "variants needs at least 1 item(s)")),
        ("inputs: photos/*.jpg", (1, 9, "inputs must be a list, not 'photos/*.jpg'")),
    ],
)
def test_field_rule_messages_and_positions(
    write_recipe: WriteRecipe, line: str, expected: tuple[int, int, str]
) -> None:
    path = write_recipe(
        f"{line}\nsteps:\n  - prompt: hi\n" + ("version: 1\n" if not line.startswith("version") else "")
    )
    assert problems_of(path) == [expected]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("animate: {duration: 0}", "animate.duration must be more than 0, not 0"),
        ("animate: {duration: [5]}", "animate.duration must be a number or a template that renders to one, not a list"),
        ("animate: {zoom: 9}", "animate.zoom must be at most 4, not 9"),
        ("animate: {easing: bouncy}", "animate.easing 'bouncy' is not one of linear, ease-in-out"),
        ("animate: {fit: stretch}", "animate.fit 'stretch' is not one of cover, blur"),
        ("text: {content: ''}", "text.content must not be empty"),
        ("audio: {file: a.mp3, volume: 2}", "audio.volume must be at most 1, not 2"),
        ("fade: {in: -0.5}", "fade.in must be at least 0, not -0.5"),
        ("prompt: 5", "prompt step must be text, not 5"),
        ("animate: zoom-in", "animate step must be a mapping (key: value lines), not 'zoom-in'"),
    ],
)
def test_step_rule_messages(write_recipe: WriteRecipe, step: str, expected: str) -> None:
    path = write_recipe(f"version: 1\nsteps:\n  - {step}\n")
    ((line, _, message),) = problems_of(path)
    assert (line, message) == (3, expected)


def test_every_problem_in_the_file_is_reported_at_once_in_order(write_recipe: WriteRecipe) -> None:
    path = write_recipe(
        """
        version: 1
        steps:
          - animate: {motion: spin}
          - text: {position: middle}
        export: {quality: ultra}
        """
    )
    assert [line for line, _, _ in problems_of(path)] == [3, 4, 4, 5]


def test_messages_carry_no_python_repr(write_recipe: WriteRecipe) -> None:
    path = write_recipe("version: 1\nsteps: {a: 1}\nvars: {a: {b: 1}, c: null}\nexport: [1]\n")
    text = "\n".join(message for _, _, message in problems_of(path))
    for marker in ("{'", "['", "None", "dict", "<", "Traceback"):
        assert marker not in text
