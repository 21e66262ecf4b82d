"""``--vary SEED``: per session, plausible shapes the protocol leaves open, so a client cannot lean on ours.

Each session draws its own ``Variation`` from the seed and the session's number: where the upload
reply puts the file id (or leaves it out), unknown keys added to every reply and event, the keys the
draft's segments use, the render status words before completion, where the download link sits,
whether the session reply names the user, long silences without heartbeats, a trailing error
frame after an edit has landed, and whether render polls carry a progress figure. Without a seed
every session gets ``PLAIN``, the emulator's usual shapes.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from typing import Any, Literal

UploadShape = Literal["flat", "absent", "nested", "renamed", "listed"]
SegmentKeys = Literal["ours", "own"]
UrlShape = Literal["flat", "nested", "renamed"]

UPLOAD_SHAPES: tuple[UploadShape, ...] = ("flat", "absent", "nested", "renamed", "listed")
RUNNING_WORDS = (("queued", "rendering"), ("pending", "processing"), ("submitted", "in_progress"), ("waiting", "encoding"))
DONE_WORDS = ("completed", "succeeded", "done", "success")
REFUSAL_WORD = "forbidden-content"
"""A prompt containing this word is refused with an ``errorCode`` event (a safety-style refusal), in every mode."""


@dataclass(frozen=True)
class Variation:
    """The undocumented shapes one session answers with."""

    upload: UploadShape = "flat"
    extra_keys: bool = False
    segment_keys: SegmentKeys = "ours"
    running_words: tuple[str, str] = ("queued", "rendering")
    done_word: str = "completed"
    url: UrlShape = "flat"
    names_user: bool = False
    silent_thinking: bool = False
    error_frame_after_edit: bool = False
    shows_progress: bool = True

    def decorate(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with unknown keys added, when this session adds them."""
        if not self.extra_keys:
            return data
        return {**data, "trace_id": secrets.token_hex(6), "x_region": "emu-1", "flags": {"beta": True}}

    def upload_reply(self, info: dict[str, Any]) -> dict[str, Any]:
        """An upload reply in this session's shape (``info`` has media_id, name, type, size)."""
        rest = {k: v for k, v in info.items() if k != "media_id"}
        if self.upload == "absent":
            return self.decorate(rest)
        if self.upload == "nested":
            return self.decorate({"file": {"id": info["media_id"], **rest}})
        if self.upload == "renamed":
            return self.decorate({"id": info["media_id"], **rest})
        if self.upload == "listed":
            return self.decorate({"files": [{"id": info["media_id"], **rest}], "count": 1})
        return self.decorate(dict(info))

    def status_word(self, status: str) -> str:
        """The word this session uses for one of the emulator's render states."""
        if status == "queued":
            return self.running_words[0]
        if status == "rendering":
            return self.running_words[1]
        if status == "completed":
            return self.done_word
        return status

    def place_url(self, info: dict[str, Any], url: str) -> None:
        """Put the download link where this session puts it."""
        if self.url == "nested":
            info["output"] = {"url": url, "format": "mp4"}
        elif self.url == "renamed":
            info["downloadUrl"] = url
        else:
            info["url"] = url


PLAIN = Variation()


def draw(seed: int, ordinal: int) -> Variation:
    """The variation of the ``ordinal``-th session under ``seed`` (the same pair always draws the same)."""
    pick = random.Random(f"vary:{seed}:{ordinal}")
    running = pick.choice(RUNNING_WORDS)
    return Variation(
        upload=pick.choice(UPLOAD_SHAPES),
        extra_keys=pick.random() < 0.7,
        segment_keys=pick.choice(("ours", "own")),
        running_words=running,
        done_word=pick.choice(DONE_WORDS),
        url=pick.choice(("flat", "nested", "renamed")),
        names_user=pick.random() < 0.5,
        silent_thinking=pick.random() < 0.4,
        error_frame_after_edit=pick.random() < 0.3,
        shows_progress=pick.random() < 0.7,
    )
