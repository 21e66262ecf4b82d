"""What every kind is: an ``Action`` base, the ``Kind`` base each kind's module subclasses, the recipe
``Field``s a kind declares, and what the upper layers hand a kind (a ``Timeline``, a ``Wording``).
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, is_dataclass
from dataclasses import fields as dataclass_fields
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, Self, TypeVar

if TYPE_CHECKING:
    from joypix_recipes.job.kinds.captions import CaptionStyle
    from joypix_recipes.job.kinds.overlay import Overlay


@dataclass(frozen=True)
class Action:
    """What one recipe step (or one understood prompt phrase) asks for; each kind's action derives from it."""


FieldRole = Literal["text", "number", "real", "choice", "style", "cues", "media", "flag"]
"""How the recipe side reads a field and the planner renders it:

- ``text``: a template rendered to a string; ``number``: a number, or a template rendered to one;
- ``real``: a number as written; ``choice``: a word as written (the schema names the choices);
- ``style``: the caption style keys, written flat beside the others (fonts resolved at planning);
- ``cues``: a .srt/.vtt file read into cues at planning; ``media``: a template naming a file beside the recipe;
- ``flag``: true or false as written.
"""


@dataclass(frozen=True)
class Field:
    """One field a recipe writes for a kind: its key in the recipe and how it is read.

    ``attribute`` is the action's field it fills, when the recipe calls it otherwise (fade's ``in``).
    Its default is the action's own, so a recipe that leaves it out gets what the action would.
    """

    key: str
    role: FieldRole
    attribute: str = ""
    percent: bool = False

    @property
    def target(self) -> str:
        """The name of the action's field this fills."""
        return self.attribute or self.key


class Timeline(Protocol):
    """What a kind may do to a timeline. The timeline layer implements it over its draft (in its units,
    checking what its draft can hold), so a kind edits a draft without importing one."""

    @property
    def has_music(self) -> bool:
        """Whether a background track is already set."""
        ...

    def move_camera(self, stated: Mapping[str, Any]) -> Self:
        """Every image moves so (any of motion, duration, zoom, easing, fit; seconds)."""
        ...

    def join_images(self, kind: str, seconds: float) -> Self:
        """How each image after the first enters (``none`` is a hard cut)."""
        ...

    def add_caption(
        self, content: str, position: str, start: float, end: float | None, size: float, style: CaptionStyle
    ) -> Self:
        """One more title or caption, from ``start`` to ``end`` seconds (None: to the end)."""
        ...

    def add_captions(
        self, timed: Sequence[tuple[str, float, float | None]], position: str, size: float, style: CaptionStyle
    ) -> Self:
        """Many captions in one style, each ``(content, start, end)``, added at once (a subtitles file's cues)."""
        ...

    def set_music(self, stated: Mapping[str, Any]) -> Self:
        """The background track's fields (any of file, volume, fade_in, fade_out; seconds)."""
        ...

    def set_fades(self, fade_in: float | None, fade_out: float | None) -> Self:
        """Fades from and to black in seconds; None leaves one as it is."""
        ...

    def reframe(self, aspect: str | None, resolution: str | None) -> Self:
        """A new frame size; None keeps the current aspect or resolution."""
        ...

    def add_overlay(self, overlay: Overlay) -> Self:
        """One more image layer over the clip (a logo), placed, sized and timed as the overlay says."""
        ...


@dataclass(frozen=True)
class Wording:
    """What the cloud wording needs from above the job layer.

        ``audio_name`` is how the uploaded audio file is known to the agent, ``images`` how many images the
        session holds, ``zoom_words`` the words the prompt interpreter reads as zoom strengths, ``overlay_name``
    how an overlay's uploaded image is known to the agent.
    """

    audio_name: str | None = None
    images: int = 1
    zoom_words: Mapping[str, float] | None = None
    overlay_name: str | None = None


A = TypeVar("A", bound=Action)
T = TypeVar("T", bound=Timeline)


