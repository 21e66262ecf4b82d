"""Watch files: a YAML list of flows, validated by schemas/watch.schema.json with FILE:LINE:COL errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.repo import REPO

from joypix_recipes.errors import WatchError
from joypix_recipes.watch.config import WatchConfig, load_schema, load_watch_file


def test_package_copy_of_the_watch_schema_is_identical_to_the_published_one() -> None:
    published = (REPO / "schemas" / "watch.schema.json").read_bytes()
    packaged = (REPO / "joypix_recipes" / "schemas" / "watch.schema.json").read_bytes()
    assert packaged == published
    assert load_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    json.loads(published)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "incoming" / "shop").mkdir(parents=True)
    (tmp_path / "incoming" / "portraits").mkdir(parents=True)
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "product.yaml").write_text("version: 1\n")
    (tmp_path / "recipes" / "portrait.yaml").write_text("version: 1\n")
    return tmp_path


def write(project: Path, text: str) -> Path:
    path = project / "watch.yaml"
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(WatchError) as caught:
        load_watch_file(path)
    return str(caught.value).splitlines()


def test_watch_file_with_several_flows_loads_with_paths_relative_to_it(project: Path) -> None:
    path = write(
        project,
        """\
version: 1
settle_seconds: 0.5
polling: true
backend: local
flows:
  - folder: incoming/shop
    recipe: recipes/product.yaml
    patterns: ["*.jpg", "*.png"]
    out: clips/shop
    vars: {brand: Acme}
  - name: portraits
    folder: incoming/portraits
    recipe: recipes/portrait.yaml
""",
    )
    config = load_watch_file(path)
    shop, portraits = config.flows
    assert config.polling and config.settle_seconds == 0.5 and config.rescan_seconds == 30
    assert config.source == path.resolve()
    assert shop.folder == (project / "incoming" / "shop").resolve()
    assert shop.out_dir == (project / "clips" / "shop").resolve()
    assert shop.patterns == ("*.jpg", "*.png") and dict(shop.vars) == {"brand": "Acme"} and shop.backend == "local"
    assert portraits.label == "portraits" and portraits.out_dir == (project / "recipes" / "out").resolve()


def test_every_schema_problem_is_reported_at_its_line_and_column(project: Path) -> None:
    path = write(
        project,
        """\
version: 1
settle_secs: 2
flows:
  - folder: incoming/shop
    recipe: recipes/product.yaml
    backend: cloud
  - folder: incoming/portraits
""",
    )
    found = problems(path)
    assert found == [
        f"{path}:2:1: unknown key 'settle_secs'; did you mean 'settle_seconds'?",
        f"{path}:6:14: backend 'cloud' is not one of local, nemo",
        f"{path}:7:5: flow 2 is missing 'recipe'",
    ]


def test_schema_problems_and_missing_folders_are_reported_together(project: Path) -> None:
    path = write(project, "version: 1\nsettle: 2\nflows:\n  - folder: nowhere\n    recipe: recipes/product.yaml\n")
    assert problems(path) == [
        f"{path}:2:1: unknown key 'settle'; did you mean 'settle_seconds'?",
        f"{path}:4:13: folder 'nowhere' not found (looked for {project / 'nowhere'})",
    ]


def test_duplicate_keys_are_errors_at_the_second_key(project: Path) -> None:
    path = write(project, "version: 1\nflows: []\nflows: []\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}:3:1: duplicate key 'flows'")


def test_yaml_syntax_error_points_at_its_position(project: Path) -> None:
    path = write(project, "version: 1\nflows: [\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}:3:1: YAML syntax")


def test_missing_folder_and_recipe_and_output_equal_to_folder_are_reported(project: Path) -> None:
    path = write(
        project,
        """\
version: 1
flows:
  - folder: incoming/nowhere
    recipe: recipes/missing.yaml
  - folder: incoming/shop
    recipe: recipes/product.yaml
    out: incoming/shop
""",
    )
    assert problems(path) == [
        f"{path}:3:13: folder 'incoming/nowhere' not found (looked for {project / 'incoming' / 'nowhere'})",
        f"{path}:4:13: recipe 'recipes/missing.yaml' not found (looked for {project / 'recipes' / 'missing.yaml'})",
        f"{path}:7:10: the output folder must not be the hot folder or hold it (outputs could be taken as inputs)",
    ]


def test_a_catch_all_flow_before_another_on_the_same_folder_is_an_error(project: Path) -> None:
    path = write(
        project,
        """\
