"""Titles and captions: wrapped, styled text (font, colours, outline, plate, alignment) drawn once with
Pillow, blended into frames with an entrance (fade, slide-up, pop or none).

Text stays inside the platform safe areas: on 9:16 the top 14% and bottom 20% are covered by app
chrome (account names, captions, buttons), so nothing is placed there.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from joypix_recipes.errors import RenderError
from joypix_recipes.job.actions import CaptionStyle, parse_color
from joypix_recipes.printable import printable
from joypix_recipes.render.color import nv12_views, rgb_to_planes
from joypix_recipes.render.fonts import load_font
from joypix_recipes.timeline.draft import Draft, TextClip

MIN_FONT_PX = 12
"""Text shrinks to fit, but not below this many pixels of the exported frame: smaller is not legible."""

MAX_TEXT_CHARS = 1000
"""One title or caption holds at most this many characters; more could never be read on a frame, and
measuring it at every size would make an absurd text (thousands of stacked accents) cost minutes."""


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


class Overlay(Protocol):
    """Something drawn over the frames: one text clip, or a whole track of them."""

    def apply(self, buffer: np.ndarray, time_ms: float) -> None:
        """Blend into the NV12 frame buffer of the frame at ``time_ms``, in place."""
        ...


@dataclass(frozen=True)
class TextPlanes:
    """A pre-rendered caption as Y and UV colour planes plus blend weights at full and half size."""

    y: np.ndarray
    uv: np.ndarray
    alpha: np.ndarray
    alpha_half: np.ndarray

    @classmethod
    def from_rgba(cls, rgba: np.ndarray) -> TextPlanes:
        """Planes of an RGBA picture with even sides."""
        height, width = rgba.shape[:2]
        planes = rgb_to_planes(np.ascontiguousarray(rgba[:, :, :3]))
        alpha = rgba[:, :, 3].astype(np.float32) / 255.0
        alpha_half = cv2.resize(alpha, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        return cls(planes.y, planes.uv, alpha, alpha_half)


POP_START_SCALE = 0.6
"""A popping caption grows from this fraction of its size to full size over its fade time."""


@dataclass
class TextOverlay:
    """One text clip, pre-rendered once, blended into frames at an even-aligned spot with its entrance."""

    left: int
    top: int
    planes: TextPlanes
    rgba: np.ndarray
    start_ms: float
    end_ms: float
    fade_ms: float
    frame_size: tuple[int, int]
    animate: str = "fade"
    slide_px: int = 0

    def opacity(self, time_ms: float) -> float:
        """How visible the text is at ``time_ms`` (0 outside its span, ramps over ``fade_ms``)."""
        if time_ms < self.start_ms or time_ms >= self.end_ms:
            return 0.0
        if self.fade_ms <= 0 or self.animate == "none":
            return 1.0
        return min(1.0, self._rise(time_ms), (self.end_ms - time_ms) / self.fade_ms)

    def _rise(self, time_ms: float) -> float:
        return 1.0 if self.fade_ms <= 0 else min(1.0, (time_ms - self.start_ms) / self.fade_ms)

    def apply(self, buffer: np.ndarray, time_ms: float) -> None:
        """Blend the text into an NV12 frame buffer in place."""
        level = self.opacity(time_ms)
        if level <= 0.0:
            return
        rise = self._rise(time_ms)
        planes, left, top = self.planes, self.left, self.top
        if self.animate == "slide-up" and rise < 1.0:
            eased = 1.0 - (1.0 - rise) ** 2
            top = min(top + _even_down((1.0 - eased) * self.slide_px), self.frame_size[1] - planes.y.shape[0])
        elif self.animate == "pop" and rise < 1.0:
            planes, left, top = self._scaled(POP_START_SCALE + (1.0 - POP_START_SCALE) * rise)
        _blend_planes(buffer, self.frame_size, planes, left, top, level)

    def _scaled(self, scale: float) -> tuple[TextPlanes, int, int]:
        height, width = self.rgba.shape[:2]
        new_w, new_h = max(2, _even_down(width * scale)), max(2, _even_down(height * scale))
        rgba = cv2.resize(self.rgba, (new_w, new_h), interpolation=cv2.INTER_AREA)
        left = self.left + _even_down((width - new_w) / 2)
        top = self.top + _even_down((height - new_h) / 2)
        return TextPlanes.from_rgba(rgba), left, top


def _blend_planes(
    buffer: np.ndarray, frame_size: tuple[int, int], planes: TextPlanes, left: int, top: int, level: float
) -> None:
    views = nv12_views(buffer, *frame_size)
    height, width = planes.y.shape
    _blend(views.y[top : top + height, left : left + width], planes.y, planes.alpha, level)
    region = views.uv[top // 2 : top // 2 + height // 2, left // 2 : left // 2 + width // 2]
    _blend(region, planes.uv, planes.alpha_half, level)


def _blend(region: np.ndarray, colour: np.ndarray, alpha: np.ndarray, level: float) -> None:
    weight = alpha if level >= 1.0 else alpha * np.float32(level)
    region[...] = cv2.blendLinear(colour, region, weight, 1.0 - weight)


def build_overlays(draft: Draft) -> list[TextOverlay]:
    """Render every text clip of the draft at once (a render uses `TextTrack`, which renders only what shows)."""
    return [_build(draft, clip) for clip in draft.text if clip.text.strip()]


class TextTrack:
    """The draft's text clips, each rendered when a frame first shows it and let go when it ends.

    A subtitles file may hold a hundred thousand cues for a clip of a few seconds: sorted once by start,
    a cue costs one comparison as the frames pass it, and only cues that overlap a frame are drawn.
    Frames are asked for in time order; going back in time starts the sweep over.
    """

    def __init__(self, draft: Draft) -> None:
        self._draft = draft
        total = draft.duration_ms
        spans = []
        for order, clip in enumerate(draft.text):
            end = total if clip.duration_ms is None else min(clip.start_ms + clip.duration_ms, total)
            if clip.start_ms < end and clip.text.strip():
                _checked_text(clip.text)  # before the first frame, not when the clip first shows
                spans.append((clip.start_ms, end, order))
        spans.sort()
        self._spans = spans
        self._next = 0
        self._showing: dict[int, tuple[int, TextOverlay | None]] = {}
        self._last_ms = -math.inf

    def apply(self, buffer: np.ndarray, time_ms: float) -> None:
        """Blend every text clip showing at ``time_ms`` into an NV12 frame buffer, in the draft's order."""
        if time_ms < self._last_ms:
            self._next, self._showing = 0, {}
        self._last_ms = time_ms
        while self._next < len(self._spans) and self._spans[self._next][0] <= time_ms:
            _, until, order = self._spans[self._next]
            self._next += 1
            if until > time_ms:
                self._showing[order] = (until, None)
        for order in sorted(self._showing):
            end, overlay = self._showing[order]
            if end <= time_ms:
                del self._showing[order]
                continue
            if overlay is None:
                overlay = _build(self._draft, self._draft.text[order])
                self._showing[order] = (end, overlay)
            overlay.apply(buffer, time_ms)


