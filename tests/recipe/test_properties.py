"""Property tests: any text ends in a Recipe or our own error; recipes shaped by the schema load and plan;
our schema validation agrees with the jsonschema package on what is valid."""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helpers.repo import SAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joypix_recipes.errors import JoypixError
from joypix_recipes.recipe import Recipe, load_recipe
from joypix_recipes.recipe.plan import plan_jobs
from joypix_recipes.recipe.schema import load_schema, schema_issues

SCHEMA = load_schema()
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LINES = [
    "version: 1",
    "version: 2",
    "name: demo",
    "steps:",
    "inputs:",
    "vars:",
    "export:",
    "variants:",
    "- prompt: zoom in",
    "- animate: {motion: pan-left}",
    "motion: ken-burns",
    "duration: 5",
    "duration: '{{ vars.d }}'",
    "aspect: 9:16",
    "aspect: 16:9",
    "- text: {content: hi}",
    "content: '{{ vars.title }}'",
    "- audio: {file: a.m4a, volume: 35%}",
    "- fade: {in: 1, out: 1}",
    "- name: reels",
    "when: variant.name == 'reels'",
    "output: '{{ input.stem }}.mp4'",
    "requires: '>=0.1'",
    "requires: '>=9'",
    "&a [1, 2]",
    "*a",
    "<<: *a",
    "- *a",
    "? [x]",
    ": y",
    "!!binary aGk=",
    "'unterminated",
    '"{{ "',
    "{% for x in vars %}",
    "- {path: x.jpg, vars: {a: 1}}",
    "- {url: 'https://x/y.jpg'}",
    "seed: 1:30",
    "fps: 30.0",
    "title: no",
    "---",
    "...",
    "%YAML 1.1",
    "\t- tab",
    "key: [a, {b: c}]",
    "- - - -",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("properties")
    (path / "samples").mkdir()
    shutil.copy(SAMPLE, path / "samples" / "sample.jpg")
    (path / "samples" / "music.m4a").write_bytes(b"audio is not read while planning")
    (path / "samples" / "captions.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n", encoding="utf-8")
    (path / "samples" / "logo.png").write_bytes(b"overlays are not read while planning")
    (path / "logo.png").write_bytes(b"overlays are not read while planning")
    (path / "fonts").mkdir()
    (path / "fonts" / "Brand-Bold.ttf").write_bytes(b"fonts are not read while planning")
    # The tables the schema's examples name, their pictures relative to each table's folder.
    (path / "products.csv").write_text("image,sku\nsamples/sample.jpg,A1\n", encoding="utf-8")
    (path / "samples" / "catalogue.csv").write_text("image,sku\nsample.jpg,A1\n", encoding="utf-8")
    return path


def _load_text(folder: Path, text: str) -> Recipe | None:
    path = folder / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        return load_recipe(path)
    except JoypixError as error:
        assert str(error) and "Traceback" not in str(error)
        return None


@FUZZ
@given(text=st.text(max_size=400))
def test_any_text_gives_a_recipe_or_our_error(folder: Path, text: str) -> None:
    _load_text(folder, text)


@FUZZ
@given(lines=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(LINES)), max_size=14))
def test_any_recipe_like_text_gives_a_recipe_or_our_error(folder: Path, lines: list[tuple[int, str]]) -> None:
    recipe = _load_text(folder, "".join("  " * depth + line + "\n" for depth, line in lines))
    if recipe is not None:
        try:
            plan_jobs(recipe, inputs=[str(SAMPLE)], out_dir=folder / "out")
        except JoypixError:
            pass


