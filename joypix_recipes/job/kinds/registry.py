"""Every kind, by step keyword and by action class, and the JSON form of actions (the recipe's one-key mapping).

A kind's module is imported the first time something asks for that kind, so checking a recipe loads
only the kinds its steps use (each kind defines its action's data class, which costs at start-up).
``KINDS``, ``RECIPE_KINDS`` and ``ACTION_KINDS`` load every kind when first read.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from joypix_recipes.job.kinds.kind import Action, Kind

_MODULES: dict[str, str] = {
    "prompt": "PromptKind",
    "animate": "AnimateKind",
    "text": "TextKind",
    "subtitles": "SubtitlesKind",
    "audio": "AudioKind",
    "fade": "FadeKind",
    "transition": "TransitionKind",
    "reframe": "ReframeKind",
    "overlay": "OverlayKind",
}
"""Each kind's step keyword (also its module's name under job.kinds) and its class, in the order recipes document them."""

RECIPE_KIND_NAMES: tuple[str, ...] = (
    "prompt",
    "animate",
    "text",
    "subtitles",
    "audio",
    "fade",
    "transition",
    "overlay",
)
"""The step keywords a recipe may write, in order: the kinds with a schema definition (a test keeps them equal)."""

_BY_NAME: dict[str, Kind[Any]] = {}
_BY_ACTION: dict[type, Kind[Any]] = {}


def kind_named(name: str) -> Kind[Any]:
    """The kind of a step keyword; KeyError for a word that is none."""
    kind = _BY_NAME.get(name)
    if kind is None:
        if name not in _MODULES:
            raise KeyError(name)
        module = import_module(f"joypix_recipes.job.kinds.{name}")
        # setdefault: threads asking at once all get the first instance made
        kind = _BY_NAME.setdefault(name, getattr(module, _MODULES[name])())
        _BY_ACTION.setdefault(kind.action, kind)
    return kind


def _all_kinds() -> tuple[Kind[Any], ...]:
    # Every kind's module at once (kind_named imports one at a time, by name).
    from joypix_recipes.job.kinds import (  # noqa: F401
        animate,
        audio,
        fade,
        overlay,
        prompt,
        reframe,
        subtitles,
        text,
        transition,
    )

    return tuple(kind_named(name) for name in _MODULES)


def __getattr__(name: str) -> Any:
    """``KINDS`` (every kind, in order), ``RECIPE_KINDS`` (those a recipe step may be) and ``ACTION_KINDS``
    (their keywords), every kind loaded for them."""
    if name == "KINDS":
        return _all_kinds()
    if name == "RECIPE_KINDS":
        return tuple(kind for kind in _all_kinds() if kind.definition is not None)
    if name == "ACTION_KINDS":
        return tuple(_MODULES)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    KINDS: tuple[Kind[Any], ...]
    RECIPE_KINDS: tuple[Kind[Any], ...]
    ACTION_KINDS: tuple[str, ...]


def kind_of(action: Action) -> Kind[Any]:
    """The kind an action belongs to."""
    kind = _BY_ACTION.get(type(action))
    if kind is None:  # an action made without asking the registry for its kind first
        _all_kinds()
        kind = _BY_ACTION[type(action)]
    return kind


def is_kind(action: Action, name: str) -> bool:
    """Whether ``action`` is of the kind ``name``; a kind whose module was never imported has no actions to be."""
    if f"joypix_recipes.job.kinds.{name}" not in sys.modules:
        return False
    return isinstance(action, kind_named(name).action)


def action_kind(action: Action) -> str:
    """The step keyword for an action: ``prompt``, ``animate``, ``text``, ``subtitles``, ``audio``, ``fade``, ``transition``, ``reframe``, ``overlay``."""
    return kind_of(action).name


def action_to_dict(action: Action) -> dict[str, Any]:
    """One-key mapping as written in a recipe; ``Prompt`` becomes ``{"prompt": "text"}``."""
    kind = kind_of(action)
    return {kind.name: kind.to_body(action)}


def action_from_dict(data: dict[str, Any]) -> Action:
    """Inverse of ``action_to_dict``; raises ValueError on a shape it does not know."""
    if len(data) != 1:
        raise ValueError("an action has exactly one kind")
    ((name, body),) = data.items()
    if name not in _MODULES:
        raise ValueError(f"unknown action kind {name!s}")
    action: Action = kind_named(name).from_body(body)
    return action
