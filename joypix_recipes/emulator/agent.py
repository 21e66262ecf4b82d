"""The fake editing agent: turns a prompt into edits on a session's draft, a short reply, and ADK events.

It understands prompts with the local backend's interpreter, so the emulator edits drafts exactly as
the local backend would. Replies use the GUI wording of the real agent now and then, and a seeded
share of turns carries no text at all, as the real service does.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from joypix_recipes.emulator.layers import labelled_layers, off_the_video_track, take_layers
from joypix_recipes.emulator.state import StoredMedia
from joypix_recipes.emulator.variation import PLAIN, REFUSAL_WORD, Variation
from joypix_recipes.errors import JoypixError
from joypix_recipes.job.actions import (
    BUILTIN_MUSIC,
    Action,
    Animate,
    Audio,
    Fade,
    Overlay,
    Reframe,
    Text,
)
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.timeline.draft import Draft
from joypix_recipes.timeline.edit import add_image, apply_action, new_draft
from joypix_recipes.timeline.interpret import interpret_prompt

AUTHOR = "nemo_agent"
TOOL_NAME = "apply_edit"
_FPS = re.compile(r"[,;]?\s*\b(?:at\s+)?(?<![\d.])(\d{1,3}(?:\.\d{1,3})?)\s*(?:fps|frames per second)\b", re.IGNORECASE)
_MUSIC_WORDS = re.compile(r"\b(music|audio|soundtrack|song|track|bgm)\b", re.IGNORECASE)
_CLOSINGS = (
    "Click Export to download your video.",
    "You can preview in timeline.",
    "Open the timeline to check it.",
    "",
    "",
)


@dataclass(frozen=True)
class EditOutcome:
    """What one prompt did to a draft."""

    draft: Draft
    actions: tuple[Action, ...]
    unknown: tuple[str, ...]
    error: str | None = None

    @property
    def changed(self) -> bool:
        """Whether the draft is different after the turn."""
        return bool(self.actions) and self.error is None


def start_draft() -> Draft:
    """A new session's draft: empty, 9:16 at 1080p, as the service starts projects."""
    return new_draft(ExportSettings(aspect="9:16", resolution="1080p"), 0)


def attach_upload(draft: Draft, media: StoredMedia) -> Draft:
    """An uploaded image becomes the next video clip; other files wait for a prompt to use them."""
    if media.type != "image":
        return draft
    return add_image(draft, media.media_id, media.name)


def edit_draft(draft: Draft, text: str, uploads: Sequence[StoredMedia]) -> EditOutcome:
    """Interpret ``text`` and apply what it asks to ``draft``; never raises for words it does not know."""
    text, fps = _frame_rate(text)
    if fps is not None:
        draft = draft.with_changes(fps=fps)
    text, layers = take_layers(text, uploads)
    interpretation = interpret_prompt(text)
    given: list[Collection[str] | None] = list(interpretation.given) or [None] * len(interpretation.actions)
    steps = list(zip(interpretation.actions, given))
    steps, unknown = _resolve_audio(text, steps, list(interpretation.unknown), uploads)
    steps += [(layer, None) for layer in layers]
    edited = off_the_video_track(draft, layers)
    try:
        for action, fields in steps:
            edited = apply_action(edited, action, fields=fields)
    except (JoypixError, ValueError) as error:
        return EditOutcome(draft, tuple(a for a, _ in steps), tuple(unknown), error=str(error))
    return EditOutcome(labelled_layers(_label_audio(edited, uploads), uploads), tuple(a for a, _ in steps), tuple(unknown))


_Step = tuple[Action, "Collection[str] | None"]


def _frame_rate(text: str) -> tuple[str, str | None]:
    """The prompt without an "N fps" phrase, and N when it was there (the interpreter knows no frame rates).

    N may be a decimal: "29.97 fps" is the NTSC rate, which the draft keeps as an exact fraction.
    """
    found = _FPS.search(text)
    if found is None or not 1 <= float(found.group(1)) <= 120:
        return text, None
    return (text[: found.start()] + text[found.end() :]).strip(), found.group(1)


def refuses(text: str) -> bool:
    """Whether the agent refuses this prompt (a safety-style refusal, for tests and trials)."""
    return REFUSAL_WORD in text.lower()


def user_event(text: str) -> dict[str, Any]:
    """A user message as the agent server records it in the session."""
    return {
        "id": str(uuid.uuid4()),
        "author": "user",
        "timestamp": time.time(),
        "content": {"role": "user", "parts": [{"text": text}]},
    }


