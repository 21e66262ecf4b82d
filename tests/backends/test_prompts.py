"""Agent prompts for structured steps: the documented wording, and that the interpreter reads each one back."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import PurePath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joypix_recipes.backends.prompts import format_request, prompt_for
from joypix_recipes.job.actions import (
    BUILTIN_MUSIC,
    EASINGS,
    FITS,
    MOTIONS,
    POSITIONS,
    Action,
    Animate,
    Audio,
    Box,
    CaptionStyle,
    Cue,
    Fade,
    Prompt,
    Reframe,
    Stroke,
    Subtitles,
    Text,
)
from joypix_recipes.job.export import ASPECTS, RESOLUTIONS, ExportSettings
from joypix_recipes.timeline.draft import Draft
from joypix_recipes.timeline.edit import add_image, apply_action, apply_interpretation, new_draft
from joypix_recipes.timeline.interpret import ZOOM_WORDS, interpret_prompt


@pytest.mark.parametrize(
    ("action", "prompt"),
    [
        (Animate(motion="zoom-in", duration=5), "Animate this image into a smooth 5-second video clip with a slow zoom-in."),
        (Animate(motion="pan-left", duration=2.5, zoom=1.3, easing="linear", fit="blur"),
         "Animate this image into a 2.5-second video clip with a 1.3x pan to the left over a blurred background and linear easing."),
        (Text("X", position="top", start=0, end=3), 'Add the title "X" at the top from 0s to 3s.'),
        (Text('Say "hi"', position="bottom", start=1), "Add the caption “Say \"hi\"” at the bottom from 1s until the end."),
        (Fade(fade_in=1, fade_out=2), "Fade in from black over 1 second and fade out to black over 2 seconds."),
        (Reframe(aspect="1:1", resolution="720p"), "Reframe the video to 1:1 at 720p."),
        (Prompt("anything at all"), "anything at all"),
    ],
)  # fmt: skip
def test_documented_wording(action: Action, prompt: str) -> None:
    assert prompt_for(action) == prompt


def test_audio_prompt_names_the_uploaded_file() -> None:
    action = Audio(file="/home/me/music/beat.mp3", volume=0.35, fade_in=1)
    assert (
        prompt_for(action, audio_name="beat-7f3a.mp3")
        == 'Add background music "beat-7f3a.mp3" at 35% volume with a 1-second fade-in.'
    )
    assert prompt_for(action) == 'Add background music "beat.mp3" at 35% volume with a 1-second fade-in.'
    assert prompt_for(Audio(file=BUILTIN_MUSIC, volume=0.5)) == "Add background music at 50% volume."


SECONDS = st.integers(min_value=100, max_value=60_000).map(lambda ms: ms / 1000)
WORDS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip)

ANIMATE = st.builds(
    Animate,
    motion=st.sampled_from(MOTIONS),
    duration=SECONDS,
    zoom=st.one_of(st.sampled_from(sorted(ZOOM_WORDS.values())), st.integers(100, 400).map(lambda z: z / 100)),
    easing=st.sampled_from(EASINGS),
    fit=st.sampled_from(FITS),
)
TEXT = st.builds(
    lambda content, position, start, length, size: Text(
        content, position, start, None if length is None else start + length, size
    ),
    WORDS,
    st.sampled_from(POSITIONS),
    st.integers(0, 30_000).map(lambda ms: ms / 1000),
    st.one_of(st.none(), SECONDS),
    st.one_of(st.just(72.0), st.integers(8, 400).map(float)),
)
AUDIO = st.builds(
    Audio,
    file=st.one_of(st.just(BUILTIN_MUSIC), st.sampled_from(["/music/beat.mp3", "/a b/Song (1).wav", "C.M4A"])),
    volume=st.integers(0, 200).map(lambda v: v / 100),
    fade_in=st.integers(0, 10_000).map(lambda ms: ms / 1000),
    fade_out=st.integers(0, 10_000).map(lambda ms: ms / 1000),
)
FADE = st.builds(
    Fade,
    fade_in=st.integers(0, 60_000).map(lambda ms: ms / 1000),
    fade_out=st.integers(0, 60_000).map(lambda ms: ms / 1000),
)
REFRAME = st.builds(
    Reframe,
    aspect=st.one_of(st.none(), st.sampled_from(ASPECTS)),
    resolution=st.one_of(st.none(), st.sampled_from(RESOLUTIONS)),
)


def starting_drafts() -> list[Draft]:
    """A fresh one-image draft, and one where earlier steps already set everything to something else."""
    fresh = add_image(new_draft(ExportSettings()), "/photos/a.jpg", label="a.jpg")
    busy = fresh
    for action in (
        Animate(motion="pan-right", duration=3.0, zoom=1.7, easing="linear"),
        Fade(0.5, 0.5),
        Audio(file="/music/old.mp3", volume=0.2, fade_in=3, fade_out=3),
        Reframe(aspect="4:5", resolution="480p"),
    ):
        busy = apply_action(busy, action)
    return [fresh, busy]


@settings(max_examples=200, deadline=None)
@given(st.one_of(ANIMATE, TEXT, AUDIO, FADE, REFRAME), st.one_of(st.none(), WORDS))
def test_every_structured_prompt_reads_back_to_the_same_edit(action: Action, audio_name: str | None) -> None:
    prompt = prompt_for(action, audio_name=audio_name)
    interpretation = interpret_prompt(prompt)
    assert interpretation.unknown == (), prompt
    expected_action = action
    if isinstance(action, Audio) and (audio_name is not None or action.file != BUILTIN_MUSIC):
        expected_action = replace(action, file=audio_name or PurePath(action.file).name)
    for draft in starting_drafts():
        assert apply_interpretation(draft, interpretation) == apply_action(draft, expected_action), prompt


def test_the_frame_request_names_ntsc_and_whole_rates_as_people_write_them() -> None:
    assert format_request("9:16", "1080p", Fraction(30000, 1001)) == "Make the video 9:16 at 1080p, 29.97 fps."
    assert format_request("1:1", "720p", Fraction(24)) == "Make the video 1:1 at 720p, 24 fps."


def test_a_caption_style_is_asked_for_in_words_after_the_caption_itself() -> None:
    style = CaptionStyle(
        font="serif-bold", color="#FFD400", stroke=Stroke(6, "black"), box=Box("navy", 30, 12), align="left", animate="pop"
    )
    assert prompt_for(Text("Sale", position="top", start=0, end=3, style=style)) == (
        'Add the title "Sale" at the top from 0s to 3s. Style it: set it in a bold serif typeface; colour the text '
        "#FFD400; outline the letters 6 pixels wide in black; put it on a navy plate with 30-pixel padding and "
        "12-pixel rounded corners; align it left; let it pop in."
    )


def test_a_font_file_is_described_not_named_and_said_to_be_local_only() -> None:
    prompt = prompt_for(Text("Sale", style=CaptionStyle(font="/brand/Fade In.ttf")))
    assert "applied only by local renders" in prompt and "Fade In" not in prompt
    (caption,) = interpret_prompt(prompt).actions  # the font's name is not read as one more caption or a fade
    assert isinstance(caption, Text) and caption.content == "Sale"


def test_subtitles_become_one_caption_sentence_per_cue_that_reads_back_in_time() -> None:
    subtitles = Subtitles((Cue(0.5, 1.25, "Fresh"), Cue(1.5, 2.0, "Order now")), style=CaptionStyle(animate="slide-up"))
    prompt = prompt_for(subtitles)
    assert prompt.endswith("Style these captions: let them slide up into place.")
    captions = [action for action in interpret_prompt(prompt).actions if isinstance(action, Text)]
    assert [(c.content, c.start, c.end, c.size) for c in captions] == [("Fresh", 0.5, 1.25, 56.0), ("Order now", 1.5, 2.0, 56.0)]
