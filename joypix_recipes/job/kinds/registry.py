"""Every kind, by step keyword and by action class, and the JSON form of actions (the recipe's one-key mapping)."""

from __future__ import annotations

from typing import Any

from joypix_recipes.job.kinds.animate import AnimateKind
from joypix_recipes.job.kinds.audio import AudioKind
from joypix_recipes.job.kinds.fade import FadeKind
from joypix_recipes.job.kinds.kind import Action, Kind
from joypix_recipes.job.kinds.overlay import OverlayKind
from joypix_recipes.job.kinds.prompt import PromptKind
from joypix_recipes.job.kinds.reframe import ReframeKind
from joypix_recipes.job.kinds.subtitles import SubtitlesKind
from joypix_recipes.job.kinds.text import TextKind
from joypix_recipes.job.kinds.transition import TransitionKind

KINDS: tuple[Kind[Any], ...] = (
    PromptKind(),
    AnimateKind(),
    TextKind(),
    SubtitlesKind(),
    AudioKind(),
    FadeKind(),
    TransitionKind(),
    ReframeKind(),
    OverlayKind(),
)
"""In the order recipes document them."""

_BY_NAME: dict[str, Kind[Any]] = {kind.name: kind for kind in KINDS}
_BY_ACTION: dict[type, Kind[Any]] = {kind.action: kind for kind in KINDS}

ACTION_KINDS: tuple[str, ...] = tuple(_BY_NAME)
RECIPE_KINDS: tuple[Kind[Any], ...] = tuple(kind for kind in KINDS if kind.definition is not None)
"""The kinds a recipe step may be."""


def kind_of(action: Action) -> Kind[Any]:
    """The kind an action belongs to."""
    return _BY_ACTION[type(action)]


def kind_named(name: str) -> Kind[Any]:
    """The kind of a step keyword; KeyError for a word that is none."""
    return _BY_NAME[name]


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
    if name not in _BY_NAME:
        raise ValueError(f"unknown action kind {name!s}")
    action: Action = _BY_NAME[name].from_body(body)
    return action
