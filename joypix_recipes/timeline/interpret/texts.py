"""A title or caption as a sentence states it (position, timing, size), and the Text action it becomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from joypix_recipes.timeline.interpret.lexicon import TEXT_KINDS
from joypix_recipes.timeline.interpret.rules import Token

if TYPE_CHECKING:
    from joypix_recipes.job.kinds.text import Text

TEXT_MODIFIERS = frozenset({"position", "first", "span", "start", "to_end", "for", "size"})
"""Token kinds a text takes when it is the sentence's subject."""

TEXT_ONLY = frozenset({"position", "first", "span", "start", "size"})
"""Token kinds that only a text can take, so they wait for one when they come before its quote."""


@dataclass
class TextDraft:
    """A text being read: its words, the word that named it ("title", "caption") and what was said of it."""

    content: str
    kind: str | None = None
    position: str | None = None
    start: float = 0.0
    end: float | None = None
    length: float | None = None
    size: float | None = None

    def apply(self, token: Token) -> None:
        """Take a modifier token (one of ``TEXT_MODIFIERS``)."""
        if token.kind == "position":
            self.position = token.value
        elif token.kind == "first":
            self.start, self.end = 0.0, token.value
        elif token.kind == "span":
            self.start, self.end = token.value
        elif token.kind == "start":
            self.start = token.value
        elif token.kind == "to_end":
            self.end, self.length = None, None
        elif token.kind == "for":
            self.length = token.value
        elif token.kind == "size":
            self.size = token.value

    def action(self) -> Text:
        """The Text action, with defaults for what was not said; an end at or before the start means no end."""
        # the text kind (and its caption styles) only for a prompt with a text
        from joypix_recipes.job.kinds.text import Text

        position = self.position or TEXT_KINDS.get(self.kind or "", "bottom")
        end = self.start + self.length if self.length is not None else self.end
        if end is not None and end <= self.start:
            end = None
        size = self.size or Text.size
        return Text(content=self.content, position=position, start=self.start, end=end, size=size)  # type: ignore[arg-type]