def _build(draft: Draft, clip: TextClip) -> TextOverlay:
    width, height = draft.width, draft.height
    area = safe_area(width, height)
    scale = min(width, height) / 1080
    look = _Look.of(clip.style, scale)
    text = _checked_text(clip.text)
    font, lines = _fit_text(text, clip.size * scale, area, look)
    rgba = _draw(lines, font, look)
    box_h, box_w = rgba.shape[:2]
    if box_w > width or box_h > height:
        # Blending a picture larger than the frame is what OpenCV refuses; say why instead.
        raise RenderError(
            f"the text {_preview(text)} does not fit a {width}x{height} frame even at {MIN_FONT_PX} px;"
            " shorten it or give it a smaller plate"
        )
    if clip.style.align == "left":
        left = float(area.left)
    elif clip.style.align == "right":
        left = float(area.right - box_w)
    else:
        left = area.left + (area.right - area.left - box_w) / 2
    if clip.position == "top":
        top = float(area.top)
    elif clip.position == "center":
        top = (height - box_h) / 2
    else:
        top = float(area.bottom - box_h)
    return TextOverlay(
        left=_even_down(min(max(left, 0), width - box_w)),
        top=_even_down(min(max(top, 0), height - box_h)),
        planes=TextPlanes.from_rgba(rgba),
        rgba=rgba,
        start_ms=float(clip.start_ms),
        end_ms=float(draft.text_end_ms(clip)),
        fade_ms=float(clip.fade_ms),
        frame_size=(width, height),
        animate=clip.style.animate,
        slide_px=round(height * 0.04),
    )


@dataclass(frozen=True)
class _Look:
    """A caption style in pixels and RGBA at this frame's scale."""

    font: str
    fill: tuple[int, int, int, int]
    stroke_width: int | None  # None: the automatic outline (size / 16) with a soft shadow
    stroke_fill: tuple[int, int, int, int]
    plate: tuple[int, int, int, int] | None
    padding: int
    radius: int
    align: str

    @classmethod
    def of(cls, style: CaptionStyle, scale: float) -> _Look:
        try:
            fill = parse_color(style.color)
            stroke_fill = parse_color(style.stroke.color) if style.stroke else (0, 0, 0, 255)
            plate = parse_color(style.box.color) if style.box else None
        except ValueError as error:
            raise RenderError(f"text {error}") from error
        return cls(
            font=style.font,
            fill=fill,
            stroke_width=round(style.stroke.width * scale) if style.stroke else None,
            stroke_fill=stroke_fill,
            plate=plate,
            padding=round(style.box.padding * scale) if style.box else 0,
            radius=round(style.box.radius * scale) if style.box else 0,
            align=style.align,
        )

    def stroke(self, font: ImageFont.FreeTypeFont) -> int:
        return self.stroke_width if self.stroke_width is not None else max(1, round(font.size / 16))


