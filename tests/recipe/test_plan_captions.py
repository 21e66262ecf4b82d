"""Planning captions: styles carried into jobs, font files and subtitles resolved against the recipe, bad ones named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers.images import write_image

from joypix_recipes.errors import PlanError, RecipeError
from joypix_recipes.job.actions import Box, CaptionStyle, Cue, Stroke, Subtitles, Text, action_from_dict, action_to_dict
from joypix_recipes.job.model import Job
from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.plan import plan_jobs

SRT = """1
00:00:00,500 --> 00:00:01,250
<i>Fresh</i> from the oven

2
00:00:01,500 --> 00:00:02,000
Order now
"""


def plan_in(folder: Path, steps: str) -> list[Job]:
    write_image(folder / "photo.jpg", (64, 48))
    recipe = folder / "recipe.yaml"
    recipe.write_text("version: 1\ninputs: [photo.jpg]\nsteps:\n" + textwrap.indent(textwrap.dedent(steps), "  "))
    return plan_jobs(load_recipe(recipe)).jobs


def test_a_styled_text_step_carries_its_style_and_an_absolute_font_path(tmp_path: Path) -> None:
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "Brand.otf").write_bytes(b"read when rendering")
    (job,) = plan_in(
        tmp_path,
        """
        - text:
            content: Sale
            font: fonts/Brand.otf
            color: "#FFD400"
            stroke: {width: 6, color: black}
            box: {color: "#000000AA", padding: 30, radius: 12}
            align: left
            animate: pop
        """,
    )
    (step,) = job.steps
    assert step.action == Text(
        "Sale",
        style=CaptionStyle(
            font=str(tmp_path / "fonts" / "Brand.otf"),
            color="#FFD400",
            stroke=Stroke(6, "black"),
            box=Box("#000000AA", 30, 12),
            align="left",
            animate="pop",
        ),
    )
    assert action_from_dict(action_to_dict(step.action)) == step.action


def test_a_plain_text_step_keeps_the_spec_it_had_before_styles_existed(tmp_path: Path) -> None:
    (job,) = plan_in(tmp_path, "- text: {content: Sale}\n")
    assert action_to_dict(job.steps[0].action) == {
        "text": {"content": "Sale", "position": "bottom", "start": 0.0, "end": None, "size": 72.0}
    }


def test_subtitles_are_read_into_timed_cues_with_markup_dropped(tmp_path: Path) -> None:
    (tmp_path / "captions.srt").write_text(SRT, encoding="utf-8")
    (job,) = plan_in(tmp_path, "- subtitles: {file: captions.srt, color: gold, animate: slide-up}\n")
    assert job.steps[0].action == Subtitles(
        (Cue(0.5, 1.25, "Fresh from the oven"), Cue(1.5, 2.0, "Order now")),
        style=CaptionStyle(color="gold", animate="slide-up"),
    )


def test_webvtt_subtitles_given_as_a_path(tmp_path: Path) -> None:
    (tmp_path / "captions.vtt").write_text("WEBVTT\n\n00:00.250 --> 00:01.000\nHello\n", encoding="utf-8")
    (job,) = plan_in(tmp_path, "- subtitles: captions.vtt\n")
    assert job.steps[0].action == Subtitles((Cue(0.25, 1.0, "Hello"),))


@pytest.mark.parametrize(
    ("files", "step", "message"),
    [
        ({}, "- subtitles: missing.srt\n", "subtitles file 'missing.srt' not found (looked for "),
        (
            {"bad.srt": "1\nnot a time\nwords\n"},
            "- subtitles: bad.srt\n",
            "subtitles 'bad.srt': it is not a valid SRT file",
        ),
        ({}, "- text: {content: Hi, font: brand.ttf}\n", "font file 'brand.ttf' not found"),
        ({}, "- text: {content: Hi, font: Helvetica}\n", "font 'Helvetica' is neither a .ttf/.otf file nor one of"),
    ],
)
def test_unusable_subtitles_and_fonts_are_named_with_their_line(
    tmp_path: Path, files: dict[str, str], step: str, message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(PlanError) as error:
        plan_in(tmp_path, step)
    assert message in str(error.value) and "recipe.yaml:4:" in str(error.value)


def test_a_colour_that_is_no_colour_is_a_recipe_error_at_its_place(tmp_path: Path) -> None:
    with pytest.raises(RecipeError) as error:
        plan_in(tmp_path, "- text: {content: Hi, box: {color: blurple}}\n")
    assert "recipe.yaml:4:" in str(error.value) and "'blurple' is not a colour" in str(error.value)
