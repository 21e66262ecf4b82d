"""``extends``: a recipe built on a brand file (built on another): the merge rules, where problems are shown,
which folder a brand file's paths start from, and what the job identity covers."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.images import write_image
from PIL import Image

from joypix_recipes.errors import RecipeError
from joypix_recipes.job.actions import Animate, Audio, Fade, Overlay, Text
from joypix_recipes.job.model import input_hash, job_identity
from joypix_recipes.recipe.model import Recipe, load_recipe
from joypix_recipes.recipe.plan import plan_jobs

BASE = """version: 1
vars: {title: Base, tagline: Always}
steps:
  - animate: {motion: none, duration: 1}
export: {aspect: "1:1", resolution: 480p, fps: 10}
"""
BRAND = """version: 1
extends: base.yaml
vars: {title: Brand}
steps+:
  - overlay: {image: logo.png, position: bottom-right, width: 15%}
  - audio: {file: music.wav, volume: 35%}
export: {quality: low}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_image(tmp_path / "a.jpg", (32, 32))
    kit = tmp_path / "brand"
    kit.mkdir()
    (kit / "base.yaml").write_text(BASE, encoding="utf-8")
    (kit / "brand.yaml").write_text(BRAND, encoding="utf-8")
    Image.new("RGBA", (20, 10), (255, 0, 0, 128)).save(kit / "logo.png")
    (kit / "music.wav").write_bytes(b"audio is not read while planning")
    return tmp_path


def _recipe(folder: Path, text: str) -> Recipe:
    (folder / "r.yaml").write_text("version: 1\nextends: brand/brand.yaml\ninputs: [a.jpg]\n" + text, encoding="utf-8")
    return load_recipe(folder / "r.yaml")


def _problems(folder: Path, text: str) -> list[str]:
    with pytest.raises(RecipeError) as caught:
        _recipe(folder, text)
    return [str(problem) for problem in caught.value.problems]


def test_mappings_merge_key_by_key_and_the_extending_file_wins(folder: Path) -> None:
    recipe = _recipe(folder, 'vars: {title: Mine}\nexport: {resolution: 720p}\n')
    assert recipe.vars == {"title": "Mine", "tagline": "Always"}
    assert (recipe.export.aspect, recipe.export.resolution, recipe.export.quality) == ("1:1", "720p", "low")
    assert float(recipe.export.fps) == 10


def test_a_list_is_replaced_unless_written_with_a_plus(folder: Path) -> None:
    replaced = _recipe(folder, "steps:\n  - fade: {in: 0.5}\n")
    assert [step.kind for step in replaced.steps] == ["fade"]
    appended = _recipe(folder, "steps+:\n  - fade: {in: 0.5}\n")
    assert [step.kind for step in appended.steps] == ["animate", "overlay", "audio", "fade"]


def test_inputs_may_be_appended_too(folder: Path) -> None:
    write_image(folder / "b.jpg", (32, 32))
    (folder / "r.yaml").write_text(
        "version: 1\nextends: brand/brand.yaml\ninputs: [a.jpg]\ninputs+: [b.jpg]\n", encoding="utf-8"
    )
    with pytest.raises(RecipeError, match="r.yaml:4:1: write inputs or inputs\\+, not both"):
        load_recipe(folder / "r.yaml")


def test_paths_in_a_brand_file_start_from_its_own_folder(folder: Path) -> None:
    (job,) = plan_jobs(_recipe(folder, "steps+:\n  - text: {content: '{{ vars.title }}'}\n")).jobs
    actions = [step.action for step in job.steps]
    assert isinstance(actions[0], Animate)
    assert isinstance(actions[1], Overlay) and actions[1].image == str(folder / "brand" / "logo.png")
    assert isinstance(actions[2], Audio) and actions[2].file == str(folder / "brand" / "music.wav")
    assert isinstance(actions[3], Text) and actions[3].content == "Brand"


def test_a_bad_value_is_shown_in_the_file_and_at_the_place_it_was_written(folder: Path) -> None:
    (folder / "brand" / "base.yaml").write_text(BASE.replace("duration: 1", "duration: -1"), encoding="utf-8")
    (first,) = _problems(folder, "")
    assert first.startswith(f"{folder / 'brand' / 'base.yaml'}:4:39: animate.duration must be"), first
    (folder / "brand" / "base.yaml").write_text(BASE, encoding="utf-8")
    (template,) = _problems(folder, "steps+:\n  - text: {content: '{{ vars.nope }}'}\n")
    assert template.startswith(f"{folder / 'r.yaml'}:5:30: undefined variable vars.nope"), template


