"""Subtitle files (.srt with `srt`, .vtt with `webvtt-py`) read into timed captions when a recipe is planned.

Each library is imported when a file of its kind is read, so recipes without subtitles never load them.
"""

from __future__ import annotations

import re
from pathlib import Path

from joypix_recipes.job.kinds.subtitles import Cue

_MARKUP = re.compile(r"<[^>]+>")  # SRT allows <i>, <b>, <font ...>; captions are drawn in one style


def read_cues(path: Path) -> tuple[Cue, ...]:
    """The captions of a .srt or .vtt file in time order; raises ValueError with a one-line reason."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read it ({error.__class__.__name__})") from error
    if path.suffix.lower() == ".vtt":
        cues = _vtt(path)
    else:
        cues = _srt(text)
    cues = [cue for cue in cues if cue.content and cue.end > cue.start]
    if not cues:
        raise ValueError("it has no captions")
    return tuple(sorted(cues, key=lambda cue: cue.start))


def _srt(text: str) -> list[Cue]:
    import srt

    try:
        parsed = list(srt.parse(text))
    except (srt.SRTParseError, srt.TimestampParseError) as error:
        raise ValueError(f"it is not a valid SRT file ({str(error).splitlines()[0]})") from error
    return [Cue(entry.start.total_seconds(), entry.end.total_seconds(), _plain(entry.content)) for entry in parsed]


def _vtt(path: Path) -> list[Cue]:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = webvtt.read(str(path))
    except (MalformedFileError, MalformedCaptionError) as error:
        raise ValueError(
            f"it is not a valid WebVTT file ({str(error).splitlines()[0] if str(error) else 'malformed'})"
        ) from error
    return [
        Cue(
            caption.start_time.in_milliseconds() / 1000, caption.end_time.in_milliseconds() / 1000, _plain(caption.text)
        )
        for caption in captions.captions
    ]


def _plain(text: str) -> str:
    return "\n".join(line.strip() for line in _MARKUP.sub("", text).splitlines() if line.strip())
