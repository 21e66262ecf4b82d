"""The JSON form of every action is frozen: job identities hash it, so journals written before keep resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from joypix_recipes.job.actions import (
    BUILTIN_MUSIC,
    Action,
    Animate,
    Audio,
    Box,
    CaptionStyle,
    Cue,
    Fade,
    Overlay,
    Prompt,
    Reframe,
    Stroke,
    Subtitles,
    Text,
    Transition,
    action_from_dict,
    action_kind,
    action_to_dict,
)
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import Job, JobInput, PlannedStep

BRAND = CaptionStyle(
    font="/f/Brand.ttf", color="gold", stroke=Stroke(3.0, "black"), box=Box(), align="left", animate="pop"
)
WRITTEN: list[tuple[Action, str]] = [
    (Prompt("make it pop"), '{"prompt": "make it pop"}'),
    (
        Animate(),
        '{"animate": {"motion": "zoom-in", "duration": 5.0, "zoom": 1.25, "easing": "ease-in-out", "fit": "cover"}}',
    ),
    (
        Animate("ken-burns", 7.5, 1.5, "linear", "blur"),
        '{"animate": {"motion": "ken-burns", "duration": 7.5, "zoom": 1.5, "easing": "linear", "fit": "blur"}}',
    ),
    (Text("Hello"), '{"text": {"content": "Hello", "position": "bottom", "start": 0.0, "end": null, "size": 72.0}}'),
    (
        Text("Sale", "top", 0.5, 4.0, 96.0, BRAND),
        '{"text": {"content": "Sale", "position": "top", "start": 0.5, "end": 4.0, "size": 96.0, "font": "/f/Brand.ttf", '
        '"color": "gold", "stroke": {"width": 3.0, "color": "black"}, "box": {"color": "#000000A0", "padding": 24.0, '
        '"radius": 16.0}, "align": "left", "animate": "pop"}}',
    ),
    (
        Subtitles((Cue(0.0, 1.5, "one"), Cue(1.5, 3.0, "two")), "center", 48.0, CaptionStyle(color="#FFD400")),
        '{"subtitles": {"cues": [[0.0, 1.5, "one"], [1.5, 3.0, "two"]], "position": "center", "size": 48.0, "color": "#FFD400"}}',
    ),
    (
        Audio("/m/music.m4a", 0.35, 1.0, 1.5),
        '{"audio": {"file": "/m/music.m4a", "volume": 0.35, "fade_in": 1.0, "fade_out": 1.5}}',
    ),
    (Audio(BUILTIN_MUSIC), '{"audio": {"file": "builtin:ambient", "volume": 1.0, "fade_in": 0.0, "fade_out": 0.0}}'),
    (Fade(0.5, 1.0), '{"fade": {"in": 0.5, "out": 1.0}}'),
    (Fade(), '{"fade": {"in": 0.0, "out": 0.0}}'),
    (Transition("slide-left", 0.75), '{"transition": {"kind": "slide-left", "duration": 0.75}}'),
    (Transition(), '{"transition": {"kind": "crossfade", "duration": 0.5}}'),
    (Reframe("1:1", "720p"), '{"reframe": {"aspect": "1:1", "resolution": "720p"}}'),
    (Reframe(), '{"reframe": {"aspect": null, "resolution": null}}'),
    (
        Overlay("/b/logo.png", "bottom-left", None, None, 0.15, 0.03, 0.8, 0.5, 4.0, 0.25, 0.5),
        '{"overlay": {"image": "/b/logo.png", "position": "bottom-left", "x": null, "y": null, "width": 0.15, '
        '"margin": 0.03, "opacity": 0.8, "start": 0.5, "end": 4.0, "fade_in": 0.25, "fade_out": 0.5}}',
    ),
]


@pytest.mark.parametrize(("action", "written"), WRITTEN)
def test_each_action_keeps_its_json_form_key_for_key(action: Action, written: str) -> None:
    assert json.dumps(action_to_dict(action), ensure_ascii=False) == written


@pytest.mark.parametrize(("action", "written"), WRITTEN)
def test_each_action_reads_back_from_its_json_form(action: Action, written: str) -> None:
    assert action_from_dict(json.loads(written)) == action


PINNED_KINDS = ("prompt", "animate", "text", "subtitles", "audio", "fade", "transition", "reframe")
"""The kinds there were when the identity below was taken (a kind added later gets its own line above)."""


def test_a_job_of_every_kind_keeps_the_identity_it_had() -> None:
    pinned = [action for action, _ in WRITTEN if action_kind(action) in PINNED_KINDS]
    steps = tuple(PlannedStep(f"s{index}", action) for index, action in enumerate(pinned))
    job_input = JobInput("a.jpg", "a", ".jpg", 1, Path("/i/a.jpg"))
    job = Job("r", Path("/r/recipe.yaml"), job_input, None, steps, ExportSettings(), Path("/o/a.mp4"))
    assert job.spec_hash() == "e260b119f7e86fc2365588920fb325eb7eef02ee2d2410cfbc52c28d29d581fe"


def test_an_audio_step_that_keeps_its_levels_says_so_and_reads_back() -> None:
    action = Audio(BUILTIN_MUSIC, normalize=False)
    written = '{"audio": {"file": "builtin:ambient", "volume": 1.0, "fade_in": 0.0, "fade_out": 0.0, "normalize": false}}'
    assert json.dumps(action_to_dict(action)) == written
    assert action_from_dict(json.loads(written)) == action