version: 1
flows:
  - folder: incoming/shop
    recipe: recipes/product.yaml
  - folder: incoming/shop
    recipe: recipes/portrait.yaml
    patterns: ["*.png"]
""",
    )
    (line,) = problems(path)
    assert line.startswith(f"{path}:5:5: flow 2 is never used")


def test_yaml_1_1_surprises_are_read_as_text_like_recipes(project: Path) -> None:
    path = write(project, "version: 1\npolling: no\nflows:\n  - {folder: incoming/shop, recipe: recipes/product.yaml}\n")
    (line,) = problems(path)
    assert line == f"{path}:2:10: polling must be true or false, not 'no'"


def test_alias_bomb_is_refused_quickly(project: Path) -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 9)]
    path = write(project, "\n".join(lines) + "\nflows: []\n")
    (line,) = problems(path)
    assert "alias bomb" in line


def test_not_a_mapping_and_missing_file_are_clear(project: Path) -> None:
    assert problems(write(project, "- just\n- a list\n")) == [f"{project / 'watch.yaml'}:1:1: a watch file is a mapping with version and flows"]
    with pytest.raises(WatchError, match="does not exist"):
        load_watch_file(project / "nothing.yaml")


def test_config_from_cli_arguments_defaults_output_beside_the_recipe(project: Path) -> None:
    config = WatchConfig.from_args(project / "incoming" / "shop", project / "recipes" / "product.yaml", settle_seconds=0.3)
    (flow,) = config.flows
    assert flow.out_dir == (project / "recipes" / "out").resolve()
    assert config.settle_seconds == 0.3 and not config.polling and config.source is None


def test_config_from_cli_arguments_refuses_missing_folder_and_output_in_place(project: Path) -> None:
    with pytest.raises(WatchError, match="does not exist or is not a folder"):
        WatchConfig.from_args(project / "nope", project / "recipes" / "product.yaml")
    recipe = project / "recipes" / "product.yaml"
    with pytest.raises(WatchError, match="outputs could be taken as inputs"):
        WatchConfig.from_args(project / "incoming" / "shop", recipe, out_dir=project / "incoming" / "shop")
    with pytest.raises(WatchError, match="outputs could be taken as inputs"):
        WatchConfig.from_args(project / "incoming" / "shop", recipe, out_dir=project)
    inside = WatchConfig.from_args(project / "incoming" / "shop", recipe, out_dir=project / "incoming" / "shop" / "out")
    assert inside.flows[0].out_dir == (project / "incoming" / "shop" / "out").resolve()


@pytest.mark.parametrize(
    "data",
    [
        {"version": 1, "flows": []},
        {"version": 2, "flows": [{"folder": "a", "recipe": "b"}]},
        {"version": 1, "flows": [{"folder": "a"}]},
        {"version": 1, "flows": [{"folder": "", "recipe": "b", "patterns": []}]},
        {"version": 1, "flows": [{"folder": "a", "recipe": "b", "patterns": ["*.jpg"], "vars": {"x": 1}}]},
        {"version": 1, "settle_seconds": 0, "flows": [{"folder": "a", "recipe": "b"}]},
        {"version": 1, "concurrency": 1.5, "flows": [{"folder": "a", "recipe": "b"}]},
        {"version": 1, "polling": "yes", "flows": [{"folder": "a", "recipe": "b", "backend": "nemo"}]},
        {"version": 1, "flows": [{"folder": "a", "recipe": "b", "out": 3}], "extra": True},
    ],
)
def test_our_watch_file_validation_agrees_with_jsonschema(data: dict[str, object]) -> None:
    import jsonschema

    from joypix_recipes.recipe.schema import validate_against
    from joypix_recipes.recipe.source import parse_text

    document = parse_text(json.dumps(data), "watch.yaml")
    ours = validate_against(document, load_schema(), "the watch file")
    assert (not ours) == jsonschema.Draft202012Validator(load_schema()).is_valid(data), ours
