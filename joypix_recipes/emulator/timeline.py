"""The fake agent's timeline on the wire: its drafts in a session's key style, and a render's output settings.

The agent edits drafts with the local engine (``draft``, ``edit``), which is the emulator's stand-in
for the service's editor and GPUs; what it serves is written here, in the session's style: the
project's own segment keys, or keys of its own that no client could have guessed. Only ``t``, ``tt``,
``sg``, ``d`` and ``m`` are the same in every style, as the protocol documents.
"""

from __future__ import annotations

from typing import Any

from joypix_recipes.emulator.variation import Variation
from joypix_recipes.timeline.draft import Draft

_OWN_SEGMENT_KEYS = {
    "src": "asset",
    "mo": "motion",
    "z": "scale",
    "ea": "curve",
    "fit": "fill",
    "fc": "anchor",
    "xf": "blend",
    "tk": "blendStyle",
    "n": "title",
    "v": "gain",
    "fi": "inMs",
    "fo": "outMs",
    "txt": "caption",
    "pos": "align",
    "sz": "px",
    "fd": "fadeMs",
    "toEnd": "open",
}
_OWN_DRAFT_KEYS = {"w": "width", "h": "height", "fps": "rate", "seed": "rng", "fi": "inMs", "fo": "outMs"}


def wire_draft(draft: Draft, variation: Variation) -> dict[str, Any]:
    """The draft as this session serves it (the same draft always serves the same JSON)."""
    data = draft.to_json()
    if variation.segment_keys == "own":
        data["m"] = {_OWN_DRAFT_KEYS.get(k, k): v for k, v in data["m"].items()}
        for track in data["t"]:
            for segment in track["sg"]:
                segment["m"] = {_OWN_SEGMENT_KEYS.get(k, k): v for k, v in segment["m"].items()}
    if variation.extra_keys:
        data["schema"] = "emu-draft/2"
        for number, track in enumerate(data["t"]):
            track["id"] = f"track_{number}"
            for index, segment in enumerate(track["sg"]):
                segment["id"] = f"seg_{number}_{index}"
                segment["locked"] = False
    return data


def apply_output(draft: Draft, output: Any) -> Draft:
    """The draft to render with what a render's ``output`` settings ask for (frame size, fps), where valid."""
    if not isinstance(output, dict):
        return draft
    width, height, fps = output.get("width"), output.get("height"), output.get("fps")
    changes: dict[str, int | float] = {}
    if isinstance(width, int) and isinstance(height, int) and _positive_even(width) and _positive_even(height):
        changes.update(width=width, height=height)
    if isinstance(fps, (int, float)) and not isinstance(fps, bool) and 1 <= fps <= 120:
        changes["fps"] = fps  # 29.97002997 and the like are NTSC rates, which the draft keeps exactly
    return draft.with_changes(**changes) if changes else draft


def _positive_even(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 2 <= value <= 4096 and value % 2 == 0
