"""The edit vocabulary after templating: what one recipe step (or one understood prompt phrase) asks for.

Recipes, the prompt interpreter, both backends and the emulator speak these types. Each serializes to
the same one-key mapping a recipe uses (``{"animate": {...}}``), so a job stays plain JSON.
Times are in seconds here; the draft stores milliseconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
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

MOTIONS: tuple[str, ...] = get_args(Motion)
EASINGS: tuple[str, ...] = get_args(Easing)
FITS: tuple[str, ...] = get_args(Fit)
POSITIONS: tuple[str, ...] = get_args(Position)
TRANSITIONS: tuple[str, ...] = get_args(TransitionKind)

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


@dataclass(frozen=True)
class Text:
    """A title or caption; ``end`` None means until the clip ends. ``size`` is in pixels at 1080p."""

    content: str
    position: Position = "bottom"
    start: float = 0.0
    end: float | None = None
    size: float = 72.0


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


Action = Prompt | Animate | Text | Audio | Fade | Transition | Reframe

_KIND_OF: dict[type, str] = {
    Prompt: "prompt",
    Animate: "animate",
    Text: "text",
    Audio: "audio",
    Fade: "fade",
    Transition: "transition",
    Reframe: "reframe",
}
_TYPE_OF: dict[str, type] = {kind: cls for cls, kind in _KIND_OF.items()}
ACTION_KINDS: tuple[str, ...] = tuple(_TYPE_OF)


def action_kind(action: Action) -> str:
    """The step keyword for an action: ``prompt``, ``animate``, ``text``, ``audio``, ``fade``, ``transition``, ``reframe``."""
    return _KIND_OF[type(action)]


def action_to_dict(action: Action) -> dict[str, Any]:
    """One-key mapping as written in a recipe; ``Prompt`` becomes ``{"prompt": "text"}``."""
    if isinstance(action, Prompt):
        return {"prompt": action.text}
    body = asdict(action)
    if isinstance(action, Fade):
        body = {"in": action.fade_in, "out": action.fade_out}
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
    known = {f.name for f in fields(cls)}
    unknown = set(body) - known
    if unknown:
        raise ValueError(f"unknown {kind} field(s): {', '.join(sorted(unknown))}")
    action: Action = cls(**body)
    return action
