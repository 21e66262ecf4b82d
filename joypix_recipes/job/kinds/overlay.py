"""The ``overlay`` kind: a still image (a logo, a watermark) over the clip, placed by name or coordinates,
sized as a share of the frame width, faded in and out over its own window. Several may be stacked."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Literal, get_args

from joypix_recipes.job.kinds.kind import Action, Field, Kind, T, Wording
from joypix_recipes.job.kinds.wording import number, quoted

Anchor = Literal["top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right"]
ANCHORS: tuple[str, ...] = get_args(Anchor)
"""Where an overlay may be named to go: the text step's ``top``, ``center`` and ``bottom``, plus the sides and corners."""

_ANCHOR_WORDS = {
    "top-left": "the top-left corner",
    "top": "the top centre",
    "top-right": "the top-right corner",
    "left": "the middle of the left side",
    "center": "the centre",
    "right": "the middle of the right side",
    "bottom-left": "the bottom-left corner",
    "bottom": "the bottom centre",
    "bottom-right": "the bottom-right corner",
}


@dataclass(frozen=True)
class Overlay(Action):
    """An image over the clip: ``image`` (absolute after planning), where it goes, and when.

    ``width`` and ``margin`` are shares of the frame width; the margin is kept inside the platform safe
    area. ``x``/``y``, when both are given, put the image's top-left corner at that share of the frame
    width and height instead of ``position``. ``end`` None means until the clip ends.
    """

    image: str
    position: Anchor = "top-right"
    x: float | None = None
    y: float | None = None
    width: float = 0.2
    margin: float = 0.02
    opacity: float = 1.0
    start: float = 0.0
    end: float | None = None
    fade_in: float = 0.0
    fade_out: float = 0.0


class OverlayKind(Kind[Overlay]):
    """One image layer; its file travels with the job, and its bytes are part of the job's identity."""

    name = "overlay"
    action = Overlay
    definition = "Overlay"
    fields = (
        Field("image", "media"),
        Field("position", "choice"),
        Field("x", "number", percent=True),
        Field("y", "number", percent=True),
        Field("width", "number", percent=True),
        Field("margin", "number", percent=True),
        Field("opacity", "number", percent=True),
        Field("start", "number"),
        Field("end", "number"),
        Field("fade_in", "number"),
        Field("fade_out", "number"),
    )

    def check(self, action: Overlay) -> str | None:
        if action.end is not None and action.end <= action.start:
            return f"overlay end ({action.end:g}) must be after its start ({action.start:g})"
        if (action.x is None) != (action.y is None):
            return "an overlay placed by coordinates needs both x and y"
        if action.end is not None and action.fade_in + action.fade_out > action.end - action.start + 1e-9:
            return "an overlay's fades are longer than the time it shows; shorten them"
        return None

    def apply(self, action: Overlay, timeline: T, fields: Collection[str] | None = None) -> T:
        return timeline.add_overlay(action)

    def phrase(self, action: Overlay, wording: Wording) -> str:
        name = quoted(wording.overlay_name or PurePath(action.image).name)
        if action.x is not None and action.y is not None:
            place = f"with its top-left corner at {number(action.x * 100)}% across and {number(action.y * 100)}% down"
        else:
            place = f"in {_ANCHOR_WORDS[action.position]}, {number(action.margin * 100)}% of the width from the edges"
        span = (
            f"from {number(action.start)}s to {number(action.end)}s"
            if action.end is not None
            else (f"from {number(action.start)}s to the end")
        )
        fades = [
            f"a {number(seconds)}-second fade-{side}"
            for side, seconds in (("in", action.fade_in), ("out", action.fade_out))
            if seconds
        ]
        ending = f", with {' and '.join(fades)}" if fades else ""
        return (
            f"Overlay the image {name} {place}, {number(action.width * 100)}% of the frame width,"
            f" at {number(action.opacity * 100)}% opacity, {span}{ending}."
        )

    def files(self, action: Overlay) -> tuple[str, ...]:
        return (action.image,) if Path(action.image).is_absolute() else ()

    def with_files(self, action: Overlay, moved: Mapping[str, str]) -> Overlay:
        return replace(action, image=moved[action.image]) if action.image in moved else action
