"""Structured recipe steps -> the plain-English prompts the cloud agent is sent.

Each kind words itself (``job.kinds``); this module hands it what it needs from here (the uploaded
audio's name, the image count, the interpreter's zoom words) and words the frame and a group's order.
Each prompt reads back through ``interpret.interpret_prompt`` to an equivalent action (a tested property),
so the emulator, which understands prompts with that interpreter, edits drafts as the local backend does.
"""

from __future__ import annotations

from fractions import Fraction

from joypix_recipes.job.actions import Action
from joypix_recipes.job.export import fps_label
from joypix_recipes.job.kinds.kind import Wording
from joypix_recipes.job.kinds.registry import kind_of
from joypix_recipes.timeline.interpret import ZOOM_WORDS


def prompt_for(
    action: Action, *, audio_name: str | None = None, images: int = 1, overlay_name: str | None = None
) -> str:
    """The agent prompt for one step; ``audio_name`` is how the uploaded audio file is known to the agent,
    ``overlay_name`` how an overlay's uploaded image is.

    ``images`` is how many images the session holds: a group's camera move is asked for each of them.
    """
    wording = Wording(audio_name=audio_name, images=images, zoom_words=ZOOM_WORDS, overlay_name=overlay_name)
    return kind_of(action).phrase(action, wording)


def format_request(aspect: str, resolution: str, fps: Fraction) -> str:
    """The frame a job wants, in words the agent reads (sent with the first step, not as a turn of its own)."""
    return f"Make the video {aspect} at {resolution}, {fps_label(fps)} fps."


def sequence_request(count: int) -> str:
    """A group's order, in words: the images play as they were uploaded (sent with the first step)."""
    return f"Play the {count} uploaded images one after another in the order they were uploaded."
