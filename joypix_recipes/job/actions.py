"""The edit vocabulary after templating: what one recipe step (or one understood prompt phrase) asks for.

Recipes, the prompt interpreter, both backends and the emulator speak these types. Each kind lives in
its own module under ``kinds/``; this module gathers their names, so callers need not know which
module holds which. Each action serializes to the same one-key mapping a recipe uses
(``{"animate": {...}}``), so a job stays plain JSON. Times are in seconds here; the draft stores milliseconds.
"""

from __future__ import annotations

from joypix_recipes.job.kinds.animate import EASINGS, FITS, MOTIONS, Animate, Easing, Fit, Motion
from joypix_recipes.job.kinds.audio import BUILTIN_MUSIC, Audio
from joypix_recipes.job.kinds.captions import (
    ALIGNS,
    BUNDLED_FONTS,
    POSITIONS,
    STYLE_KEYS,
    TEXT_ANIMATIONS,
    Align,
    Box,
    CaptionStyle,
    Position,
    Stroke,
    TextAnimation,
    parse_color,
)
from joypix_recipes.job.kinds.fade import Fade
from joypix_recipes.job.kinds.kind import Action
from joypix_recipes.job.kinds.overlay import ANCHORS, Anchor, Overlay
from joypix_recipes.job.kinds.prompt import Prompt
from joypix_recipes.job.kinds.reframe import Reframe
from joypix_recipes.job.kinds.registry import ACTION_KINDS, action_from_dict, action_kind, action_to_dict
from joypix_recipes.job.kinds.subtitles import Cue, Subtitles
from joypix_recipes.job.kinds.text import Text
from joypix_recipes.job.kinds.transition import TRANSITIONS, Transition, TransitionStyle

__all__ = [
    "ACTION_KINDS",
    "ALIGNS",
    "ANCHORS",
    "BUILTIN_MUSIC",
    "BUNDLED_FONTS",
    "EASINGS",
    "FITS",
    "MOTIONS",
    "POSITIONS",
    "STYLE_KEYS",
    "TEXT_ANIMATIONS",
    "TRANSITIONS",
    "Action",
    "Align",
    "Anchor",
    "Animate",
    "Audio",
    "Box",
    "CaptionStyle",
    "Cue",
    "Easing",
    "Fade",
    "Fit",
    "Motion",
    "Overlay",
    "Position",
    "Prompt",
    "Reframe",
    "Stroke",
    "Subtitles",
    "Text",
    "TextAnimation",
    "Transition",
    "TransitionStyle",
    "action_from_dict",
    "action_kind",
    "action_to_dict",
    "parse_color",
]
