"""Reading a prompt: tokens -> actions, sentence by sentence, with a subject (the video, the music, or a text) per sentence.

This is the entry point: ``interpret_prompt(text) -> Interpretation(actions, unknown, given)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from joypix_recipes.timeline.interpret.leftovers import unknown_phrases
from joypix_recipes.timeline.interpret.lexicon import ADDING, ADDING_CJK, DEFAULT_FADE_S
from joypix_recipes.timeline.interpret.normalization import Quote, normalize, split_sentences
from joypix_recipes.timeline.interpret.rules import WORD_END, WORD_START, Token, find_tokens, is_usable
from joypix_recipes.timeline.interpret.texts import TEXT_MODIFIERS, TEXT_ONLY, TextDraft

if TYPE_CHECKING:
    from joypix_recipes.job.kinds.kind import Action


@dataclass(frozen=True)
class Interpretation:
    """What a prompt asks for, and the words in it that were not understood.

    ``given[i]`` names the fields of ``actions[i]`` the text actually stated ("make it 10 seconds"
    states only ``duration``); pass it to ``edit.apply_action(..., fields=...)`` to keep the rest.
    """

    actions: tuple[Action, ...]
    unknown: tuple[str, ...]
    given: tuple[frozenset[str], ...] = ()


def interpret_prompt(text: str) -> Interpretation:
    """Read a prompt into actions; never raises, whatever the text."""
    normalized, quotes = normalize(text)
    reading = _Reading(quotes)
    for offset, sentence in split_sentences(normalized):
        reading.read_sentence(sentence, offset)
    return reading.result()


@cache
def _adding() -> re.Pattern[str]:
    # Compiled when a sentence first names music: most prompts never do.
    return re.compile(WORD_START + ADDING + WORD_END + "|" + ADDING_CJK)


_VIDEO_SUBJECT = frozenset({"motion", "strength", "zoom_x", "easing", "fit", "duration", "for"})


@dataclass
class _Reading:
    quotes: list[Quote]
    animate: dict[str, Any] = field(default_factory=dict)
    fade: dict[str, float] = field(default_factory=dict)
    audio: dict[str, Any] = field(default_factory=dict)
    reframe: dict[str, str] = field(default_factory=dict)
    transition: dict[str, Any] = field(default_factory=dict)
    texts: list[TextDraft] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    offset: int = 0

    def read_sentence(self, sentence: str, offset: int) -> None:
        self.offset = offset
        tokens = find_tokens(sentence)
        has_audio = any(token.kind == "music" or self._is_audio_quote(token, None) for token in tokens)
        subject: str | TextDraft = "video"
        pending: list[Token] = []
        text_word: Token | None = None
        previous: Token | None = None
        for token in tokens:
            kind = token.kind
            if not is_usable(token):
                self._report(token)  # a phrase we know, with a value we cannot use ("0 seconds", "900%")
            elif kind == "quote":
                quote = self.quotes[token.value]
                if self._is_audio_quote(token, previous):
                    self.audio["file"] = quote.content
                    subject = "audio"
                elif quote.content.strip():
                    subject = TextDraft(quote.content, kind=text_word.value if text_word else None)
                    text_word = None
                    for early in pending:
                        subject.apply(early)
                    pending = []
                    self.texts.append(subject)
            elif kind == "text_word":
                if isinstance(subject, TextDraft) and subject.kind is None:
                    subject.kind = token.value  # 'add "Sale" as the title'
                else:
                    self._report(text_word)
                    text_word = token
            elif kind in TEXT_MODIFIERS and isinstance(subject, TextDraft):
                subject.apply(token)
            elif kind in TEXT_ONLY or (kind == "to_end" and text_word is not None):
                pending.append(token)
            elif kind == "music":
                subject = "audio"
                self._music(token, sentence)
            elif kind == "volume":
                if subject == "audio" or has_audio:
                    self.audio["volume"] = token.value
                else:
                    self._report(token)
            elif kind in ("fade", "no_fade"):
                self._fade(token, to_audio=subject == "audio")
            elif kind == "transition":
                transition_kind, seconds = token.value
                self.transition = (
                    {"kind": transition_kind} if seconds is None else {"kind": transition_kind, "duration": seconds}
                )
            elif kind == "sequence":
                pass  # images already play in the order they were added
            else:
                if kind in _VIDEO_SUBJECT:
                    subject = "video"
                self._video(token)
            previous = token
        for token in pending:
            self._report(token)
        self._report(text_word)
        for position, phrase in unknown_phrases(sentence, ((token.start, token.end) for token in tokens)):
            self.unknown.append((self.offset + position, phrase))

    def _is_audio_quote(self, token: Token, previous: Token | None) -> bool:
        if token.kind != "quote":
            return False
        return self.quotes[token.value].is_file or (previous is not None and previous.kind == "music")

    def _music(self, token: Token, sentence: str) -> None:
        # "add lo-fi music" asks for a track; "the music at 20%" or "music volume" means the one already there.
        if token.value or _adding().search(sentence[: token.start]):
            from joypix_recipes.job.kinds.audio import BUILTIN_MUSIC

            self.audio.setdefault("file", BUILTIN_MUSIC)

    def _fade(self, token: Token, to_audio: bool) -> None:
        if token.kind == "no_fade":
            sides = ("in", "out") if token.value == "both" else (token.value,)
            seconds: float = 0.0
            target = self.audio if to_audio else self.fade
        else:
            direction, length, where = token.value
            sides = ("in", "out") if direction == "both" else (direction,)
            seconds = DEFAULT_FADE_S if length is None else length
            target = self.audio if (where or ("audio" if to_audio else "video")) == "audio" else self.fade
        for side in sides:
            target[f"fade_{side}"] = seconds

    def _video(self, token: Token) -> None:
        kind, value = token.kind, token.value
        if kind == "motion":
            self.animate["motion"] = value
        elif kind in ("strength", "zoom_x"):
            self.animate["zoom"] = value
        elif kind == "easing":
            self.animate["easing"] = value
        elif kind == "fit":
            self.animate["fit"] = value
        elif kind in ("duration", "for"):
            self.animate["duration"] = value
        elif kind == "aspect":
            self.reframe["aspect"] = value
        elif kind == "resolution":
            self.reframe["resolution"] = value
        elif kind == "to_end":
            pass  # "until the end" with nothing to end is harmless
        else:
            self._report(token)

    def _report(self, token: Token | None) -> None:
        if token is not None:
            self.unknown.append((self.offset + token.start, token.text.strip()))

    def result(self) -> Interpretation:
        # Each kind's module (a data class, costly to build) loads only when the prompt asks for that kind:
        # ``joypix validate`` reads every prompt, and most ask for two or three kinds.
        actions: list[Action] = []
        given: list[frozenset[str]] = []
        if self.reframe:
            from joypix_recipes.job.kinds.reframe import Reframe

            actions.append(Reframe(**self.reframe))
            given.append(frozenset(self.reframe))
        if self.animate:
            from joypix_recipes.job.kinds.animate import Animate

            stated = dict(self.animate)
            if stated.get("motion") == "none":
                stated.setdefault("zoom", Animate.zoom)  # a still shot has no zoom of its own to keep
            actions.append(Animate(**stated))
            given.append(frozenset(stated))
        if self.fade:
            from joypix_recipes.job.kinds.fade import Fade

            actions.append(Fade(**self.fade))
            given.append(frozenset(self.fade))
        if self.transition:
            from joypix_recipes.job.kinds.transition import Transition

            actions.append(Transition(**self.transition))
            given.append(frozenset(self.transition))
        audio = dict(self.audio)
        if audio:
            from joypix_recipes.job.kinds.audio import BUILTIN_MUSIC, Audio

            actions.append(Audio(**{"file": BUILTIN_MUSIC, **audio}))
            given.append(frozenset(audio))
        for text in self.texts:
            actions.append(text.action())
            given.append(frozenset({"content", "position", "start", "end", "size"}))
        unknown = tuple(phrase for _, phrase in sorted(self.unknown))
        return Interpretation(tuple(actions), unknown, tuple(given))
