"""The rule-based prompt interpreter: every phrase family, the unknown-words report, and properties over any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joypix_recipes.job.actions import BUILTIN_MUSIC, Action, Animate, Audio, Fade, Reframe, Text
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.timeline.edit import add_image, apply_interpretation, new_draft
from joypix_recipes.timeline.interpret import Interpretation, interpret_prompt, vocabulary


def only(text: str, kind: type) -> Action:
    """The single action of ``kind`` a prompt gives, asserting nothing was left unknown."""
    result = interpret_prompt(text)
    assert result.unknown == (), f"{text!r} left {result.unknown}"
    matching = [action for action in result.actions if isinstance(action, kind)]
    assert len(matching) == 1, f"{text!r} gave {result.actions}"
    return matching[0]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("a 5-second clip", 5.0), ("5 second video", 5.0), ("make it 10s", 10.0), ("3 seconds", 3.0),
     ("2.5s", 2.5), ("a five-second clip", 5.0), ("for 8 seconds", 8.0), ("做成5秒的视频", 5.0)],
)  # fmt: skip
def test_durations_set_the_clip_length(text: str, seconds: float) -> None:
    action = only(text, Animate)
    assert isinstance(action, Animate) and action.duration == seconds


@pytest.mark.parametrize(
    ("text", "motion"),
    [("zoom in", "zoom-in"), ("slow push in", "zoom-in"), ("push in", "zoom-in"), ("zoom-in", "zoom-in"),
     ("zoom out", "zoom-out"), ("pull back", "zoom-out"), ("pan left", "pan-left"), ("pan to the right", "pan-right"),
     ("pan up", "pan-up"), ("tilt up", "pan-up"), ("pan down", "pan-down"), ("Ken Burns effect", "ken-burns"),
     ("static", "none"), ("no motion", "none"), ("放大", "zoom-in"), ("向左平移", "pan-left")],
)  # fmt: skip
def test_motion_phrases_pick_the_camera_move(text: str, motion: str) -> None:
    action = only(text, Animate)
    assert isinstance(action, Animate) and action.motion == motion


@pytest.mark.parametrize(
    ("text", "zoom"),
    [("subtle zoom in", 1.1), ("slow zoom in", 1.25), ("dramatic zoom in", 1.5), ("a 1.4x zoom-out", 1.4)],
)
def test_strength_words_set_the_zoom(text: str, zoom: float) -> None:
    action = only(text, Animate)
    assert isinstance(action, Animate) and action.zoom == zoom


def test_smooth_means_ease_in_out_and_linear_means_linear() -> None:
    smooth, linear = only("smooth zoom in", Animate), only("linear zoom in", Animate)
    assert isinstance(smooth, Animate) and smooth.easing == "ease-in-out"
    assert isinstance(linear, Animate) and linear.easing == "linear"


def test_blurred_background_sets_fit_blur() -> None:
    action = only("zoom out over a blurred background", Animate)
    assert isinstance(action, Animate) and action.fit == "blur"


@pytest.mark.parametrize(
    ("text", "aspect"),
    [("vertical", "9:16"), ("portrait", "9:16"), ("9:16", "9:16"), ("for reels", "9:16"), ("tiktok", "9:16"),
     ("stories", "9:16"), ("square", "1:1"), ("1:1", "1:1"), ("horizontal", "16:9"), ("landscape", "16:9"),
     ("widescreen", "16:9"), ("16:9", "16:9"), ("youtube", "16:9"), ("4:5", "4:5"), ("feed portrait", "4:5"),
     ("竖屏", "9:16")],
)  # fmt: skip
def test_aspect_words_reframe(text: str, aspect: str) -> None:
    action = only(text, Reframe)
    assert isinstance(action, Reframe) and action.aspect == aspect and action.resolution is None


@pytest.mark.parametrize(
    ("text", "resolution"),
    [("1080p", "1080p"), ("720p", "720p"), ("480p", "480p"), ("full hd", "1080p"), ("in hd", "720p")],
)
def test_resolution_words_reframe(text: str, resolution: str) -> None:
    action = only(text, Reframe)
    assert isinstance(action, Reframe) and action.resolution == resolution and action.aspect is None


def test_portrait_image_describes_the_input_not_the_aspect() -> None:
    result = interpret_prompt("convert a single product photo or portrait image into a 1080p MP4")
    assert result == Interpretation((Reframe(resolution="1080p"),), (), (frozenset({"resolution"}),))


def test_title_in_quotes_with_position_and_first_seconds() -> None:
    action = only('add the title "Summer Sale" at the top for the first 3 seconds', Text)
    assert action == Text(content="Summer Sale", position="top", start=0.0, end=3.0)


def test_caption_defaults_to_bottom_and_title_to_top() -> None:
    result = interpret_prompt('add the title "Big" and the caption "small print"')
    assert result.unknown == ()
    assert result.actions == (Text("Big", position="top"), Text("small print", position="bottom"))


def test_text_timing_span_start_and_size() -> None:
    assert only('caption "Hi" at the center from 1s to 4.5s', Text) == Text("Hi", "center", 1.0, 4.5)
    assert only('text "Hi" from 2s until the end at size 96', Text) == Text("Hi", "bottom", 2.0, None, 96.0)
    assert only("Add 'Hello World' as the title for 2 seconds", Text) == Text("Hello World", "top", 0.0, 2.0)


def test_quoted_text_keeps_its_case_and_punctuation() -> None:
    assert only("caption “It’s 50% OFF. Today!” at the bottom", Text).content == "It’s 50% OFF. Today!"  # type: ignore[union-attr]


def test_music_with_volume_uses_the_builtin_track() -> None:
    assert only("add lo-fi background music at 35%", Audio) == Audio(file=BUILTIN_MUSIC, volume=0.35)


def test_named_or_quoted_audio_file_is_used_as_the_track() -> None:
    assert only("add Music.MP3 at 20% volume", Audio) == Audio(file="Music.MP3", volume=0.2)
    assert only('add background music "my song" with a 2-second fade-out', Audio) == Audio(file="my song", fade_out=2.0)


def test_music_volume_change_does_not_name_a_new_track() -> None:
    result = interpret_prompt("set the music volume to 20%")
    assert result.unknown == ()
    assert result.actions == (Audio(file=BUILTIN_MUSIC, volume=0.2),)
    assert result.given == (frozenset({"volume"}),)


@pytest.mark.parametrize(
    ("text", "fade"),
    [("fade in", Fade(1.0, 0.0)), ("fade out", Fade(0.0, 1.0)), ("fade in and out", Fade(1.0, 1.0)),
     ("1-second fade", Fade(1.0, 1.0)), ("2-second fade-in", Fade(2.0, 0.0)),
     ("fade out to black over 3 seconds", Fade(0.0, 3.0)), ("淡入淡出", Fade(1.0, 1.0)),
     ("fade in 0.3 seconds", Fade(0.3, 0.0)), ("fade out 2 s", Fade(0.0, 2.0))],
)  # fmt: skip
def test_fades(text: str, fade: Fade) -> None:
    assert only(text, Fade) == fade


def test_a_fade_length_without_over_is_the_fades_not_the_cameras() -> None:
    actions = interpret_prompt("zoom in for 6 seconds, fade in 0.3 seconds").actions
    assert [type(action).__name__ for action in actions] == ["Animate", "Fade"]
    animate, fade = actions
    assert isinstance(animate, Animate) and animate.duration == 6.0
    assert fade == Fade(0.3, 0.0)


def test_fade_in_states_only_the_fade_in() -> None:
    assert interpret_prompt("fade in").given == (frozenset({"fade_in"}),)


def test_fade_after_music_applies_to_the_music_not_the_video() -> None:
    result = interpret_prompt("add lo-fi music at 35% with a 1-second fade-in. Fade out to black")
    assert result.unknown == ()
    assert Audio(file=BUILTIN_MUSIC, volume=0.35, fade_in=1.0) in result.actions
    assert Fade(fade_in=0.0, fade_out=1.0) in result.actions


def test_everything_in_one_sentence() -> None:
    text = (
        "Animate this image into a smooth 10-second vertical 720p clip with a slow pan left, add the title "
        '"Summer Sale" at the top for the first 3 seconds, lo-fi background music at 35% and fade in and out'
    )
    result = interpret_prompt(text)
    assert result.unknown == ()
    assert set(result.actions) == {
        Reframe(aspect="9:16", resolution="720p"),
        Animate(motion="pan-left", duration=10.0, zoom=1.25, easing="ease-in-out"),
        Text("Summer Sale", "top", 0.0, 3.0),
        Audio(file=BUILTIN_MUSIC, volume=0.35, fade_in=1.0, fade_out=1.0),
    }


def test_everyday_animation_requests_are_fully_understood() -> None:
    for text in (
        "animate this image into a smooth 5-second video clip",
        "turning still photos into short animated video clips for social media creators",
        "please make a 5-second clip for social media",
    ):
        assert interpret_prompt(text).unknown == (), text


@pytest.mark.parametrize(
    ("text", "unknown"),
    [("make it look better", ("look better",)), ("add explosions", ("explosions",)),
     ("zoom in and add explosions, then sparkle", ("explosions", "sparkle")),
     ("make it 0 seconds", ("0 seconds",)), ("at the top", ("at the top",)), ("at 35%", ("at 35%",)),
     ("render it in 4k", ("4k",))],
)  # fmt: skip
def test_unknown_words_are_reported_as_phrases(text: str, unknown: tuple[str, ...]) -> None:
    assert interpret_prompt(text).unknown == unknown


def test_vocabulary_is_one_line_naming_each_family() -> None:
    line = vocabulary()
    assert "\n" not in line
    for family in ("5-second", "zoom in", "Ken Burns", "vertical", "1080p", "quotes", "35%", "fade in"):
        assert family in line


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_an_interpretation(text: str) -> None:
    result = interpret_prompt(text)
    assert isinstance(result, Interpretation)
    assert all(isinstance(word, str) and word for word in result.unknown)
    assert len(result.given) == len(result.actions)


KNOWN_PHRASES: list[tuple[str, Action]] = [
    ("zoom in", Animate(motion="zoom-in")),
    ("pan right", Animate(motion="pan-right")),
    ("a 7-second clip", Animate(duration=7.0)),
    ("make it square", Reframe(aspect="1:1")),
    ("720p", Reframe(resolution="720p")),
    ('caption "Hello" at the bottom', Text("Hello", "bottom")),
    ("add lo-fi background music at 35%", Audio(file=BUILTIN_MUSIC, volume=0.35)),
    ("fade in and out", Fade(1.0, 1.0)),
]
FILLER = st.lists(
    st.sampled_from(
        ["please", "animate this image into a smooth clip", "for social media", "thanks", "now", "make it"]
    ),
    max_size=3,
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(KNOWN_PHRASES), FILLER, FILLER, st.sampled_from([" ", ", ", ". "]))
def test_known_phrases_survive_surrounding_filler(
    known: tuple[str, Action], before: str, after: str, joint: str
) -> None:
    phrase, expected = known
    result = interpret_prompt(f"{before}{joint}{phrase}{joint}{after}")
    assert result.unknown == ()
    matching = [action for action in result.actions if type(action) is type(expected)]
    assert len(matching) == 1
    stated = result.given[result.actions.index(matching[0])]
    for name in interpret_prompt(phrase).given[0]:
        assert name in stated
        assert getattr(matching[0], name) == getattr(expected, name)


FRAGMENTS = st.sampled_from(
    ["zoom in", "pan left", "5-second", "for 3 seconds", "from 1s to 2s", "at the top", '"Hi"', "'x'", "title",
     "caption", "music", "song.mp3", "at 35%", "fade", "fade in", "no fades", "1.3x", "slow", "square", "720p",
     "until the end", "the", "and", ",", ".", "\n", "0 seconds", "999%", "淡入", "标题", "“", "\ue000", "9:16", "-"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=5)), max_size=12).map(" ".join))
def test_any_mix_of_known_fragments_gives_applicable_actions(text: str) -> None:
    result = interpret_prompt(text)
    assert len(result.given) == len(result.actions)
    assert all(word.strip() for word in result.unknown)
    draft = add_image(new_draft(ExportSettings()), "/photos/a.jpg")
    apply_interpretation(draft, result)  # whatever the interpreter accepts, a draft can hold


def test_a_title_that_is_only_an_audio_extension_stays_a_title() -> None:
    interpretation = interpret_prompt('Add the title ".M4A" at the top for the whole clip.')
    assert interpretation.unknown == ()
    assert [type(action).__name__ for action in interpretation.actions] == ["Text"]
