"""Prompt text made ready for the rules: quotes and audio file names lifted out, the rest lower-cased, then sentences.

A lifted quote leaves a marker (private-use characters around its index) so its case and words are kept
whole and no rule reads inside it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"

_QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」|『([^』]*)』|‘([^’]*)’|(?<!\w)\'([^\']+)\'(?!\w)')
_AUDIO_FILE = re.compile(r"(?<![\w./\\-])([\w./\\-]+\.(?:mp3|wav|m4a|aac|ogg|flac))(?![\w])", re.IGNORECASE)
_AUDIO_SUFFIX = re.compile(r"[^\s./\\]\.(?:mp3|wav|m4a|aac|ogg|flac)$", re.IGNORECASE)  # a name, not a bare extension
_SENTENCE_END = re.compile(r"(?:[!?。！？;；\n]|\.(?!\d))+")


@dataclass(frozen=True)
class Quote:
    """A quoted phrase or an unquoted file name, as written."""

    content: str
    is_file: bool  # an unquoted file name, or a quote that names an audio file


def normalize(text: str) -> tuple[str, list[Quote]]:
    """The text lower-cased with each quote replaced by its marker, and the quotes by index."""
    quotes: list[Quote] = []
    pieces: list[str] = []
    position = 0
    for match in _QUOTED.finditer(text):
        pieces.append(_normalize_plain(text[position : match.start()], quotes))
        content = next(group for group in match.groups() if group is not None)
        quotes.append(Quote(content, bool(_AUDIO_SUFFIX.search(content.strip()))))
        pieces.append(f" {MARK_OPEN}{len(quotes) - 1}{MARK_CLOSE} ")
        position = match.end()
    pieces.append(_normalize_plain(text[position:], quotes))
    return "".join(pieces), quotes


def _normalize_plain(text: str, quotes: list[Quote]) -> str:
    text = text.replace(MARK_OPEN, " ").replace(MARK_CLOSE, " ")

    def lift(match: re.Match[str]) -> str:
        quotes.append(Quote(match.group(1), True))
        return f" {MARK_OPEN}{len(quotes) - 1}{MARK_CLOSE} "

    text = _AUDIO_FILE.sub(lift, text)
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("–", "-").replace("—", "-").replace("\u00a0", " ")


def split_sentences(normalized: str) -> Iterator[tuple[int, str]]:
    """Each sentence that is not blank, with its offset in the normalized text."""
    position = 0
    for end in [match.start() for match in _SENTENCE_END.finditer(normalized)] + [len(normalized)]:
        if normalized[position:end].strip():
            yield position, normalized[position:end]
        position = end + 1