def _resolve_audio(
    text: str, steps: list[_Step], unknown: list[str], uploads: Sequence[StoredMedia]
) -> tuple[list[_Step], list[str]]:
    """Point audio at an uploaded file the prompt names (by media id or file name)."""
    audio_files = [media for media in uploads if media.type == "audio"]
    named = [media for media in audio_files if media.media_id in text or media.name in text]
    resolved: list[_Step] = []
    for action, fields in steps:
        if isinstance(action, Audio):
            match = next((m for m in audio_files if action.file in (m.media_id, m.name)), None)
            match = match or next((m for m in audio_files if action.file.endswith("/" + m.name)), None)
            if match is None and named and action.file == BUILTIN_MUSIC:
                match = named[0]
            if match is not None:
                action = replace(action, file=match.media_id)
        resolved.append((action, fields))
    if named and _MUSIC_WORDS.search(text) and not any(isinstance(a, Audio) for a, _ in resolved):
        resolved.append((Audio(file=named[0].media_id), frozenset({"file"})))
    mentioned = {m.name for m in named} | {m.media_id for m in named}
    leftover = [word for word in unknown if not any(word in name or name in word for name in mentioned)]
    return resolved, leftover


def _label_audio(draft: Draft, uploads: Sequence[StoredMedia]) -> Draft:
    """Name an uploaded background track by its file name rather than its media id."""
    names = {media.media_id: media.name for media in uploads}
    labelled = tuple(replace(clip, label=names[clip.src]) if clip.src in names else clip for clip in draft.audio)
    return draft.with_changes(audio=labelled) if labelled != draft.audio else draft


def has_text(seed: int, turn: int, text: str, ratio: float) -> bool:
    """Whether a turn replies with text; the same seed, turn number and prompt always decide alike."""
    return random.Random(f"{seed}:{turn}:{text}").random() >= ratio


def reply_for(outcome: EditOutcome, seed: int, turn: int) -> str:
    """A short reply in the agent's voice, sometimes with GUI wording the client must translate."""
    pick = random.Random(f"reply:{seed}:{turn}")
    if outcome.error is not None:
        return f"I could not apply that edit: {outcome.error}"
    if not outcome.actions:
        words = ", ".join(outcome.unknown) or "that"
        return f'Sorry, I did not understand "{words}". Try "animate this image into a smooth 5-second video clip".'
    done = "; ".join(_describe(action) for action in outcome.actions)
    sentence = f"Done! I {done}."
    if outcome.unknown:
        sentence += f' I did not understand "{", ".join(outcome.unknown)}".'
    closing = pick.choice(_CLOSINGS)
    return f"{sentence} {closing}".strip()


def _describe(action: Action) -> str:
    if isinstance(action, Animate):
        return f"animated the image with a {action.motion} over {action.duration:g} seconds"
    if isinstance(action, Text):
        return f'added the text "{action.content}" at the {action.position}'
    if isinstance(action, Audio):
        return "added the background music"
    if isinstance(action, Fade):
        return "added the fades"
    if isinstance(action, Overlay):
        return "placed the image over the video"
    if isinstance(action, Reframe):
        shape = " ".join(part for part in (action.aspect, action.resolution) if part)
        return f"changed the frame to {shape}"
    return "updated the project"


def split_text(text: str, seed: int) -> list[str]:
    """Two or three streaming chunks that join back into ``text``."""
    count = 2 + random.Random(f"chunks:{seed}:{text}").randint(0, 1)
    if len(text) < count:
        return [text]
    size = -(-len(text) // count)
    return [text[start : start + size] for start in range(0, len(text), size)]


class Invocation:
    """Builds the ADK events of one turn (camelCase keys, one invocation id)."""

    def __init__(self, variation: Variation = PLAIN) -> None:
        self.invocation_id = f"e-{uuid.uuid4()}"
        self.call_id = f"adk-{uuid.uuid4()}"
        self.variation = variation

    def event(self, parts: list[dict[str, Any]], *, partial: bool = False, complete: bool = False) -> dict[str, Any]:
        """One ADK Event."""
        event: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "invocationId": self.invocation_id,
            "author": AUTHOR,
            "timestamp": time.time(),
            "content": {"role": "model", "parts": parts},
            "partial": partial,
        }
        if complete:
            event["turnComplete"] = True
        if self.variation.extra_keys:
            event["usageMetadata"] = {"promptTokenCount": 12, "candidatesTokenCount": 7}
            event["actions"] = {"stateDelta": {}, "artifactDelta": {}}
        return event

    def refusal(self) -> dict[str, Any]:
        """The agent declining the prompt: an event with an error code and message, and no content."""
        event = self.event([])
        del event["content"]
        event.update(errorCode="SAFETY", errorMessage="This request was blocked by the safety filter.", turnComplete=True)
        return event

    def function_call(self, instruction: str) -> dict[str, Any]:
        """The agent calling its edit tool."""
        call = {"id": self.call_id, "name": TOOL_NAME, "args": {"instruction": instruction}}
        return self.event([{"functionCall": call}])

    def function_response(self, summary: str, *, complete: bool) -> dict[str, Any]:
        """The edit tool's result: the draft's one-line summary."""
        response = {"id": self.call_id, "name": TOOL_NAME, "response": {"summary": summary}}
        return self.event([{"functionResponse": response}], complete=complete)

    def text_events(self, text: str, seed: int) -> list[dict[str, Any]]:
        """Streaming chunks with ``partial: true``, then the whole text once more."""
        chunks = [self.event([{"text": chunk}], partial=True) for chunk in split_text(text, seed)]
        return [*chunks, self.event([{"text": text}], complete=True)]
