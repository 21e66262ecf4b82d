"""The ``subtitles`` kind: timed captions read from a .srt or .vtt file at planning, drawn with one style."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from joypix_recipes.job.kinds.captions import (
    STYLE_KEYS,
    CaptionStyle,
    Position,
    caption_sentence,
    moved_style,
    style_words,
    styled_files,
)
from joypix_recipes.job.kinds.kind import Action, Field, Kind, T, Wording


@dataclass(frozen=True)
class Cue:
    """One timed caption of a subtitles file, in seconds."""

    start: float
    end: float
    content: str


@dataclass(frozen=True)
class Subtitles(Action):
    """Timed captions read from a .srt or .vtt file at planning, drawn with one style."""

    cues: tuple[Cue, ...]
    position: Position = "bottom"
    size: float = 56.0
    style: CaptionStyle = field(default_factory=CaptionStyle)


class SubtitlesKind(Kind[Subtitles]):
    """Written as a file (``subtitles: captions.srt``) or with the text step's styling; each cue is a caption."""

    name = "subtitles"
    action = Subtitles
    definition = "Subtitles"
    fields = (
        Field("file", "cues", attribute="cues"),
        Field("position", "choice"),
        Field("size", "real"),
        Field("style", "style"),
    )
    shorthand = "file"

    def to_body(self, action: Subtitles) -> Any:
        """The cues themselves, not the file they came from: a job carries what it draws."""
        cues = [[cue.start, cue.end, cue.content] for cue in action.cues]
        return {"cues": cues, "position": action.position, "size": action.size, **action.style.stated()}

    def from_body(self, body: Any) -> Subtitles:
        if not isinstance(body, dict) or "cues" not in body:
            raise ValueError("a subtitles action lists its cues")
        unknown = set(body) - {"cues", "position", "size"} - STYLE_KEYS
        if unknown:
            raise ValueError(f"unknown subtitles field(s): {', '.join(sorted(unknown))}")
        cues = tuple(Cue(float(start), float(end), str(words)) for start, end, words in body["cues"])
        position, size = body.get("position", Subtitles.position), body.get("size", Subtitles.size)
        return Subtitles(cues, position, size, CaptionStyle.from_body(body))

    def apply(self, action: Subtitles, timeline: T, fields: Collection[str] | None = None) -> T:
        # At once: one caption at a time copies the captions so far for each cue (minutes for 100k cues).
        timed = [(cue.content, cue.start, cue.end) for cue in action.cues]
        return timeline.add_captions(timed, action.position, action.size, action.style)

    def phrase(self, action: Subtitles, wording: Wording) -> str:
        """One caption sentence per cue, then the shared style once."""
        sentences = [
            caption_sentence(cue.content, action.position, cue.start, cue.end, action.size) for cue in action.cues
        ]
        return " ".join(sentences) + style_words(action.style, "these captions")

    def files(self, action: Subtitles) -> tuple[str, ...]:
        return styled_files(action.style)

    def with_files(self, action: Subtitles, moved: Mapping[str, str]) -> Subtitles:
        return replace(action, style=moved_style(action.style, moved))
