"""How one clip gives way to the next during their overlap, drawn on NV12 buffers.

``weight`` runs from 0 (only the outgoing picture) to 1 (only the incoming one). Moving edges sit on
even pixel positions, so the half-size chroma plane moves with the luma exactly and never smears.
"""

from __future__ import annotations

import cv2
import numpy as np

from joypix_recipes.render.color import nv12_views


def draw_transition(
    kind: str, outgoing: np.ndarray, incoming: np.ndarray, weight: float, out: np.ndarray, black: np.ndarray
) -> None:
    """Write the frame ``weight`` of the way through a ``kind`` transition into ``out`` (may be ``outgoing``)."""
    height = black.shape[0] * 2 // 3
    width = black.shape[1]
    if kind == "dip-to-black":
        # Down to black over the first half, up from black over the second.
        picture, level = (outgoing, 1.0 - 2.0 * weight) if weight < 0.5 else (incoming, 2.0 * weight - 1.0)
        cv2.addWeighted(picture, level, black, 1.0 - level, 0.0, dst=out)
    elif kind.startswith("slide-"):
        _slide(kind, outgoing, incoming, weight, out, width, height)
    elif kind.startswith("wipe-"):
        _wipe(kind, outgoing, incoming, weight, out, width)
    elif kind == "zoom":
        _zoom(outgoing, incoming, weight, out, width, height)
    elif kind == "none":
        np.copyto(out, incoming if weight >= 0.5 else outgoing)
    else:  # a crossfade, also for kinds a newer service may name
        cv2.addWeighted(incoming, weight, outgoing, 1.0 - weight, 0.0, dst=out)


def moving_edge(weight: float, length: int) -> int:
    """How far (even pixels) the incoming picture has come in along a side of ``length`` pixels."""
    return min(length, max(0, 2 * round(weight * length / 2)))


def _slide(
    kind: str, outgoing: np.ndarray, incoming: np.ndarray, weight: float, out: np.ndarray, width: int, height: int
) -> None:
    """The incoming picture pushes the outgoing one off: ``slide-left`` moves both pictures to the left."""
    old, new, target = (nv12_views(buffer, width, height) for buffer in (outgoing, incoming, out))
    if kind in ("slide-left", "slide-right"):
        shift = moving_edge(weight, width)
        # Rows of both planes are ``width`` bytes (chroma as U,V pairs), so one column shift moves both.
        old_rows, new_rows = outgoing.copy(), incoming
        if kind == "slide-left":
            out[:, : width - shift] = old_rows[:, shift:]
            out[:, width - shift :] = new_rows[:, :shift]
        else:
            out[:, shift:] = old_rows[:, : width - shift]
            out[:, :shift] = new_rows[:, width - shift :]
        return
    shift = moving_edge(weight, height)
    for old_plane, new_plane, target_plane, rows in (
        (old.y.copy(), new.y, target.y, shift),
        (old.uv.copy(), new.uv, target.uv, shift // 2),
    ):
        size = old_plane.shape[0]
        if kind == "slide-up":
            target_plane[: size - rows] = old_plane[rows:]
            target_plane[size - rows :] = new_plane[:rows]
        else:
            target_plane[rows:] = old_plane[: size - rows]
            target_plane[:rows] = new_plane[size - rows :]


def _wipe(kind: str, outgoing: np.ndarray, incoming: np.ndarray, weight: float, out: np.ndarray, width: int) -> None:
    """A hard edge sweeps across; neither picture moves. ``wipe-left`` sweeps from right to left."""
    edge = moving_edge(weight, width)
    if out is not outgoing:
        np.copyto(out, outgoing)
    if kind == "wipe-left":
        out[:, width - edge :] = incoming[:, width - edge :]
    else:
        out[:, :edge] = incoming[:, :edge]


def _zoom(outgoing: np.ndarray, incoming: np.ndarray, weight: float, out: np.ndarray, width: int, height: int) -> None:
    """The incoming picture grows from the centre over the outgoing one."""
    if out is not outgoing:
        np.copyto(out, outgoing)
    inner_w, inner_h = moving_edge(weight, width), moving_edge(weight, height)
    if inner_w < 2 or inner_h < 2:
        return
    new, target = nv12_views(incoming, width, height), nv12_views(out, width, height)
    left, top = (width - inner_w) // 2 & ~1, (height - inner_h) // 2 & ~1
    target.y[top : top + inner_h, left : left + inner_w] = cv2.resize(
        new.y, (inner_w, inner_h), interpolation=cv2.INTER_AREA
    )
    target.uv[top // 2 : (top + inner_h) // 2, left // 2 : (left + inner_w) // 2] = cv2.resize(
        new.uv, (inner_w // 2, inner_h // 2), interpolation=cv2.INTER_AREA
    )
