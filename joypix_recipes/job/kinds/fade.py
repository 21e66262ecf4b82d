"""The ``fade`` kind: fade from black at the start and to black at the end."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from joypix_recipes.job.kinds.kind import Action, Field, Kind, T, Wording, stated
from joypix_recipes.job.kinds.wording import seconds


@dataclass(frozen=True)
class Fade(Action):
    """Fade from black at the start and to black at the end, in seconds (YAML keys ``in``/``out``)."""

    fade_in: float = 0.0
    fade_out: float = 0.0


class FadeKind(Kind[Fade]):
    """Written ``fade: {in: 0.5, out: 1}``; a prompt may state only one side."""

    name = "fade"
    action = Fade
    definition = "Fade"
    fields = (Field("in", "number", attribute="fade_in"), Field("out", "number", attribute="fade_out"))

    def apply(self, action: Fade, timeline: T, fields: Collection[str] | None = None) -> T:
        changes = stated(action, fields)
        return timeline.set_fades(changes.get("fade_in"), changes.get("fade_out"))

    def phrase(self, action: Fade, wording: Wording) -> str:
        if not action.fade_in and not action.fade_out:
            return "No fade-in and no fade-out."
        fade_in = f"Fade in from black over {seconds(action.fade_in)}" if action.fade_in else ""
        fade_out = f"fade out to black over {seconds(action.fade_out)}" if action.fade_out else ""
        if fade_in and fade_out:
            return f"{fade_in} and {fade_out}."
        if fade_in:
            return f"{fade_in}, with no fade-out."
        return f"{fade_out[0].upper()}{fade_out[1:]}, with no fade-in."
