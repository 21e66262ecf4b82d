"""The ``text`` kind: a title or caption over the clip, in a style of its own."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from joypix_recipes.job.kinds.captions import (
    TEXT_SIZE,
    CaptionStyle,
    Position,
    caption_sentence,
    moved_style,
    style_words,
    styled_files,
)
from joypix_recipes.job.kinds.kind import Action, Field, Kind, T, Wording


@dataclass(frozen=True)
class Text(Action):
    """A title or caption; ``end`` None means until the clip ends. ``size`` is in pixels at 1080p."""

    content: str
    position: Position = "bottom"
    start: float = 0.0
    end: float | None = None
    size: float = TEXT_SIZE
    style: CaptionStyle = field(default_factory=CaptionStyle)


class TextKind(Kind[Text]):
    """One caption; its font file, when it names one, travels with the job."""

    name = "text"
    action = Text
    definition = "Text"
    fields = (
        Field("content", "text"),
        Field("position", "choice"),
        Field("start", "number"),
        Field("end", "number"),
        Field("size", "number"),
        Field("style", "style"),
    )

    def check(self, action: Text) -> str | None:
        if action.end is not None and action.end <= action.start:
            return f"text end ({action.end:g}) must be after its start ({action.start:g})"
        return None

    def apply(self, action: Text, timeline: T, fields: Collection[str] | None = None) -> T:
        return timeline.add_caption(
            action.content, action.position, action.start, action.end, action.size, action.style
        )

    def phrase(self, action: Text, wording: Wording) -> str:
        sentence = caption_sentence(action.content, action.position, action.start, action.end, action.size)
        return sentence + style_words(action.style, "it")

    def files(self, action: Text) -> tuple[str, ...]:
        return styled_files(action.style)

    def with_files(self, action: Text, moved: Mapping[str, str]) -> Text:
        return replace(action, style=moved_style(action.style, moved))