def test_a_template_in_a_brand_file_is_placed_on_the_brand_files_own_line(folder: Path) -> None:
    brand = BRAND.replace("steps+:\n", "steps+:\n  - text:\n      content: 'Sale {{ vars.missing }}'\n")
    (folder / "brand" / "brand.yaml").write_text(brand, encoding="utf-8")
    (problem,) = _problems(folder, "")
    assert problem.startswith(f"{folder / 'brand' / 'brand.yaml'}:6:30: undefined variable vars.missing"), problem


def test_a_missing_brand_file_and_a_loop_are_one_line_each(folder: Path) -> None:
    (folder / "r.yaml").write_text("version: 1\nextends: kit.yaml\nsteps:\n  - fade: {in: 1}\n", encoding="utf-8")
    with pytest.raises(RecipeError) as missing:
        load_recipe(folder / "r.yaml")
    assert str(missing.value) == f"{folder / 'r.yaml'}:2:10: brand file 'kit.yaml' not found (looked for {folder / 'kit.yaml'})"
    (folder / "brand" / "base.yaml").write_text(BASE + "extends: ../r.yaml\n", encoding="utf-8")
    with pytest.raises(RecipeError) as loop:
        _recipe(folder, "")
    assert "\n" not in str(loop.value) and "extends makes a loop" in str(loop.value)
    assert loop.value.exit_code == 2


def test_the_job_identity_follows_the_brand_files_values_and_the_files_they_name(folder: Path) -> None:
    def identity() -> str:
        (job,) = plan_jobs(_recipe(folder, "")).jobs
        return job_identity(job, input_hash(job.input))

    first = identity()
    assert identity() == first
    brand = folder / "brand" / "brand.yaml"
    brand.write_text(BRAND + "# a comment changes nothing the clip shows\n", encoding="utf-8")
    assert identity() == first
    brand.write_text(BRAND.replace("width: 15%", "width: 20%"), encoding="utf-8")
    second = identity()
    assert second != first
    Image.new("RGBA", (20, 10), (0, 0, 255, 255)).save(folder / "brand" / "logo.png")
    assert identity() != second


def test_fade_appended_after_a_brand_without_steps_plus_keeps_order(folder: Path) -> None:
    (folder / "brand" / "brand.yaml").write_text("version: 1\nextends: base.yaml\n", encoding="utf-8")
    recipe = _recipe(folder, "steps+:\n  - fade: {out: 0.5}\n")
    (job,) = plan_jobs(recipe).jobs
    assert [type(step.action) for step in job.steps] == [Animate, Fade]


def test_inputs_and_tables_written_in_a_brand_file_start_from_its_folder(folder: Path) -> None:
    write_image(folder / "brand" / "hero.jpg", (32, 32))
    write_image(folder / "brand" / "row.jpg", (32, 32))
    (folder / "brand" / "rows.csv").write_text("image,title\nrow.jpg,From a row\n", encoding="utf-8")
    (folder / "brand" / "brand.yaml").write_text(
        BRAND + "inputs:\n  - hero.jpg\n  - table: rows.csv\n", encoding="utf-8"
    )
    (folder / "r.yaml").write_text("version: 1\nextends: brand/brand.yaml\n", encoding="utf-8")
    jobs = plan_jobs(load_recipe(folder / "r.yaml")).jobs
    assert [job.input.path for job in jobs] == [folder / "brand" / "hero.jpg", folder / "brand" / "row.jpg"]
    assert jobs[1].vars["title"] == "From a row"


def test_a_misspelt_key_in_a_mapping_both_files_write_is_shown_in_the_brand_file(folder: Path) -> None:
    (folder / "brand" / "brand.yaml").write_text(BRAND.replace("export: {quality: low}", "export: {qualty: low}"))
    (problem,) = _problems(folder, "export: {resolution: 720p}\n")
    assert problem.startswith(f"{folder / 'brand' / 'brand.yaml'}:7:10: unknown key 'qualty'"), problem
    assert "did you mean 'quality'?" in problem
