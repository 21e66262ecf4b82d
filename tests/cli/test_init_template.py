"""`joypix init`: the schema comment survives a commit, the starter names every step kind, and --template copies an example."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.repo import REPO

from joypix_recipes.cli.main import main
from joypix_recipes.job.kinds.registry import RECIPE_KINDS
from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.schema import SCHEMA_PATH
from joypix_recipes.recipe.starter import example_names

MODELINE = "# yaml-language-server: $schema="
EXAMPLES = sorted(path.stem for path in (REPO / "recipes").glob("*.yaml"))


def _schema_of(recipe: Path) -> Path:
    first = recipe.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE), first
    reference = first.removeprefix(MODELINE)
    assert not Path(reference).is_absolute() and "://" not in reference, reference
    return (recipe.parent / reference).resolve()


def test_outside_a_repository_the_schema_comment_is_relative_to_the_recipe_and_finds_the_installed_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "promos/summer"]) == 0
    assert _schema_of(tmp_path / "promos" / "summer.yaml") == SCHEMA_PATH


def test_inside_a_repository_with_the_schema_the_comment_points_at_its_copy_and_survives_moving_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "shop"
    (repo / "schemas").mkdir(parents=True)
    shutil.copy(REPO / "schemas" / "recipe.schema.json", repo / "schemas")
    monkeypatch.chdir(repo)
    assert main(["init", "recipes/spring/sale"]) == 0
    assert _schema_of(repo / "recipes" / "spring" / "sale.yaml") == repo / "schemas" / "recipe.schema.json"
    moved = tmp_path / "elsewhere"
    repo.rename(moved)
    assert _schema_of(moved / "recipes" / "spring" / "sale.yaml") == moved / "schemas" / "recipe.schema.json"


def test_a_schemas_folder_of_another_project_is_not_taken_for_ours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "recipe.schema.json").write_text('{"$id": "urn:someone-else"}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["init", "promo"]) == 0
    assert _schema_of(tmp_path / "promo.yaml") == SCHEMA_PATH


def test_the_header_names_the_file_as_written_even_in_a_folder_or_with_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "promos/summer.yml"]) == 0
    header = (tmp_path / "promos" / "summer.yml").read_text(encoding="utf-8").splitlines()[1:4]
    assert [line.rsplit("joypix ", 1)[1] for line in header] == [
        "validate promos/summer.yml",
        "run promos/summer.yml --dry-run",
        "run promos/summer.yml",
    ]


def test_the_starter_names_every_step_kind_a_recipe_may_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "promo"]) == 0
    text = (tmp_path / "promo.yaml").read_text(encoding="utf-8")
    (listed,) = re.findall(r"Each step is one of: (.*)\.", text)
    assert listed.split(", ") == [kind.name for kind in RECIPE_KINDS]
    assert "subtitles" in listed
    for kind in RECIPE_KINDS:  # each kind is shown in use, as a step or as a commented example
        assert re.search(rf"^\s*#? ?- {kind.name}:", text, re.M), kind.name


def test_help_lists_every_example_recipe_as_a_template(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["init", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert example_names() == tuple(EXAMPLES) and "catalogue" in EXAMPLES
    for name in EXAMPLES:
        assert name in help_text


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_template_copy_is_the_example_renamed_pointing_at_the_schema_and_loads_beside_its_samples(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "recipes" / "samples", tmp_path / "samples")
    shutil.copytree(REPO / "recipes" / "brand", tmp_path / "brand")  # the brand kit the brand-* examples extend
    monkeypatch.chdir(tmp_path)
    assert main(["init", "mine", "--template", name]) == 0
    written = tmp_path / "mine.yaml"
    assert _schema_of(written) == SCHEMA_PATH
    text = written.read_text(encoding="utf-8")
    assert f"recipes/{name}.yaml" not in text
    assert load_recipe(written).name == "mine"
    example = (REPO / "recipes" / f"{name}.yaml").read_text(encoding="utf-8")
    steps = example[example.index("\nsteps") :]  # steps: or steps+:
    assert steps in text  # the edits are the example's, untouched


def test_an_unknown_template_is_a_usage_error_with_the_closest_name_and_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "mine", "--template", "catalog"]) == 2
    err = capsys.readouterr().err
    assert "no example recipe named 'catalog'; did you mean 'catalogue'?" in err
    assert ", ".join(EXAMPLES) in err
    assert not (tmp_path / "mine.yaml").exists()


def test_a_template_never_overwrites_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("mine\n", encoding="utf-8")
    assert main(["init", "mine", "--template", "quickstart"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "mine.yaml").read_text(encoding="utf-8") == "mine\n"


def test_the_quickstart_template_renders_beside_the_sample_photo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_image(tmp_path / "samples" / "sample.jpg", (64, 48))
    monkeypatch.chdir(tmp_path)
    assert main(["init", "mine", "--template", "quickstart"]) == 0
    assert main(["validate", "mine.yaml"]) == 0