class Kind(Generic[A]):
    """One step kind. Subclasses name it, give its action class and recipe fields, and say how it edits
    a timeline and is worded; the JSON form (the recipe's one-key mapping) comes from the fields."""

    name: ClassVar[str]
    """The step keyword (``animate``), also the key of its JSON form."""
    action: type[A]
    definition: ClassVar[str | None] = None
    """The recipe schema's ``$defs`` entry for the kind's body; None when recipes cannot write it."""
    fields: ClassVar[tuple[Field, ...]] = ()
    """What a recipe writes, in order."""
    shorthand: ClassVar[str | None] = None
    """The field a bare string fills (``prompt: some text``)."""

    def default(self, field: Field) -> Any:
        """The action's default for a field; ``MISSING`` when a recipe must write it."""
        found = next(f for f in dataclass_fields(self.action) if f.name == field.target)
        if found.default is not MISSING:
            return found.default
        return found.default_factory() if found.default_factory is not MISSING else MISSING

    def to_body(self, action: A) -> Any:
        """The value of the one-key mapping a recipe writes; a style's keys sit flat, defaults left out."""
        keys = {field.target: field.key for field in self.fields}
        body: dict[str, Any] = {}
        for field in dataclass_fields(action):
            value = getattr(action, field.name)
            if _is_caption_style(value):
                body.update(value.stated())  # so old jobs keep their identity
            else:
                body[keys.get(field.name, field.name)] = (
                    asdict(value) if is_dataclass(value) and not isinstance(value, type) else value
                )
        return body

    def from_body(self, body: Any) -> A:
        """Inverse of ``to_body``; raises ValueError on a field the kind does not have."""
        if not isinstance(body, dict):
            raise ValueError(f"a {self.name} action is a mapping")
        attributes: dict[str, str] = {field.key: field.target for field in self.fields}
        styled = self._style_keys()
        values: dict[str, Any] = {
            attributes.get(str(key), str(key)): value for key, value in body.items() if key not in styled
        }
        if styled:
            from joypix_recipes.job.kinds.captions import CaptionStyle

            values["style"] = CaptionStyle.from_body(body)
        unknown = set(values) - {field.name for field in dataclass_fields(self.action)}
        if unknown:
            raise ValueError(f"unknown {self.name} field(s): {', '.join(sorted(unknown))}")
        return self.action(**values)

    def check(self, action: A) -> str | None:
        """What is wrong with an action whose fields each passed the schema (a text ending before it starts)."""
        return None

    def apply(self, action: A, timeline: T, fields: Collection[str] | None = None) -> T:
        """The timeline with the action applied; ``fields`` limits it to what a prompt stated.

        Raises ValueError for a value the timeline cannot hold.
        """
        raise NotImplementedError

    def phrase(self, action: A, wording: Wording) -> str:
        """The sentence the cloud agent is sent for this action."""
        raise NotImplementedError

    def files(self, action: A) -> tuple[str, ...]:
        """Files besides the images the action reads, by absolute path (an audio track, a font)."""
        return ()

    def with_files(self, action: A, moved: Mapping[str, str]) -> A:
        """The action reading its files from where ``moved`` puts them (keyed by the path it names)."""
        return action

    def _style_keys(self) -> frozenset[str]:
        if not any(field.role == "style" for field in self.fields):
            return frozenset()
        from joypix_recipes.job.kinds.captions import STYLE_KEYS

        return STYLE_KEYS


def _is_caption_style(value: Any) -> bool:
    """Whether ``value`` is a CaptionStyle; none can exist before the kinds that have a style load its module."""
    captions = sys.modules.get("joypix_recipes.job.kinds.captions")
    return captions is not None and isinstance(value, captions.CaptionStyle)


def stated(action: Action, fields: Collection[str] | None) -> dict[str, Any]:
    """An action's fields as a mapping, only those a prompt stated when ``fields`` is given."""
    values = {field.name: getattr(action, field.name) for field in dataclass_fields(action)}
    return values if fields is None else {name: values[name] for name in fields if name in values}
