"""Planning groups of images: one job per group, images in the listed order, what templates see, identity, clashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.recipes import recipe_at

from joypix_recipes.errors import PlanError, RecipeError
from joypix_recipes.job.actions import Transition
from joypix_recipes.job.model import Job, input_hash, job_identity
from joypix_recipes.recipe.plan import plan_jobs

SMALL = (64, 48)


def photos(folder: Path, *names: str) -> list[Path]:
    return [write_image(folder / name, SMALL, seed=index) for index, name in enumerate(names)]


GROUP_RECIPE = """
    version: 1
    inputs:
      - images: [look/02.jpg, look/01.jpg, "look/*.jpg"]
        vars: {title: Spring}
    steps:
      - animate: {duration: 3}
      - transition: {kind: slide-left, duration: 0.5}
      - text: {content: "{{ vars.title }}: {{ input.count }} images from {{ input.images[0].stem }} ({{ input.images[1].width }}px)"}
    export:
      output: "{{ input.name }}.mp4"
    """


def test_a_group_is_one_job_with_its_images_in_the_listed_order_and_globs_sorted(tmp_path: Path) -> None:
    first, second, third = photos(tmp_path / "look", "01.jpg", "02.jpg", "03.jpg")
    (job,) = plan_jobs(recipe_at(tmp_path, GROUP_RECIPE)).jobs
    assert job.input.images == (second, first, first, second, third)
    assert job.input.path == second and job.input.name == "02"
    assert job.output == tmp_path / "out" / "02.mp4"
    assert job.steps[1].action == Transition("slide-left", 0.5)
    assert job.steps[2].action.content == "Spring: 5 images from 02 (64px)"  # type: ignore[union-attr]


def test_a_group_job_round_trips_through_json(tmp_path: Path) -> None:
    photos(tmp_path / "look", "01.jpg", "02.jpg")
    (job,) = plan_jobs(recipe_at(tmp_path, GROUP_RECIPE)).jobs
    assert Job.from_dict(json.loads(json.dumps(job.to_dict()))) == job


def test_the_identity_changes_when_any_image_of_the_group_changes(tmp_path: Path) -> None:
    _, last = photos(tmp_path / "look", "01.jpg", "02.jpg")
    (job,) = plan_jobs(recipe_at(tmp_path, GROUP_RECIPE)).jobs
    before = job_identity(job, input_hash(job.input))
    write_image(last, SMALL, seed=99)
    assert job_identity(job, input_hash(job.input)) != before


def test_a_single_image_is_a_group_of_one_for_templates(tmp_path: Path) -> None:
    photos(tmp_path, "solo.jpg")
    recipe = recipe_at(
        tmp_path,
        """
        version: 1
        inputs: [solo.jpg]
        steps:
          - text: {content: "{{ input.count }} {{ input.images[0].name }} {{ input.name }}"}
        """,
    )
    (job,) = plan_jobs(recipe).jobs
    assert job.steps[0].action.content == "1 solo.jpg solo.jpg"  # type: ignore[union-attr]


def test_an_output_that_would_replace_any_image_of_a_group_is_refused(tmp_path: Path) -> None:
    photos(tmp_path / "look", "01.jpg", "02.jpg")
    recipe = recipe_at(
        tmp_path,
        """
        version: 1
        inputs:
          - images: [look/01.jpg, look/02.jpg]
        steps:
          - animate: {}
        export:
          output: "02.mp4"
        """,
    )
    with pytest.raises(PlanError, match=r"poster of 01 would replace the input .*02\.jpg"):
        plan_jobs(recipe, out_dir=tmp_path / "look")


def test_a_missing_image_of_a_group_is_named_at_its_entry(tmp_path: Path) -> None:
    photos(tmp_path / "look", "01.jpg")
    recipe = recipe_at(
        tmp_path,
        """
        version: 1
        inputs:
          - images: [look/01.jpg, look/gone.jpg]
        steps:
          - animate: {}
        """,
    )
    with pytest.raises(PlanError, match=r"recipe\.yaml:3:\d+: input 'look/gone\.jpg' not found"):
        plan_jobs(recipe)


def test_group_on_the_command_line_makes_one_clip_per_folder_named_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spring = photos(tmp_path / "spring", "b.jpg", "a.jpg")
    photos(tmp_path / "autumn", "c.jpg")
    recipe = recipe_at(tmp_path, "version: 1\nsteps:\n  - animate: {}\n")
    monkeypatch.chdir(tmp_path)
    jobs = plan_jobs(recipe, inputs=["spring", "autumn/"], group=True).jobs
    assert [(job.input.name, job.output.name) for job in jobs] == [("spring", "spring.mp4"), ("autumn", "autumn.mp4")]
    assert jobs[0].input.images == tuple(sorted(spring))


def test_an_unknown_transition_kind_is_a_recipe_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match=r"recipe\.yaml:3:.*spin"):
        recipe_at(tmp_path, "version: 1\nsteps:\n  - transition: {kind: spin}\n")
