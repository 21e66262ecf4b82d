"""One contract for every step kind: its JSON form is pinned, its recipe fields match its action and the
schema, it edits a timeline only through the Timeline it is handed, and it is worded for the cloud agent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

import pytest

from joypix_recipes.job.actions import (
    ACTION_KINDS,
    STYLE_KEYS,
    Action,
    Audio,
    CaptionStyle,
    Cue,
    Fade,
    Overlay,
    Prompt,
    Subtitles,
    action_kind,
)
from joypix_recipes.job.kinds.kind import Kind, Wording
from joypix_recipes.job.kinds.registry import KINDS, RECIPE_KINDS, kind_of
from joypix_recipes.recipe.schema import load_schema

from .test_action_json import WRITTEN

EXAMPLES = [action for action, _ in WRITTEN]


@dataclass(frozen=True)
class RecordingTimeline:
    """A Timeline that only notes what a kind asked of it, so a kind's effect is seen without a draft."""

    calls: tuple[tuple[str, Any], ...] = ()
    music: bool = False

    @property
    def has_music(self) -> bool:
        return self.music

    def _noted(self, name: str, *args: Any) -> RecordingTimeline:
        return RecordingTimeline(self.calls + ((name, args),), self.music)

    def move_camera(self, stated: Mapping[str, Any]) -> RecordingTimeline:
        return self._noted("move_camera", dict(stated))

    def join_images(self, kind: str, seconds: float) -> RecordingTimeline:
        return self._noted("join_images", kind, seconds)

    def add_caption(
        self, content: str, position: str, start: float, end: float | None, size: float, style: CaptionStyle
    ) -> RecordingTimeline:
        return self._noted("add_caption", content, position, start, end, size, style)

    def add_captions(
        self, timed: Sequence[tuple[str, float, float | None]], position: str, size: float, style: CaptionStyle
    ) -> RecordingTimeline:
        timeline = self
        for content, start, end in timed:
            timeline = timeline.add_caption(content, position, start, end, size, style)
        return timeline

    def set_music(self, stated: Mapping[str, Any]) -> RecordingTimeline:
        return self._noted("set_music", dict(stated))

    def set_fades(self, fade_in: float | None, fade_out: float | None) -> RecordingTimeline:
        return self._noted("set_fades", fade_in, fade_out)

    def reframe(self, aspect: str | None, resolution: str | None) -> RecordingTimeline:
        return self._noted("reframe", aspect, resolution)

    def add_overlay(self, overlay: Overlay) -> RecordingTimeline:
        return self._noted("add_overlay", overlay)


def _step_schema() -> dict[str, Any]:
    step: dict[str, Any] = load_schema()["$defs"]["Step"]
    return step


def test_every_kind_has_its_json_form_pinned() -> None:
    assert sorted({action_kind(action) for action in EXAMPLES}) == sorted(ACTION_KINDS)


def test_each_kind_is_found_by_its_keyword_and_by_its_action() -> None:
    assert [kind.name for kind in KINDS] == list(ACTION_KINDS)
    assert all(kind_of(action).name == action_kind(action) for action in EXAMPLES)


def test_the_schema_lets_a_step_be_exactly_the_kinds_recipes_write() -> None:
    step = _step_schema()
    written = {kind.name for kind in RECIPE_KINDS}
    assert set(step["properties"]) - {"name", "when"} == written
    assert {name for option in step["oneOf"] for name in option["required"]} == written


@pytest.mark.parametrize("kind", RECIPE_KINDS, ids=lambda kind: kind.name)
def test_each_recipe_field_fills_a_field_of_the_action_and_is_in_the_schema(kind: Kind[Any]) -> None:
    assert kind.definition is not None
    action_fields = {each.name for each in dataclass_fields(kind.action)}
    described = set(load_schema()["$defs"][kind.definition].get("properties", {}))
    for each in kind.fields:
        assert each.target in action_fields
        if each.role == "style":
            assert STYLE_KEYS <= described
        elif each.key != kind.shorthand:
            assert each.key in described


@pytest.mark.parametrize("kind", RECIPE_KINDS, ids=lambda kind: kind.name)
def test_a_field_with_no_default_is_one_the_schema_requires(kind: Kind[Any]) -> None:
    assert kind.definition is not None
    required = set(load_schema()["$defs"][kind.definition].get("required", []))
    for each in kind.fields:
        if kind.default(each) is MISSING and each.key != kind.shorthand:
            assert each.key in required


@pytest.mark.parametrize("action", [a for a in EXAMPLES if not isinstance(a, Prompt)], ids=action_kind)
def test_every_kind_but_prompt_edits_a_timeline_through_what_it_is_handed(action: Action) -> None:
    assert kind_of(action).apply(action, RecordingTimeline()).calls


def test_a_prompt_is_refused_until_it_is_interpreted() -> None:
    with pytest.raises(ValueError, match="interpreted"):
        kind_of(Prompt("zoom in")).apply(Prompt("zoom in"), RecordingTimeline())


def test_subtitles_add_one_caption_per_cue_in_their_shared_style() -> None:
    style = CaptionStyle(color="gold")
    subtitles = Subtitles((Cue(0.0, 1.0, "one"), Cue(1.0, 2.5, "two")), "top", 40.0, style)
    calls = kind_of(subtitles).apply(subtitles, RecordingTimeline()).calls
    assert calls == (
        ("add_caption", ("one", "top", 0.0, 1.0, 40.0, style)),
        ("add_caption", ("two", "top", 1.0, 2.5, 40.0, style)),
    )


def test_a_prompt_that_states_only_the_volume_starts_a_first_track_from_the_defaults() -> None:
    audio = Audio("builtin:ambient", volume=0.4)
    first = kind_of(audio).apply(audio, RecordingTimeline(), fields={"volume"}).calls
    later = kind_of(audio).apply(audio, RecordingTimeline(music=True), fields={"volume"}).calls
    assert first == (("set_music", ({"file": "builtin:ambient", "volume": 0.4, "fade_in": 0.0, "fade_out": 0.0},)),)
    assert later == (("set_music", ({"volume": 0.4},)),)


def test_a_fade_stated_on_one_side_leaves_the_other_as_it_is() -> None:
    assert kind_of(Fade()).apply(Fade(0.0, 2.0), RecordingTimeline(), fields={"fade_out"}).calls == (
        ("set_fades", (None, 2.0)),
    )


@pytest.mark.parametrize("action", EXAMPLES, ids=action_kind)
def test_every_kind_is_worded_as_a_sentence_for_the_cloud_agent(action: Action) -> None:
    words = kind_of(action).phrase(action, Wording())
    assert words and (isinstance(action, Prompt) or words.endswith("."))