def _checked_text(text: str) -> str:
    """The text to draw; a RenderError when it is longer than any frame could show."""
    if len(text) > MAX_TEXT_CHARS:
        raise RenderError(
            f"the text {_preview(text)} has {len(text):,} characters; a title or caption may have at most"
            f" {MAX_TEXT_CHARS:,}, so shorten it (or split it into several)"
        )
    return text


def _preview(text: str) -> str:
    """The start of a text, quoted on one line, for an error message."""
    clusters = _clusters(" ".join(text.split()))
    # A pile of accents on one letter would make the message itself unreadable: two per letter show enough.
    shown = "".join(cluster[:3] for cluster in clusters[:30])
    return f'"{printable(shown)}{"..." if len(clusters) > 30 else ""}"'


def _fit_text(text: str, size: float, area: SafeArea, look: _Look) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font (from ``size`` down to MIN_FONT_PX) at which the wrapped text, its outline and plate
    fit the safe area; at MIN_FONT_PX the text is returned as wrapped there, whether it fits or not."""
    max_height = (area.bottom - area.top) // 2  # leave room for the picture
    pixels = max(int(round(size)), MIN_FONT_PX)
    while True:
        font = load_font(look.font, pixels)
        max_width = (area.right - area.left) * 0.94 - 2 * (look.padding + look.stroke(font))
        lines = _wrap(text, font, max_width)
        fits_width = all(font.getlength(line) <= max_width for line in lines)
        block = len(lines) * _line_height(font) + 2 * look.padding
        if (fits_width and block <= max_height) or pixels <= MIN_FONT_PX:
            return font, lines
        pixels = max(MIN_FONT_PX, int(pixels * 0.9))


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Lines at word boundaries; a word wider than a line is broken between its characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [text]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if not current or font.getlength(candidate) <= max_width:
                current = candidate
            else:
                lines.append(current)
                current = word
            if font.getlength(current) > max_width:
                *full, current = _break_word(current, font, max_width)
                lines.extend(full)
        lines.append(current)
    return [line for line in lines if line] or [text.strip()]


def _break_word(word: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """``word`` in pieces no wider than ``max_width`` (a piece holds at least one character with its accents)."""
    pieces: list[str] = []
    current = ""
    for cluster in _clusters(word):
        if current and font.getlength(current + cluster) > max_width:
            pieces.append(current)
            current = cluster
        else:
            current += cluster
    pieces.append(current)
    return pieces


def _clusters(word: str) -> list[str]:
    """Characters with the combining marks, joiners and variation selectors that belong to them."""
    clusters: list[str] = []
    joined = False
    for character in word:
        attaches = unicodedata.combining(character) or unicodedata.category(character) in ("Mn", "Me", "Cf")
        if clusters and (attaches or joined or 0xFE00 <= ord(character) <= 0xFE0F):
            clusters[-1] += character
        else:
            clusters.append(character)
        joined = character == "\u200d"
    return clusters


def _line_height(font: ImageFont.FreeTypeFont) -> int:
    return math.ceil(font.size * 1.25)


def _draw(lines: list[str], font: ImageFont.FreeTypeFont, look: _Look) -> np.ndarray:
    """The lines on a transparent RGBA block (even sides): plate, then shadow (automatic outline only), then text."""
    stroke = look.stroke(font)
    inner = stroke * 2 + round(font.size * 0.15)
    pad = inner + look.padding
    line_height = _line_height(font)
    text_w = max(math.ceil(font.getlength(line)) for line in lines) + 2 * stroke
    box_w = _even_up(text_w + 2 * pad)
    box_h = _even_up(len(lines) * line_height + 2 * pad)
    anchors = {"left": ("la", pad + stroke), "right": ("ra", box_w - pad - stroke)}
    anchor, x = anchors.get(look.align, ("ma", box_w / 2))
    layers = []
    if look.plate is not None:
        plate = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        inset = inner // 2
        corners = (inset, inset, box_w - 1 - inset, box_h - 1 - inset)
        ImageDraw.Draw(plate).rounded_rectangle(corners, radius=look.radius, fill=look.plate)
        layers.append(plate)
    passes = [(0, look.fill, look.stroke_fill)]
    if look.stroke_width is None and look.plate is None:
        passes.insert(0, (stroke, (0, 0, 0, 150), (0, 0, 0, 150)))
    for offset, fill, stroke_fill in passes:
        layer = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        for index, line in enumerate(lines):
            position = (x + offset, pad + index * line_height + offset)
            draw.text(position, line, font=font, fill=fill, anchor=anchor, stroke_width=stroke, stroke_fill=stroke_fill)
        layers.append(layer.filter(ImageFilter.GaussianBlur(stroke * 1.5)) if offset else layer)
    picture = layers[0]
    for layer in layers[1:]:
        picture = Image.alpha_composite(picture, layer)
    return np.asarray(picture)


def _even_up(value: float) -> int:
    return 2 * math.ceil(value / 2)


def _even_down(value: float) -> int:
    return 2 * int(math.floor(value / 2))
