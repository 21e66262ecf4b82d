"""The unknown-words report: what lies between a sentence's phrases, less filler, is a phrase not understood,
and the phrases it most resembles among those that are."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from joypix_recipes.timeline.interpret.lexicon import FILLER

KNOWN_PHRASES = (
    "zoom in", "zoom out", "slow push in", "pull back", "pan left", "pan right", "pan up", "pan down",
    "tilt up", "tilt down", "ken burns", "static", "subtle zoom", "dramatic zoom", "1.3x zoom", "smooth", "linear",
    "blurred background", "vertical", "square", "horizontal", "9:16", "16:9", "4:5", "1080p", "720p", "480p",
    "5-second video", "10s", "3 seconds", "lo-fi music", "music at 35%", "fade in", "fade out", "1-second fade",
    "0.5-second crossfades", "dip to black", "slide left", "slide right", "wipe left", "wipe right", "no transitions",
)  # fmt: skip
"""Examples of what the interpreter understands, offered in place of a phrase it does not (each reads cleanly)."""

_EVERYDAY = ("zoom in", "fade in", "5-second video")


def nearest_known(phrase: str, count: int = 3) -> tuple[str, ...]:
    """The known phrases most like ``phrase`` (everyday ones when none is alike): short enough for one line."""
    import difflib  # only a prompt with a phrase not understood needs it: most never do

    close = difflib.get_close_matches(phrase.lower(), KNOWN_PHRASES, n=count, cutoff=0.5)
    return tuple(close) or _EVERYDAY[:count]


_CJK_FILLER = sorted((word for word in FILLER if not word.isascii()), key=len, reverse=True)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_RUN_BREAK = re.compile(r"[,:()\[\]{}，、：（）]")


def unknown_phrases(sentence: str, covered: Iterable[tuple[int, int]]) -> Iterator[tuple[int, str]]:
    """Each phrase outside the ``covered`` spans (in order, not overlapping) that is not filler, with its offset."""
    for gap_start, gap_end in _gaps(covered, len(sentence)):
        for piece_start, piece in _pieces(sentence[gap_start:gap_end]):
            phrase = _unknown_phrase(piece)
            if phrase:
                yield gap_start + piece_start, phrase


def _gaps(covered: Iterable[tuple[int, int]], length: int) -> Iterator[tuple[int, int]]:
    position = 0
    for start, end in covered:
        if start > position:
            yield position, start
        position = end
    if position < length:
        yield position, length


def _pieces(text: str) -> Iterator[tuple[int, str]]:
    # Commas and brackets split a gap, so each side is trimmed of filler and reported on its own.
    position = 0
    for match in _RUN_BREAK.finditer(text):
        yield position, text[position : match.start()]
        position = match.end()
    yield position, text[position:]


def _unknown_phrase(piece: str) -> str:
    """The words of a gap that are not filler, trimmed of filler at both ends ("make it look better" -> "look better")."""
    for word in _CJK_FILLER:
        piece = piece.replace(word, " ")
    words = _WORD.findall(piece)
    meaningful = [index for index, word in enumerate(words) if word.replace("’", "'") not in FILLER]
    if not meaningful:
        return ""
    return " ".join(words[meaningful[0] : meaningful[-1] + 1])
