"""The ``reframe`` kind: a change of aspect or resolution asked for in a prompt (recipes set export instead)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from joypix_recipes.job.kinds.kind import Action, Kind, T, Wording


@dataclass(frozen=True)
class Reframe(Action):
    """A change of aspect or resolution asked for in a prompt ("make it square", "720p")."""

    aspect: str | None = None
    resolution: str | None = None


class ReframeKind(Kind[Reframe]):
    """Only prompts ask for it, so recipes have no fields for it."""

    name = "reframe"
    action = Reframe

    def apply(self, action: Reframe, timeline: T, fields: Collection[str] | None = None) -> T:
        return timeline.reframe(action.aspect, action.resolution)

    def phrase(self, action: Reframe, wording: Wording) -> str:
        if action.aspect and action.resolution:
            return f"Reframe the video to {action.aspect} at {action.resolution}."
        if action.aspect:
            return f"Reframe the video to {action.aspect}."
        if action.resolution:
            return f"Export the video at {action.resolution}."
        return "Keep the current frame size."
