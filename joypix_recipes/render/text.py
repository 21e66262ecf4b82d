"""Titles and captions: wrapped, outlined text drawn once with Pillow, blended into frames with fades.

Text stays inside the platform safe areas: on 9:16 the top 14% and bottom 20% are covered by app
chrome (account names, captions, buttons), so nothing is placed there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from joypix_recipes.draft import Draft, TextClip
from joypix_recipes.errors import RenderError
from joypix_recipes.render.color import nv12_views, rgb_to_planes

MIN_FONT_PX = 12


@dataclass(frozen=True)
class SafeArea:
    """The rectangle (in pixels) text may occupy."""

    left: int
    top: int
    right: int
    bottom: int


def safe_area(width: int, height: int) -> SafeArea:
    """Where text may go: clear of the top 14% and bottom 20% on tall frames, small margins elsewhere."""
    tall = height >= width * 1.5
    top, bottom = (0.14, 0.20) if tall else (0.08, 0.10)
    side = 0.06
    return SafeArea(
        left=round(width * side),
        top=round(height * top),
        right=round(width * (1 - side)),
        bottom=round(height * (1 - bottom)),
    )


@dataclass
class TextOverlay:
    """One text clip, pre-rendered as Y and UV colour planes plus blend weights at an even-aligned spot."""

    left: int
    top: int
    y: np.ndarray
    uv: np.ndarray
    alpha: np.ndarray
    alpha_half: np.ndarray
    start_ms: float
    end_ms: float
    fade_ms: float
    frame_size: tuple[int, int]

    def opacity(self, time_ms: float) -> float:
        """How visible the text is at ``time_ms`` (0 outside its span, ramps over ``fade_ms``)."""
        if time_ms < self.start_ms or time_ms >= self.end_ms:
            return 0.0
        if self.fade_ms <= 0:
            return 1.0
        rise = (time_ms - self.start_ms) / self.fade_ms
        fall = (self.end_ms - time_ms) / self.fade_ms
        return min(1.0, rise, fall)

    def apply(self, buffer: np.ndarray, time_ms: float) -> None:
        """Blend the text into an NV12 frame buffer in place."""
        level = self.opacity(time_ms)
        if level <= 0.0:
            return
        views = nv12_views(buffer, *self.frame_size)
        height, width = self.y.shape
        half_top, half_left = self.top // 2, self.left // 2
        _blend(views.y[self.top : self.top + height, self.left : self.left + width], self.y, self.alpha, level)
        region = views.uv[half_top : half_top + height // 2, half_left : half_left + width // 2]
        _blend(region, self.uv, self.alpha_half, level)


def _blend(region: np.ndarray, colour: np.ndarray, alpha: np.ndarray, level: float) -> None:
    weight = alpha if level >= 1.0 else alpha * np.float32(level)
    region[...] = cv2.blendLinear(colour, region, weight, 1.0 - weight)


def build_overlays(draft: Draft) -> list[TextOverlay]:
    """Render every text clip of the draft once."""
    return [_build(draft, clip) for clip in draft.text if clip.text.strip()]


def _build(draft: Draft, clip: TextClip) -> TextOverlay:
    width, height = draft.width, draft.height
    area = safe_area(width, height)
    font, lines = _fit_text(clip.text, clip.size * min(width, height) / 1080, area)
    rgba = _draw(lines, font, area.right - area.left)
    box_h, box_w = rgba.shape[:2]
    left = _even_down(area.left + (area.right - area.left - box_w) / 2)
    if clip.position == "top":
        top = area.top
    elif clip.position == "center":
        top = (height - box_h) / 2
    else:
        top = area.bottom - box_h
    top_px = _even_down(min(max(top, 0), height - box_h))
    planes = rgb_to_planes(np.ascontiguousarray(rgba[:, :, :3]))
    alpha = rgba[:, :, 3].astype(np.float32) / 255.0
    alpha_half = cv2.resize(alpha, (box_w // 2, box_h // 2), interpolation=cv2.INTER_AREA)
    return TextOverlay(
        left=left,
        top=top_px,
        y=planes.y,
        uv=planes.uv,
        alpha=alpha,
        alpha_half=alpha_half,
        start_ms=float(clip.start_ms),
        end_ms=float(draft.text_end_ms(clip)),
        fade_ms=float(clip.fade_ms),
        frame_size=(width, height),
    )


def _fit_text(text: str, size: float, area: SafeArea) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font (up to ``size``) at which the wrapped text fits the safe area."""
    max_width = area.right - area.left
    max_height = (area.bottom - area.top) // 2  # leave room for the picture
    pixels = max(int(round(size)), MIN_FONT_PX)
    while True:
        font = _font(pixels)
        lines = _wrap(text, font, max_width * 0.94)
        fits_width = all(font.getlength(line) <= max_width * 0.94 for line in lines)
        block = len(lines) * _line_height(font)
        if (fits_width and block <= max_height) or pixels <= MIN_FONT_PX:
            return font, lines
        pixels = max(MIN_FONT_PX, int(pixels * 0.9))


def _font(pixels: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=pixels)
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow without FreeType has only a tiny bitmap font
        raise RenderError("text needs Pillow with FreeType support; reinstall Pillow from PyPI")
    return font


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [text]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if current and font.getlength(candidate) > max_width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return [line for line in lines if line] or [text.strip()]


def _line_height(font: ImageFont.FreeTypeFont) -> int:
    return math.ceil(font.size * 1.25)


def _draw(lines: list[str], font: ImageFont.FreeTypeFont, width: int) -> np.ndarray:
    """White text with a dark outline and soft shadow on a transparent RGBA box (even sides)."""
    stroke = max(1, round(font.size / 16))
    pad = stroke * 2 + round(font.size * 0.15)
    line_height = _line_height(font)
    box_w = _even_up(width)
    box_h = _even_up(len(lines) * line_height + 2 * pad)
    text = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    shadow = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
    for image, offset, fill in ((shadow, stroke, (0, 0, 0, 150)), (text, 0, (255, 255, 255, 255))):
        draw = ImageDraw.Draw(image)
        for index, line in enumerate(lines):
            position = (box_w / 2 + offset, pad + index * line_height + offset)
            draw.text(
                position, line, font=font, fill=fill, anchor="ma", stroke_width=stroke, stroke_fill=(0, 0, 0, fill[3])
            )
    shadow = shadow.filter(ImageFilter.GaussianBlur(stroke * 1.5))
    return np.asarray(Image.alpha_composite(shadow, text))


def _even_up(value: float) -> int:
    return 2 * math.ceil(value / 2)


def _even_down(value: float) -> int:
    return 2 * int(math.floor(value / 2))
