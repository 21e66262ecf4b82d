"""The ``transition`` kind: how each image of a group gives way to the next."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal, get_args

from joypix_recipes.job.kinds.kind import Action, Field, Kind, T, Wording
from joypix_recipes.job.kinds.wording import number

TransitionStyle = Literal[
    "crossfade",
    "dip-to-black",
    "slide-left",
    "slide-right",
    "slide-up",
    "slide-down",
    "wipe-left",
    "wipe-right",
    "zoom",
    "none",
]
TRANSITIONS: tuple[str, ...] = get_args(TransitionStyle)


@dataclass(frozen=True)
class Transition(Action):
    """How one image of a group gives way to the next; ``none`` is a hard cut (its duration is ignored)."""

    kind: TransitionStyle = "crossfade"
    duration: float = 0.5


_NOUNS = {
    "crossfade": "crossfade",
    "dip-to-black": "dip to black",
    "slide-left": "slide left",
    "slide-right": "slide right",
    "slide-up": "slide up",
    "slide-down": "slide down",
    "wipe-left": "wipe left",
    "wipe-right": "wipe right",
    "zoom": "zoom",
}


class TransitionKind(Kind[Transition]):
    """Each transition overlaps the two images it joins; no effect on a single image."""

    name = "transition"
    action = Transition
    definition = "Transition"
    fields = (Field("kind", "choice"), Field("duration", "number"))

    def apply(self, action: Transition, timeline: T, fields: Collection[str] | None = None) -> T:
        return timeline.join_images(action.kind, action.duration)

    def phrase(self, action: Transition, wording: Wording) -> str:
        if action.kind == "none" or not action.duration:
            return "Cut between the images with no transitions."
        return f"Join the images with {number(action.duration)}-second {_NOUNS[action.kind]} transitions."
