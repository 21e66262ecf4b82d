"""How captions look (font, colours, outline, plate, alignment, entrance), shared by text and subtitles,
and how a look is worded for the cloud agent."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from joypix_recipes.job.kinds.wording import number, quoted

Position = Literal["top", "center", "bottom"]
Align = Literal["left", "center", "right"]
TextAnimation = Literal["fade", "slide-up", "pop", "none"]

POSITIONS: tuple[str, ...] = get_args(Position)
ALIGNS: tuple[str, ...] = get_args(Align)
TEXT_ANIMATIONS: tuple[str, ...] = get_args(TextAnimation)

TEXT_SIZE = 72.0
"""A text step's size when it states none, in pixels at 1080p (a caption of that size is worded without it)."""

BUNDLED_FONTS: tuple[str, ...] = ("default", "sans", "sans-bold", "serif", "serif-bold")
"""Font families every install has; any other ``font`` is a .ttf/.otf file (an absolute path after planning)."""


_HEX_COLOUR = r"#(?:[0-9a-fA-F]{2}){3,4}"


def parse_color(text: str) -> tuple[int, int, int, int]:
    """``#RRGGBB``, ``#RRGGBBAA`` or a CSS colour name -> RGBA; raises ValueError naming the text."""
    hexadecimal = text.strip()
    if re.fullmatch(_HEX_COLOUR, hexadecimal):  # read as Pillow reads it, without loading Pillow
        bands = bytes.fromhex(hexadecimal[1:])
        return bands[0], bands[1], bands[2], bands[3] if len(bands) == 4 else 255
    from PIL import ImageColor  # only when a colour is named: loading a recipe stays free of imaging libraries

    try:
        colour = ImageColor.getcolor(text.strip(), "RGBA")
    except (ValueError, AttributeError) as error:
        raise ValueError(f"'{text}' is not a colour (use #RRGGBB, #RRGGBBAA or a CSS name such as gold)") from error
    if not isinstance(colour, tuple) or len(colour) != 4:
        raise ValueError(f"'{text}' is not a colour")
    red, green, blue, alpha = colour
    return int(red), int(green), int(blue), int(alpha)


@dataclass(frozen=True)
class Stroke:
    """An outline around each letter; ``width`` in pixels at 1080p (0 for none)."""

    width: float = 4.0
    color: str = "black"


@dataclass(frozen=True)
class Box:
    """A plate behind the text; ``padding`` and ``radius`` in pixels at 1080p."""

    color: str = "#000000A0"
    padding: float = 24.0
    radius: float = 16.0


@dataclass(frozen=True)
class CaptionStyle:
    """How a caption looks: font, colours, outline, plate, alignment, entrance. The default is white, outlined, faded."""

    font: str = "default"
    color: str = "white"
    stroke: Stroke | None = None
    box: Box | None = None
    align: Align = "center"
    animate: TextAnimation = "fade"

    def stated(self) -> dict[str, Any]:
        """The fields that differ from the default, as a recipe writes them (so old jobs keep their identity)."""
        plain = CaptionStyle()
        return {
            f.name: _plain(getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(plain, f.name)
        }

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> CaptionStyle:
        """The style keys of a step body (others are left alone)."""
        stroke, box = body.get("stroke"), body.get("box")
        return cls(
            font=str(body.get("font", "default")),
            color=str(body.get("color", "white")),
            stroke=Stroke(**stroke) if isinstance(stroke, dict) else None,
            box=Box(**box) if isinstance(box, dict) else None,
            align=body.get("align", "center"),
            animate=body.get("animate", "fade"),
        )

    def colors(self) -> list[str]:
        """Every colour this style names, to check them all at once."""
        named = [self.color]
        named += [self.stroke.color] if self.stroke else []
        named += [self.box.color] if self.box else []
        return named


STYLE_KEYS: frozenset[str] = frozenset(f.name for f in fields(CaptionStyle))


def _plain(value: Any) -> Any:
    return asdict(value) if value is not None and hasattr(value, "__dataclass_fields__") else value


_FAMILY_WORDS = {
    "sans": "a clean sans-serif",
    "sans-bold": "a bold sans-serif",
    "serif": "a serif",
    "serif-bold": "a bold serif",
}
_ENTRANCE_WORDS = {"slide-up": "let {} slide up into place", "pop": "let {} pop in", "none": "show {} without a fade"}


def style_words(style: CaptionStyle, subject: str) -> str:
    """The caption's look in words, as a sentence of its own; nothing when the style is the default.

    The service cannot receive a font file, so a file becomes a request for a typeface like the brand's,
    saying that the file itself is applied only by local renders. Its name is left out: quoted, it
    would read as one more caption.
    """
    them = "it" if subject == "it" else "them"
    words: list[str] = []
    if style.font in _FAMILY_WORDS:
        words.append(f"set {them} in {_FAMILY_WORDS[style.font]} typeface")
    elif style.font not in BUNDLED_FONTS:
        words.append(f"set {them} in a typeface like the brand's own (its font file is applied only by local renders)")
    if style.color != CaptionStyle.color:
        words.append(f"colour the text {style.color}")
    if style.stroke is not None:
        words.append(f"outline the letters {number(style.stroke.width)} pixels wide in {style.stroke.color}")
    if style.box is not None:
        box = style.box
        words.append(
            f"put {them} on a {box.color} plate with {number(box.padding)}-pixel padding and {number(box.radius)}-pixel rounded corners"
        )
    if style.align != CaptionStyle.align:
        words.append(f"align {them} {style.align}")
    if style.animate in _ENTRANCE_WORDS:
        words.append(_ENTRANCE_WORDS[style.animate].format(them))
    if not words:
        return ""
    return f" Style {subject}: {'; '.join(words)}."


def caption_sentence(content: str, position: str, start: float, end: float | None, size: float) -> str:
    """One caption in words: what, where and when (its style is worded apart); a text's own size goes unsaid."""
    kind = "title" if position == "top" else "caption"
    if end is not None:
        timing = f"from {number(start)}s to {number(end)}s"
    elif start:
        timing = f"from {number(start)}s until the end"
    else:
        timing = "for the whole clip"
    said = "" if size == TEXT_SIZE else f" at size {number(size)}"
    return f"Add the {kind} {quoted(content)} at the {position} {timing}{said}."


def styled_files(style: CaptionStyle) -> tuple[str, ...]:
    """The font file a caption style reads, once planning made it absolute."""
    return (style.font,) if style.font not in BUNDLED_FONTS and Path(style.font).is_absolute() else ()


def moved_style(style: CaptionStyle, moved: Mapping[str, str]) -> CaptionStyle:
    """The style reading its font from where ``moved`` puts it."""
    return replace(style, font=moved[style.font]) if style.font in moved else style
