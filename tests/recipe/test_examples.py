"""The example recipes in recipes/ validate and plan, and the sample media they use are what they claim."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from helpers.repo import REPO, SAMPLE
from PIL import Image, ImageStat

from joypix_recipes.job.export import PRESETS
from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.plan import plan_jobs

RECIPES = REPO / "recipes"
MUSIC = RECIPES / "samples" / "music.m4a"


def test_the_examples_the_readme_promises_exist() -> None:
    names = {path.name for path in RECIPES.glob("*.yaml")}
    assert {"quickstart.yaml", "product-showcase.yaml", "portrait-title-music.yaml", "hot-folder.yaml"} <= names


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*.yaml")), ids=lambda path: path.name)
def test_example_recipe_validates_and_plans(path: Path, tmp_path: Path) -> None:
    recipe = load_recipe(path)
    assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/recipe.schema.json\n")
    inputs = [str(SAMPLE)] if recipe.inputs is None else None
    jobs = plan_jobs(recipe, inputs=inputs, out_dir=tmp_path).jobs
    assert jobs and all(job.output.is_absolute() and job.output.is_relative_to(tmp_path) for job in jobs)
    assert all(job.steps for job in jobs)


def test_quickstart_is_one_quick_vertical_clip_of_the_sample() -> None:
    (job,) = plan_jobs(load_recipe(RECIPES / "quickstart.yaml")).jobs
    assert job.input.path == SAMPLE and job.output == RECIPES / "out" / "sample.mp4"
    assert job.export.aspect == "9:16" and job.export.size[0] * job.export.size[1] <= 1080 * 1920
    assert job.steps[0].to_dict()["prompt"] == "animate this image into a smooth 5-second video clip"


def test_product_showcase_fans_out_to_three_platforms() -> None:
    jobs = plan_jobs(load_recipe(RECIPES / "product-showcase.yaml")).jobs
    assert [(job.variant, job.export.aspect) for job in jobs] == [
        ("reels", "9:16"),
        ("feed", "4:5"),
        ("youtube", "16:9"),
    ]
    assert len({job.output for job in jobs}) == 3


def test_product_showcases_feed_clip_is_the_feed_preset_the_readme_lists() -> None:
    feed = next(job for job in plan_jobs(load_recipe(RECIPES / "product-showcase.yaml")).jobs if job.variant == "feed")
    preset = PRESETS["feed"]
    assert (feed.export.aspect, feed.export.resolution, feed.export.fps) == (preset.aspect, preset.resolution, preset.fps)
    assert f"feed ({preset.aspect})" in (RECIPES / "product-showcase.yaml").read_text(encoding="utf-8").splitlines()[1]


def test_portrait_recipe_uses_the_sample_music_as_an_absolute_path() -> None:
    (job,) = plan_jobs(load_recipe(RECIPES / "portrait-title-music.yaml")).jobs
    audio = next(step.action for step in job.steps if step.name == "music")
    assert Path(audio.file) == MUSIC and audio.volume == 0.35  # type: ignore[union-attr]


def test_sample_photo_is_a_product_shot_of_the_promised_size() -> None:
    assert SAMPLE.stat().st_size < 300_000
    with Image.open(SAMPLE) as image:
        assert (image.format, image.size) == ("JPEG", (1600, 1200))
        assert ImageStat.Stat(image.convert("L")).stddev[0] > 25, "a clear subject needs contrast"


def test_sample_music_is_eight_seconds_of_aac() -> None:
    assert MUSIC.stat().st_size < 150_000
    with av.open(str(MUSIC)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
        samples = sum(frame.samples for frame in container.decode(stream))
    assert 7.5 <= samples / stream.rate <= 8.5


def test_portrait_recipe_shows_a_branded_title_and_the_sample_captions() -> None:
    (job,) = plan_jobs(load_recipe(RECIPES / "portrait-title-music.yaml")).jobs
    title = next(step.action for step in job.steps if step.name == "title")
    captions = next(step.action for step in job.steps if step.name == "captions")
    assert title.style.font == "sans-bold" and title.style.box is not None  # type: ignore[union-attr]
    assert [cue.content for cue in captions.cues] == ["Notes of cedar and bergamot", "In stores this spring"]  # type: ignore[union-attr]
