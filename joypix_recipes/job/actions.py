"""The edit vocabulary after templating: what one recipe step (or one understood prompt phrase) asks for.

Recipes, the prompt interpreter, both backends and the emulator speak these types. Each serializes to
the same one-key mapping a recipe uses (``{"animate": {...}}``), so a job stays plain JSON.
Times are in seconds here; the draft stores milliseconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args

Motion = Literal["zoom-in", "zoom-out", "pan-left", "pan-right", "pan-up", "pan-down", "ken-burns", "none"]
Easing = Literal["linear", "ease-in-out"]
Fit = Literal["cover", "blur"]
Position = Literal["top", "center", "bottom"]
TransitionKind = Literal[
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
Align = Literal["left", "center", "right"]
TextAnimation = Literal["fade", "slide-up", "pop", "none"]

MOTIONS: tuple[str, ...] = get_args(Motion)
EASINGS: tuple[str, ...] = get_args(Easing)
FITS: tuple[str, ...] = get_args(Fit)
POSITIONS: tuple[str, ...] = get_args(Position)
TRANSITIONS: tuple[str, ...] = get_args(TransitionKind)
ALIGNS: tuple[str, ...] = get_args(Align)
TEXT_ANIMATIONS: tuple[str, ...] = get_args(TextAnimation)

BUNDLED_FONTS: tuple[str, ...] = ("default", "sans", "sans-bold", "serif", "serif-bold")
"""Font families every install has; any other ``font`` is a .ttf/.otf file (an absolute path after planning)."""

BUILTIN_MUSIC = "builtin:ambient"
"""Audio source the local renderer synthesizes itself, for prompts that ask for music without a file."""


@dataclass(frozen=True)
class Prompt:
    """Free text for the editing agent (already templated)."""

    text: str


@dataclass(frozen=True)
class Animate:
    """Camera motion over the current image for ``duration`` seconds."""

    motion: Motion = "zoom-in"
    duration: float = 5.0
    zoom: float = 1.25
    easing: Easing = "ease-in-out"
    fit: Fit = "cover"


def parse_color(text: str) -> tuple[int, int, int, int]:
    """``#RRGGBB``, ``#RRGGBBAA`` or a CSS colour name -> RGBA; raises ValueError naming the text."""
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


@dataclass(frozen=True)
class Text:
    """A title or caption; ``end`` None means until the clip ends. ``size`` is in pixels at 1080p."""

    content: str
    position: Position = "bottom"
    start: float = 0.0
    end: float | None = None
    size: float = 72.0
    style: CaptionStyle = field(default_factory=CaptionStyle)


@dataclass(frozen=True)
class Cue:
    """One timed caption of a subtitles file, in seconds."""

    start: float
    end: float
    content: str


@dataclass(frozen=True)
class Subtitles:
    """Timed captions read from a .srt or .vtt file at planning, drawn with one style."""

    cues: tuple[Cue, ...]
    position: Position = "bottom"
    size: float = 56.0
    style: CaptionStyle = field(default_factory=CaptionStyle)


@dataclass(frozen=True)
class Audio:
    """A background track (a file path, absolute after planning, or ``BUILTIN_MUSIC``)."""

    file: str
    volume: float = 1.0
    fade_in: float = 0.0
    fade_out: float = 0.0


@dataclass(frozen=True)
class Fade:
    """Fade from black at the start and to black at the end, in seconds (YAML keys ``in``/``out``)."""

    fade_in: float = 0.0
    fade_out: float = 0.0


@dataclass(frozen=True)
class Transition:
    """How one image of a group gives way to the next; ``none`` is a hard cut (its duration is ignored)."""

    kind: TransitionKind = "crossfade"
    duration: float = 0.5


@dataclass(frozen=True)
class Reframe:
    """A change of aspect or resolution asked for in a prompt ("make it square", "720p")."""

    aspect: str | None = None
    resolution: str | None = None


Action = Prompt | Animate | Text | Subtitles | Audio | Fade | Transition | Reframe

_KIND_OF: dict[type, str] = {
    Prompt: "prompt",
    Animate: "animate",
    Text: "text",
    Subtitles: "subtitles",
    Audio: "audio",
    Fade: "fade",
    Transition: "transition",
    Reframe: "reframe",
}
_TYPE_OF: dict[str, type] = {kind: cls for cls, kind in _KIND_OF.items()}
ACTION_KINDS: tuple[str, ...] = tuple(_TYPE_OF)


def action_kind(action: Action) -> str:
    """The step keyword for an action: ``prompt``, ``animate``, ``text``, ``subtitles``, ``audio``, ``fade``, ``transition``, ``reframe``."""
    return _KIND_OF[type(action)]


def action_to_dict(action: Action) -> dict[str, Any]:
    """One-key mapping as written in a recipe; ``Prompt`` becomes ``{"prompt": "text"}``."""
    if isinstance(action, Prompt):
        return {"prompt": action.text}
    body = asdict(action)
    if isinstance(action, Fade):
        body = {"in": action.fade_in, "out": action.fade_out}
    if isinstance(action, Text | Subtitles):
        del body["style"]
        body.update(action.style.stated())  # flat, as in a recipe; defaults left out
    if isinstance(action, Subtitles):
        body["cues"] = [[cue.start, cue.end, cue.content] for cue in action.cues]
    return {action_kind(action): body}


def action_from_dict(data: dict[str, Any]) -> Action:
    """Inverse of ``action_to_dict``; raises ValueError on a shape it does not know."""
    if len(data) != 1:
        raise ValueError("an action has exactly one kind")
    ((kind, body),) = data.items()
    if kind == "prompt":
        return Prompt(text=str(body))
    if kind not in _TYPE_OF:
        raise ValueError(f"unknown action kind {kind!s}")
    if kind == "fade":
        return Fade(fade_in=float(body.get("in", 0.0)), fade_out=float(body.get("out", 0.0)))
    cls = _TYPE_OF[kind]
    if cls in (Text, Subtitles):
        body = {key: value for key, value in body.items() if key not in STYLE_KEYS} | {
            "style": CaptionStyle.from_body(body)
        }
    if cls is Subtitles:
        body = body | {"cues": tuple(Cue(float(start), float(end), str(words)) for start, end, words in body["cues"])}
    known = {f.name for f in fields(cls)}
    unknown = set(body) - known
    if unknown:
        raise ValueError(f"unknown {kind} field(s): {', '.join(sorted(unknown))}")
    action: Action = cls(**body)
    return action
