"""The ``animate`` kind: the camera move over every image of the clip."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from joypix_recipes.job.kinds.kind import Action, Field, Kind, T, Wording, stated
from joypix_recipes.job.kinds.wording import number

Motion = Literal["zoom-in", "zoom-out", "pan-left", "pan-right", "pan-up", "pan-down", "ken-burns", "none"]
Easing = Literal["linear", "ease-in-out"]
Fit = Literal["cover", "blur"]

MOTIONS: tuple[str, ...] = get_args(Motion)
EASINGS: tuple[str, ...] = get_args(Easing)
FITS: tuple[str, ...] = get_args(Fit)


@dataclass(frozen=True)
class Animate(Action):
    """Camera motion over the current image for ``duration`` seconds."""

    motion: Motion = "zoom-in"
    duration: float = 5.0
    zoom: float = 1.25
    easing: Easing = "ease-in-out"
    fit: Fit = "cover"


_MOTION_NOUNS = {
    "zoom-in": "zoom-in",
    "zoom-out": "zoom-out",
    "pan-left": "pan to the left",
    "pan-right": "pan to the right",
    "pan-up": "pan up",
    "pan-down": "pan down",
    "ken-burns": "Ken Burns move",
}


class AnimateKind(Kind[Animate]):
    """Every image of a group gets the same move; a prompt may change only some of its fields."""

    name = "animate"
    action = Animate
    definition = "Animate"
    fields = (
        Field("motion", "choice"),
        Field("duration", "number"),
        Field("zoom", "number"),
        Field("easing", "choice"),
        Field("fit", "choice"),
    )

    def apply(self, action: Animate, timeline: T, fields: Collection[str] | None = None) -> T:
        return timeline.move_camera(stated(action, fields))

    def phrase(self, action: Animate, wording: Wording) -> str:
        subject = "each image" if wording.images > 1 else "this image"
        smooth = "smooth " if action.easing == "ease-in-out" else ""
        clip = f"Animate {subject} into a {smooth}{number(action.duration)}-second video clip"
        if action.motion == "none":
            plain = action.zoom == Animate.zoom
            camera = "no camera motion" if plain else f"no camera motion at {number(action.zoom)}x zoom"
        else:
            camera = f"a {_strength(action.zoom, wording.zoom_words or {})} {_MOTION_NOUNS[action.motion]}"
        fit = " over a blurred background" if action.fit == "blur" else ""
        linear = " and linear easing" if action.easing == "linear" else ""
        return f"{clip} with {camera}{fit}{linear}."


def _strength(zoom: float, words: Mapping[str, float]) -> str:
    """The interpreter's word for a zoom ("gentle"), so the agent reads back the same value."""
    for word, value in words.items():
        if zoom == value:
            return word
    return f"{number(zoom)}x"
