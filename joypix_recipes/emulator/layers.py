"""How the fake agent reads a request for an image layer ("Overlay the image "logo.png" in the top-right
corner, ..."): the uploaded image it names leaves the video track and is drawn over the clip instead.

Read with its own pattern, not the client's wording code, so a change in what the client says shows up as
a request the emulator no longer understands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from joypix_recipes.emulator.state import StoredMedia
from joypix_recipes.job.actions import Overlay
from joypix_recipes.timeline.draft import Draft

_PLACES = {
    "the top-left corner": "top-left",
    "the top centre": "top",
    "the top-right corner": "top-right",
    "the middle of the left side": "left",
    "the centre": "center",
    "the middle of the right side": "right",
    "the bottom-left corner": "bottom-left",
    "the bottom centre": "bottom",
    "the bottom-right corner": "bottom-right",
}
_NUMBER = r"\d+(?:\.\d+)?"
_REQUEST = re.compile(
    r"Overlay the image [\"“「『](?P<name>.+?)[\"”」』] "
    rf"(?:in (?P<place>the [a-z -]+?), (?P<margin>{_NUMBER})% of the width from the edges"
    rf"|with its top-left corner at (?P<x>{_NUMBER})% across and (?P<y>{_NUMBER})% down), "
    rf"(?P<width>{_NUMBER})% of the frame width, at (?P<opacity>{_NUMBER})% opacity, "
    rf"from (?P<start>{_NUMBER})s to (?:(?P<end>{_NUMBER})s|the end)"
    rf"(?:, with (?:a (?P<fade_in>{_NUMBER})-second fade-in)?(?: and )?(?:a (?P<fade_out>{_NUMBER})-second fade-out)?)?\.",
)


def take_layers(text: str, uploads: Sequence[StoredMedia]) -> tuple[str, list[Overlay]]:
    """The prompt without its layer requests, and each request as an overlay of the uploaded image it names.

    A request naming no uploaded image, or a place the agent does not know, is left in the text, so the
    turn says it did not understand it.
    """
    layers: list[Overlay] = []

    def taken(match: re.Match[str]) -> str:
        media = next((m for m in uploads if match["name"] in (m.name, m.media_id)), None)
        place = _PLACES.get(match["place"] or "the top-right corner")
        if media is None or place is None:
            return match.group(0)
        layers.append(
            Overlay(
                image=media.media_id,
                position=place,  # type: ignore[arg-type]
                x=_share(match["x"]),
                y=_share(match["y"]),
                width=float(match["width"]) / 100,
                margin=float(match["margin"] or 2) / 100,
                opacity=float(match["opacity"]) / 100,
                start=float(match["start"]),
                end=None if match["end"] is None else float(match["end"]),
                fade_in=float(match["fade_in"] or 0),
                fade_out=float(match["fade_out"] or 0),
            )
        )
        return ""

    return _REQUEST.sub(taken, text).strip(), layers


def off_the_video_track(draft: Draft, layers: Sequence[Overlay]) -> Draft:
    """The draft without the video clips made of images now used as layers (each upload became a clip)."""
    used = {layer.image for layer in layers}
    kept = tuple(clip for clip in draft.video if clip.src not in used)
    return draft.with_changes(video=kept) if len(kept) != len(draft.video) else draft


def _share(percent: str | None) -> float | None:
    return None if percent is None else float(percent) / 100


def labelled_layers(draft: Draft, uploads: Sequence[StoredMedia]) -> Draft:
    """Name each image layer by its uploaded file's name rather than its media id, as the service shows it."""
    names = {media.media_id: media.name for media in uploads}
    labelled = tuple(replace(clip, label=names[clip.src]) if clip.src in names else clip for clip in draft.overlays)
    return draft.with_changes(overlays=labelled) if labelled != draft.overlays else draft
