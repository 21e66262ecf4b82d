"""The ``prompt`` kind: free text for the editing agent, which the local backend interprets first."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from joypix_recipes.job.kinds.kind import Action, Field, Kind, T, Wording


@dataclass(frozen=True)
class Prompt(Action):
    """Free text for the editing agent (already templated)."""

    text: str


class PromptKind(Kind[Prompt]):
    """Written ``prompt: some words``; its JSON form is that string."""

    name = "prompt"
    action = Prompt
    definition = "Step"  # no body of its own: the schema describes it inside Step
    fields = (Field("text", "text"),)
    shorthand = "text"

    def to_body(self, action: Prompt) -> Any:
        return action.text

    def from_body(self, body: Any) -> Prompt:
        return Prompt(text=str(body))

    def apply(self, action: Prompt, timeline: T, fields: Collection[str] | None = None) -> T:
        raise ValueError("a prompt must be interpreted into actions before it is applied")

    def phrase(self, action: Prompt, wording: Wording) -> str:
        return action.text