# Recipes from the schema's own shapes ---------------------------------------------------------------


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        target = SCHEMA
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _numbers(schema: dict[str, Any], integer: bool) -> st.SearchStrategy[Any]:
    low = schema.get("minimum", schema.get("exclusiveMinimum", -1000))
    high = schema.get("maximum", 1000)
    if integer:
        return st.integers(int(low) + (1 if "exclusiveMinimum" in schema else 0), int(high))
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False, exclude_min="exclusiveMinimum" in schema)
    return st.one_of(floats, st.integers(int(low) + 1, int(high)))


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values valid against a schema written in the subset the recipe schema uses."""
    schema = _resolve(schema)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "oneOf" in schema:
        return st.one_of([_branch(schema, branch, depth) for branch in schema["oneOf"]])
    return _typed(schema, schema.get("type"), depth)


def _branch(schema: dict[str, Any], branch: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    others = {key for other in schema["oneOf"] if other is not branch for key in other.get("required", ())}
    required = set(schema.get("required", ())) | set(branch.get("required", ()))
    properties = {key: value for key, value in schema.get("properties", {}).items() if key not in others - required}
    narrowed = {
        **schema,
        "properties": properties,
        "required": sorted(required),
        "type": branch.get("type", schema.get("type")),
    }
    narrowed.pop("oneOf")
    return _typed(narrowed, narrowed["type"], depth)


def _typed(schema: dict[str, Any], types: Any, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(types, list) and set(types) - {"null"} == {"number", "string"}:
        numbers = _numbers(schema, False)
        if "pattern" in schema:  # a number or its own written form (a frame rate such as "30000/1001"), no template
            return numbers | _typed(schema, "string", depth)
        texts = numbers.map(lambda number: f"{number}") | numbers.map(lambda number: f"{{{{ {number} }}}}")
        return st.one_of([numbers, texts, *([st.none()] if "null" in types else [])])
    if isinstance(types, list):
        return st.one_of([_typed(schema, name, depth) for name in types])
    if types == "object":
        return _objects(schema, depth)
    if types == "array":
        return st.lists(from_schema(schema["items"], depth + 1), min_size=schema.get("minItems", 0), max_size=3)
    if types in ("number", "integer"):
        return _numbers(schema, types == "integer")
    if types == "boolean":
        return st.booleans()
    if types == "null":
        return st.none()
    strings = [example for example in schema.get("examples", []) if isinstance(example, str)]
    if strings:
        return st.sampled_from(strings)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(
            lambda text: len(text) <= schema.get("maxLength", 100) and text.strip()
        )
    return st.text(
        st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Zs")),
        min_size=max(1, schema.get("minLength", 0)),
        max_size=20,
    ).filter(str.strip)


def _objects(schema: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    if not properties:
        names = st.from_regex(schema.get("propertyNames", {}).get("pattern", "^[a-z]+$"), fullmatch=True).filter(
            lambda name: len(name) < 12
        )
        return st.dictionaries(
            names, from_schema(schema.get("additionalProperties", {"type": "string"}), depth + 1), max_size=3
        )
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {key: from_schema(value, depth + 1) for key, value in properties.items() if key in required},
        optional={key: from_schema(value, depth + 1) for key, value in properties.items() if key not in required},
    )


def _without_variant_refs(value: Any) -> bool:
    return not (isinstance(value, str) and "variant" in value)


def satisfy_cross_field_rules(data: dict[str, Any]) -> dict[str, Any]:
    """What the schema cannot say: unique variant names, outputs that tell variants apart, end after start."""
    data = copy.deepcopy(data)
    notify = data.get("notify")
    targets = notify if isinstance(notify, list) else [notify]
    if any(isinstance(target, dict) and len(target) != 1 for target in targets):  # exactly one key: not generated
        data["notify"] = {"command": ["true"]}
    data["vars"] = {**data.get("vars", {}), "title": "T", "duration": 3}
    data.pop("extends", None)  # a brand file of its own is tested in tests/recipe/test_extends.py
    for appended in ("steps+", "inputs+", "variants+"):
        data.pop(appended, None)
    variants = data.get("variants", [])
    for index, variant in enumerate(variants):
        variant["name"] = f"{variant['name'][:40]}-{index}"
    exports = [data.get("export", {}), *(variant.get("export", {}) for variant in variants)]
    for export in exports:
        export.pop("format", None)  # an output's extension must match its format: tests/render/test_formats*.py
        if "output" in export and (
            variants
            and "variant.name" not in export["output"]
            or not variants
            and not _without_variant_refs(export["output"])
        ):
            del export["output"]
    for step in data["steps"]:
        if not variants and not _without_variant_refs(step.get("when")):
            del step["when"]
        overlay = step.get("overlay", {})
        overlay.pop("end", None)
        overlay.pop("fade_in", None)
        overlay.pop("fade_out", None)
        if ("x" in overlay) != ("y" in overlay):
            overlay.pop("x", None)
            overlay.pop("y", None)
        text = step.get("text", {})
        if text.get("end") is not None:
            text["start"], text["end"] = 0, max(1, text["end"]) if isinstance(text["end"], (int, float)) else 2
    return data


RECIPES = from_schema(SCHEMA).map(satisfy_cross_field_rules)


# Recipes are read as YAML 1.2 (core schema), PyYAML writes YAML 1.1: quote the texts that 1.2 reads as
# numbers ("08", "1e5", "0o7"), as a person writing the recipe by hand would have to.
_CORE_NUMBER = re.compile(
    r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
    r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)


class _Yaml12Dumper(yaml.SafeDumper):
    pass


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "'" if _CORE_NUMBER.fullmatch(text) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Yaml12Dumper.add_representer(str, _represent_text)


@FAST
@given(data=RECIPES)
def test_recipes_shaped_by_the_schema_load_and_plan(folder: Path, data: dict[str, Any]) -> None:
    path = folder / "generated.yaml"
    path.write_text(yaml.dump(data, Dumper=_Yaml12Dumper, sort_keys=False, allow_unicode=True))
    recipe = load_recipe(path)
    jobs = plan_jobs(recipe, inputs=[str(folder / "samples" / "sample.jpg")], out_dir=folder / "out").jobs
    assert len(jobs) == max(1, len(data.get("variants", [])))
    assert all(job.output.is_relative_to(folder / "out") for job in jobs)


# Our validation agrees with jsonschema ----------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 100)
    | st.floats(-5, 100, allow_nan=False)
    | st.sampled_from(["", "9:16", "zoom-in", "x", "35%", "{{ vars.a }}"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "name", "prompt", "path", "url", "in", "motion"]), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    data = draw(from_schema(SCHEMA))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(list(_paths(data))))
        replacement = draw(JSON)
        if not path:
            data = replacement
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent.pop(path[-1])
            parent[draw(st.sampled_from(["zoom", "steps", "unknown", "url", "in"]))] = replacement
        else:
            parent[path[-1]] = replacement
    return data


VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_our_validation_agrees_with_jsonschema(data: Any) -> None:
    expected = VALIDATOR.is_valid(data)
    ours = not schema_issues(data)
    assert ours == expected, [issue.message for issue in schema_issues(data)]


def test_messages_never_show_python_reprs() -> None:
    pattern = re.compile(r"\{'|\['|None|True|False|<class")
    samples = [
        {"version": 1, "steps": [{"animate": {"motion": [1]}}], "vars": {"a": {"b": None}}},
        {"steps": {"a": 1}},
        [],
    ]
    for data in samples:
        for issue in schema_issues(data):
            assert not pattern.search(issue.message), issue.message


OVERRIDABLE = """\
version: 1
vars: {title: t, seconds: 3, level: 35, folder: clips}
inputs: [samples/sample.jpg]
steps:
  - animate: {duration: "{{ vars.seconds }}"}
  - text: {content: "{{ vars.title }}", end: "{{ vars.seconds }}"}
  - audio: {file: builtin:ambient, volume: "{{ vars.level }}%"}
export:
  output: "{{ vars.folder }}-{{ vars.title }}.mp4"
"""


@pytest.fixture(scope="module")
def overridable(folder: Path) -> Recipe:
    path = folder / "overridable.yaml"
    path.write_text(OVERRIDABLE)
    return load_recipe(path)


@FAST
@given(
    values=st.dictionaries(st.sampled_from(["title", "seconds", "level", "folder"]), st.text(max_size=30), max_size=4)
)
def test_any_var_override_gives_jobs_or_a_plan_error(folder: Path, overridable: Recipe, values: dict[str, str]) -> None:
    try:
        (job,) = plan_jobs(overridable, var_overrides=values, out_dir=folder / "out").jobs
    except JoypixError as error:
        assert str(error).startswith(overridable.file) and "Traceback" not in str(error)
    else:
        assert job.output.is_relative_to(folder / "out")
