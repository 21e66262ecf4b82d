"""What a recipe check asks of the interpreter before anything renders: the phrases of a prompt it would not
understand, each with the nearest phrases it does."""

from __future__ import annotations

from joypix_recipes.timeline.interpret.leftovers import nearest_known
from joypix_recipes.timeline.interpret.reading import interpret_prompt


def phrases_not_understood(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each phrase of ``text`` the local interpreter does not understand, in order, with its nearest known phrases."""
    return [(phrase, nearest_known(phrase)) for phrase in interpret_prompt(text).unknown]
