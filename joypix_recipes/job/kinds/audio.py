"""The ``audio`` kind: one background track, a file beside the recipe or music the renderer makes itself."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

from joypix_recipes.job.kinds.kind import Action, Field, Kind, T, Wording, stated
from joypix_recipes.job.kinds.wording import number, quoted

BUILTIN_MUSIC = "builtin:ambient"
"""Audio source the local renderer synthesizes itself, for prompts that ask for music without a file."""


@dataclass(frozen=True)
class Audio(Action):
    """A background track (a file path, absolute after planning, or ``BUILTIN_MUSIC``)."""

    file: str
    volume: float = 1.0
    fade_in: float = 0.0
    fade_out: float = 0.0
    normalize: bool = True
    """Bring the soundtrack to -14 LUFS with true peaks at or below -1 dBTP (render/loudness.py)."""


class AudioKind(Kind[Audio]):
    """One track: a new one replaces the old; a prompt may change only its volume or fades."""

    name = "audio"
    action = Audio
    definition = "Audio"
    fields = (
        Field("file", "media"),
        Field("volume", "number", percent=True),
        Field("fade_in", "number"),
        Field("fade_out", "number"),
        Field("normalize", "flag"),
    )

    def to_body(self, action: Audio) -> Any:
        body = super().to_body(action)
        if action.normalize:  # the default stays unwritten, so jobs planned before it keep their identity
            body.pop("normalize")
        return body

    def apply(self, action: Audio, timeline: T, fields: Collection[str] | None = None) -> T:
        changes = stated(action, fields)
        if "file" in changes or not timeline.has_music:
            # A new track starts from the defaults, whatever the prompt left unsaid.
            changes = {**stated(Audio(file=str(changes.get("file", BUILTIN_MUSIC))), None), **changes}
        # Loudness is the renderer's business (it reads it from the job), not the timeline's.
        changes.pop("normalize", None)
        return timeline.set_music(changes)

    def phrase(self, action: Audio, wording: Wording) -> str:
        if action.file == BUILTIN_MUSIC and wording.audio_name is None:
            music = "Add background music"
        else:
            music = f"Add background music {quoted(wording.audio_name or PurePath(action.file).name)}"
        fades = [
            f"a {number(seconds)}-second fade-{side}"
            for side, seconds in (("in", action.fade_in), ("out", action.fade_out))
            if seconds
        ]
        ending = f" with {' and '.join(fades)}" if fades else ""
        return f"{music} at {number(action.volume * 100)}% volume{ending}."

    def files(self, action: Audio) -> tuple[str, ...]:
        return (action.file,) if action.file != BUILTIN_MUSIC and Path(action.file).is_absolute() else ()

    def with_files(self, action: Audio, moved: Mapping[str, str]) -> Audio:
        return replace(action, file=moved[action.file]) if action.file in moved else action


def normalizes_loudness(actions: Iterable[Action]) -> bool:
    """Whether a job's soundtrack is brought to the platforms' loudness: yes unless its last track says no."""
    tracks = [action for action in actions if isinstance(action, Audio)]
    return tracks[-1].normalize if tracks else True
