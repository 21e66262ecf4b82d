"""The preview backend: the local backend rendering a job's timeline as a draft.

A draft is the same timeline (steps, motion, text, audio, every time) in a frame a third of the final's,
at a lower frame rate, through the fastest encoder setting. Text and positions are laid out relative
to the frame, so they scale with it. It reads no options but the worker count: it never talks to a server.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from joypix_recipes.backends.contract import Backend, BackendOptions
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.render.encode import DRAFT
from joypix_recipes.timeline.draft import Draft

SCALE = 3
"""A draft's frame is the final's divided by this, both sides (even, as yuv420p needs)."""
PREVIEW_FPS = Fraction(12)
"""A draft's frame rate; a final slower than this keeps its own."""


@dataclass(frozen=True)
class PreviewExport:
    """How a draft is encoded: its frame size, frame rate and encoder setting."""

    width: int
    height: int
    fps: Fraction
    quality: str = DRAFT


def preview_size(width: int, height: int) -> tuple[int, int]:
    """A third of a frame size, each side even and at least 2."""
    return _even(width / SCALE), _even(height / SCALE)


def preview_fps(fps: Fraction) -> Fraction:
    """The draft's frame rate for a final at ``fps``."""
    return min(Fraction(fps), PREVIEW_FPS)


def preview_export(export: ExportSettings) -> PreviewExport:
    """The draft export of a final's export settings."""
    width, height = preview_size(*export.size)
    return PreviewExport(width=width, height=height, fps=preview_fps(export.fps))


def preview_draft(draft: Draft) -> Draft:
    """The same timeline in the draft's frame and frame rate; every time stays as it is.

    Applied to the built timeline rather than the export, since a prompt may have reframed the clip.
    """
    width, height = preview_size(draft.width, draft.height)
    return replace(draft, width=width, height=height, fps=preview_fps(draft.fps))


def preview_backend(options: BackendOptions) -> Backend:
    """The local backend set to render drafts, with a worker pool of its own."""
    from joypix_recipes.backends.local import LocalBackend

    return LocalBackend(BackendOptions(workers=options.workers), reshape=preview_draft, quality=DRAFT)


def _even(value: float) -> int:
    return max(2, int(round(value / 2.0)) * 2)
