"""Prompt text -> edit actions: a small rule-based reader of the everyday phrases people ask the cloud agent.

The local backend and the emulator share it. It reads each sentence left to right: phrase rules find
durations, motions, titles, music, fades and sizes; what no rule and no filler word covers is unknown.
Inside: ``reading`` (the entry point) -> ``texts`` -> ``rules`` | ``leftovers`` -> ``lexicon`` | ``normalization``.
"""

from joypix_recipes.timeline.interpret.lexicon import DEFAULT_FADE_S, ZOOM_WORDS, vocabulary
from joypix_recipes.timeline.interpret.reading import Interpretation, interpret_prompt

__all__ = ["DEFAULT_FADE_S", "ZOOM_WORDS", "Interpretation", "interpret_prompt", "vocabulary"]
