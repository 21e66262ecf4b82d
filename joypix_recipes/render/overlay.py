"""Image overlays (a logo, a watermark): each file decoded and colour-managed once per render, scaled once,
and blended into every frame it shows on with premultiplied alpha.

Premultiplying before scaling keeps transparent pixels from bleeding their (meaningless) colour into
the edges, and lets the 4:2:0 chroma be averaged exactly. Named places sit inside the platform safe area
that text uses, the margin measured from its edges; coordinates place the image anywhere on the frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from joypix_recipes.errors import ImageError
from joypix_recipes.render.color import nv12_views, premultiplied_yuv
from joypix_recipes.render.image import load_rgba
from joypix_recipes.render.text import safe_area
from joypix_recipes.timeline.draft import Draft, ImageClip


@dataclass
class ImageOverlay:
    """One image layer, ready to blend: premultiplied planes, alpha at full and half size, place and timing."""

    left: int
    top: int
    luma: np.ndarray
    chroma: np.ndarray
    alpha: np.ndarray
    alpha_half: np.ndarray
    start_ms: float
    end_ms: float
    fade_in_ms: float
    fade_out_ms: float
    opacity: float
    frame_size: tuple[int, int]
    _weights: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    def level(self, time_ms: float) -> float:
        """How visible the image is at ``time_ms``: its opacity inside its window, ramped by its fades, else 0."""
        if time_ms < self.start_ms or time_ms >= self.end_ms:
            return 0.0
        ramp = 1.0
        if self.fade_in_ms > 0:
            ramp = min(ramp, (time_ms - self.start_ms) / self.fade_in_ms)
        if self.fade_out_ms > 0:
            ramp = min(ramp, (self.end_ms - time_ms) / self.fade_out_ms)
        return self.opacity * min(max(ramp, 0.0), 1.0)

    def apply(self, buffer: np.ndarray, time_ms: float) -> None:
        """Blend into the NV12 frame buffer of the frame at ``time_ms``, in place."""
        level = round(self.level(time_ms), 4)
        if level <= 0.0:
            return
        luma, keep, chroma, keep_half = self._weighted(level)
        views = nv12_views(buffer, *self.frame_size)
        height, width = self.luma.shape
        region = views.y[self.top : self.top + height, self.left : self.left + width]
        region[...] = np.clip(region * keep + luma + 0.5, 0, 255).astype(np.uint8)
        half = views.uv[self.top // 2 : self.top // 2 + height // 2, self.left // 2 : self.left // 2 + width // 2]
        half[...] = np.clip(half * keep_half + chroma + 0.5, 0, 255).astype(np.uint8)

    def _weighted(self, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The planes scaled by ``level`` and what is kept of the frame beneath, made once per level."""
        if level not in self._weights:
            if len(self._weights) > 64:  # a fade passes through many levels; none is needed twice
                self._weights.clear()
            scale = np.float32(level)
            self._weights[level] = (
                self.luma * scale,
                1.0 - self.alpha * scale,
                self.chroma * scale,
                (1.0 - self.alpha_half * scale)[:, :, None],
            )
        return self._weights[level]


def build_image_overlays(draft: Draft, media: Mapping[str, Path]) -> list[ImageOverlay]:
    """Every image overlay of the draft, each file decoded once however many overlays use it."""
    decoded: dict[Path, np.ndarray] = {}
    overlays = []
    for clip in draft.overlays:
        path = _resolve(clip.src, media)
        if path not in decoded:
            decoded[path] = load_rgba(path)
        if draft.overlay_end_ms(clip) > clip.start_ms:
            overlays.append(_prepared(draft, clip, decoded[path]))
    return overlays


def overlay_box(draft: Draft, clip: ImageClip, image_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where an overlay lands on the frame: (left, top, width, height) in pixels, all even, inside the frame."""
    frame_w, frame_h = draft.width, draft.height
    width = min(_even(clip.width * frame_w), frame_w)
    height = min(_even(width * image_size[1] / image_size[0]), frame_h)
    width, height = max(width, 2), max(height, 2)
    if clip.x is not None and clip.y is not None:
        left, top = clip.x * frame_w, clip.y * frame_h
    else:
        area = safe_area(frame_w, frame_h)
        margin = clip.margin * frame_w
        vertical, _, horizontal = clip.position.partition("-")
        if vertical in ("left", "right"):  # a side alone: the middle of that side
            vertical, horizontal = "center", vertical
        horizontal = horizontal or "center"
        left = {
            "left": area.left + margin,
            "right": area.right - margin - width,
        }.get(horizontal, (frame_w - width) / 2)
        top = {
            "top": area.top + margin,
            "bottom": area.bottom - margin - height,
        }.get(vertical, (frame_h - height) / 2)
    left = min(max(_even_down(left), 0), frame_w - width)
    top = min(max(_even_down(top), 0), frame_h - height)
    return left, top, width, height


def _prepared(draft: Draft, clip: ImageClip, rgba: np.ndarray) -> ImageOverlay:
    image_h, image_w = rgba.shape[:2]
    left, top, width, height = overlay_box(draft, clip, (image_w, image_h))
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    premultiplied = np.concatenate([rgba[:, :, :3].astype(np.float32) * alpha, alpha], axis=2)
    shrinking = width <= image_w and height <= image_h
    method = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    scaled = cv2.resize(premultiplied, (width, height), interpolation=method)
    scaled[:, :, 3] = np.clip(scaled[:, :, 3], 0.0, 1.0)
    scaled[:, :, :3] = np.clip(scaled[:, :, :3], 0.0, scaled[:, :, 3:4] * 255.0)  # cubic overshoot
    yuv = premultiplied_yuv(scaled)
    half = cv2.resize(
        np.concatenate([yuv[:, :, 1:], scaled[:, :, 3:4]], axis=2),
        (width // 2, height // 2),
        interpolation=cv2.INTER_AREA,
    )
    return ImageOverlay(
        left=left,
        top=top,
        luma=np.ascontiguousarray(yuv[:, :, 0]),
        chroma=np.ascontiguousarray(half[:, :, :2]),
        alpha=np.ascontiguousarray(scaled[:, :, 3]),
        alpha_half=np.ascontiguousarray(half[:, :, 2]),
        start_ms=float(clip.start_ms),
        end_ms=float(draft.overlay_end_ms(clip)),
        fade_in_ms=float(clip.fade_in_ms),
        fade_out_ms=float(clip.fade_out_ms),
        opacity=clip.opacity,
        frame_size=(draft.width, draft.height),
    )


def _resolve(src: str, media: Mapping[str, Path]) -> Path:
    if src in media:
        return Path(media[src])
    candidate = Path(src)
    if candidate.is_absolute() and candidate.exists():
        return candidate
    raise ImageError(f"{candidate.name or src}: the overlay image was not found ({src})")


def _even(value: float) -> int:
    return 2 * max(1, round(value / 2))


def _even_down(value: float) -> int:
    return 2 * int(math.floor(value / 2))
