"""Reading one render poll liberally: whatever words, numbers, scales and link places an honest server chose.

The poll's shape is not documented (docs/protocol.md, "Render status"), so the phase is decided by the
evidence in the whole reply, not by a fixed list of words alone:
1. a known failed word means failed;
2. a known done word means done (a link is still needed before downloading);
3. a download link means done, unless a known "still going" word comes with a progress figure under 100;
4. an error message (not a plain ``message``) with any other word, a number or no status means failed;
5. anything else means still going, until the render deadline.
Progress is given in percent; a fraction (a decimal between 0 and 1, such as 0.42) is read as 42%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

from joypix_recipes.api import endpoints as api

Phase = Literal["running", "done", "failed"]


@dataclass(frozen=True)
class RenderReading:
    """What one poll says: the status as given (text), its phase, progress in percent, link and error."""

    status: str
    phase: Phase
    progress: float
    url: str | None
    error: str | None


def read_render(data: dict[str, Any], base_url: str) -> RenderReading:
    """One poll's ``data`` read by the rules above; ``url`` is absolute (relative links join ``base_url``)."""
    raw_status = api.dig(data, api.RENDER_STATUS_PATHS)
    status = status_text(raw_status)
    word = status.lower().replace("-", "_").replace(" ", "_")
    progress = percent(api.dig(data, api.RENDER_PROGRESS_PATHS))
    url = absolute_link(api.dig_text(data, api.RENDER_URL_PATHS), base_url)
    error_evidence = api.dig_text(data, api.RENDER_ERROR_EVIDENCE_PATHS)
    phase: Phase
    if word in api.RENDER_FAILED_WORDS:
        phase = "failed"
    elif word in api.RENDER_DONE_WORDS:
        phase = "done"
    elif url is not None and not (word in api.RENDER_RUNNING_WORDS and progress is not None and progress < 100):
        phase = "done"
    elif error_evidence is not None and word not in api.RENDER_RUNNING_WORDS:
        phase = "failed"
    else:
        phase = "running"
    error = api.dig_text(data, api.RENDER_ERROR_PATHS) if phase == "failed" else error_evidence
    return RenderReading(status, phase, progress if progress is not None else 0.0, url, error)


def status_text(value: Any) -> str:
    """A status as text: a word stripped, a number as its digits ("2"), anything else empty."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return f"{value:g}"
    return value.strip() if isinstance(value, str) else ""


def percent(value: Any) -> float | None:
    """A progress figure in percent, or None when absent or not a number.

    Numbers and numeric text ("42", "42%", "0.42") are read; a fraction, a decimal number greater than 0
    and at most 1 (0.42, 1.0), is scaled to percent. An integer 1 stays 1%: a fraction reporter's 1 is
    its end, when the link settles the phase anyway. Values are clamped to 0-100.
    """
    fraction = False
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            number = float(text)
        except ValueError:
            return None
        fraction = "." in text and not value.strip().endswith("%")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        fraction = isinstance(value, float)
    else:
        return None
    if not math.isfinite(number):
        return None
    if fraction and 0.0 < number <= 1.0:
        number *= 100.0
    return min(max(number, 0.0), 100.0)


def absolute_link(link: str | None, base_url: str) -> str | None:
    """``link`` as an absolute http(s) URL: relative links (``/files/x.mp4``, ``files/x.mp4``) are resolved
    against the API base URL; anything that is not http(s) then is no link."""
    if not link:
        return None
    link = link.strip()
    if not link.startswith(("http://", "https://")):
        if "/" not in link and "." not in link:
            return None  # a bare word or number is no path
        link = urljoin(base_url.rstrip("/") + "/", link)
    return link if link.startswith(("http://", "https://")) else None
