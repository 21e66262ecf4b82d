"""Applying actions to a draft: each action's effect, partial prompt edits, several images, and refusals."""

from __future__ import annotations

import pytest

from joypix_recipes.job.actions import BUILTIN_MUSIC, Animate, Audio, Fade, Prompt, Reframe, Text, Transition
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.timeline.draft import AudioClip, Draft, TextClip
from joypix_recipes.timeline.edit import add_image, apply_action, apply_interpretation, current_format, new_draft
from joypix_recipes.timeline.interpret import interpret_prompt


def one_image(export: ExportSettings | None = None) -> Draft:
    return add_image(new_draft(export or ExportSettings(), seed=7), "/photos/a.jpg", label="a.jpg")


def test_new_draft_takes_size_fps_and_seed_from_export() -> None:
    draft = new_draft(ExportSettings(aspect="16:9", resolution="720p", fps=25), seed=3)
    assert (draft.width, draft.height, draft.fps, draft.seed) == (1280, 720, 25, 3)
    assert draft.video == () and draft.duration_ms == 0


def test_new_image_has_default_motion_and_five_seconds() -> None:
    clip = one_image().video[0]
    assert (clip.src, clip.label, clip.motion, clip.duration_ms, clip.zoom, clip.easing, clip.fit) == (
        "/photos/a.jpg", "a.jpg", "zoom-in", 5000, 1.25, "ease-in-out", "cover",
    )  # fmt: skip


def test_default_animate_step_changes_nothing_on_a_new_image() -> None:
    assert apply_action(one_image(), Animate()) == one_image()


def test_images_play_in_sequence_with_crossfades() -> None:
    draft = add_image(add_image(one_image(), "/photos/b.jpg", transition_ms=500), "/photos/c.jpg", transition_ms=1000)
    assert [clip.src for clip in draft.video] == ["/photos/a.jpg", "/photos/b.jpg", "/photos/c.jpg"]
    assert draft.video_starts_ms() == (0, 4500, 8500)
    assert draft.duration_ms == 13500


def test_first_image_has_no_transition_and_long_transitions_are_refused() -> None:
    assert add_image(new_draft(ExportSettings()), "a.jpg", transition_ms=800).video[0].transition_ms == 0
    with pytest.raises(ValueError, match="half"):
        add_image(one_image(), "b.jpg", transition_ms=3000)


def test_animate_gives_every_image_the_same_move() -> None:
    draft = add_image(one_image(), "/photos/b.jpg")
    edited = apply_action(draft, Animate(motion="pan-left", duration=3.0, zoom=1.5, easing="linear", fit="blur"))
    for clip in edited.video:
        assert (clip.motion, clip.duration_ms, clip.zoom, clip.easing, clip.fit) == (
            "pan-left",
            3000,
            1.5,
            "linear",
            "blur",
        )
    assert edited.duration_ms == 6000


def test_transition_overlaps_every_join_and_shortens_the_clip() -> None:
    draft = add_image(add_image(one_image(), "/photos/b.jpg"), "/photos/c.jpg")
    edited = apply_action(apply_action(draft, Animate(duration=3.0)), Transition("slide-left", 0.5))
    assert [(clip.transition, clip.transition_ms) for clip in edited.video[1:]] == [("slide-left", 500)] * 2
    assert edited.video[0].transition_ms == 0
    assert edited.duration_ms == 3 * 3000 - 2 * 500
    assert Draft.from_json(edited.to_json()).video == edited.video


def test_a_hard_cut_has_no_overlap_and_long_transitions_are_refused() -> None:
    draft = apply_action(add_image(one_image(), "/photos/b.jpg"), Animate(duration=2.0))
    assert apply_action(draft, Transition("none", 0.5)).duration_ms == 4000
    with pytest.raises(ValueError, match="half"):
        apply_action(draft, Transition("crossfade", 1.5))


def test_animate_without_an_image_is_refused() -> None:
    with pytest.raises(ValueError, match="no image"):
        apply_action(new_draft(ExportSettings()), Animate())


def test_text_converts_seconds_to_ms_and_open_end() -> None:
    draft = apply_action(one_image(), Text("Sale", "top", start=0.5, end=3.25, size=90))
    draft = apply_action(draft, Text("Shop now", "bottom", start=2.0))
    assert draft.text == (
        TextClip(text="Sale", start_ms=500, duration_ms=2750, position="top", size=90.0),
        TextClip(text="Shop now", start_ms=2000, duration_ms=None, position="bottom"),
    )
    assert draft.text_end_ms(draft.text[1]) == 5000


def test_text_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="end after"):
        apply_action(one_image(), Text("x", start=3, end=2))


def test_audio_adds_then_replaces_the_background_track() -> None:
    draft = apply_action(one_image(), Audio(file="/music/a.mp3", volume=0.35, fade_in=1, fade_out=2))
    assert draft.audio == (
        AudioClip(src="/music/a.mp3", volume=0.35, fade_in_ms=1000, fade_out_ms=2000, label="a.mp3"),
    )
    draft = apply_action(draft, Audio(file=BUILTIN_MUSIC, volume=0.5))
    assert draft.audio == (AudioClip(src=BUILTIN_MUSIC, volume=0.5),)


def test_fade_sets_draft_fades() -> None:
    draft = apply_action(one_image(), Fade(fade_in=0.5, fade_out=1.5))
    assert (draft.fade_in_ms, draft.fade_out_ms) == (500, 1500)


def test_reframe_keeps_the_setting_it_does_not_name() -> None:
    draft = one_image(ExportSettings(aspect="9:16", resolution="1080p"))
    square = apply_action(draft, Reframe(aspect="1:1"))
    assert (square.width, square.height) == (1080, 1080)
    smaller = apply_action(square, Reframe(resolution="480p"))
    assert (smaller.width, smaller.height) == (480, 480)
    assert current_format(apply_action(smaller, Reframe(aspect="16:9", resolution="720p"))) == ("16:9", "720p")


def test_reframe_from_an_unusual_size_uses_nearest_names() -> None:
    draft = Draft(width=1000, height=1800)
    assert current_format(draft) == ("9:16", "1080p")
    assert (
        apply_action(draft, Reframe(resolution="720p")).width,
        apply_action(draft, Reframe(resolution="720p")).height,
    ) == (720, 1280)


def test_prompt_actions_must_be_interpreted_first() -> None:
    with pytest.raises(ValueError, match="interpreted"):
        apply_action(one_image(), Prompt("zoom in"))


def test_partial_prompt_keeps_what_it_does_not_mention() -> None:
    draft = apply_action(one_image(), Animate(motion="pan-left", duration=3.0, zoom=1.5, easing="linear"))
    draft = apply_action(draft, Fade(fade_in=0.5, fade_out=0.5))
    draft = apply_action(draft, Audio(file="/music/a.mp3", volume=0.8))
    edited = apply_interpretation(draft, interpret_prompt("make it 10 seconds, fade in, music at 20%"))
    clip = edited.video[0]
    assert (clip.motion, clip.duration_ms, clip.zoom, clip.easing) == ("pan-left", 10000, 1.5, "linear")
    assert (edited.fade_in_ms, edited.fade_out_ms) == (1000, 500)
    assert edited.audio[0].src == "/music/a.mp3" and edited.audio[0].volume == 0.2


def test_edits_never_change_the_draft_they_were_given() -> None:
    draft = one_image()
    before = draft.to_json()
    apply_action(draft, Animate(motion="pan-up", duration=2))
    apply_action(draft, Text("x"))
    assert draft.to_json() == before
