"""The draft a preview renders: a third of the frame (even, same aspect), at most 12 fps, every time kept."""

from __future__ import annotations

from fractions import Fraction

import pytest

from joypix_recipes.backends.preview import preview_draft, preview_export
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.render.encode import DRAFT
from joypix_recipes.timeline.draft import Draft


@pytest.mark.parametrize(
    ("aspect", "resolution", "size"),
    [("9:16", "1080p", (360, 640)), ("16:9", "720p", (426, 240)), ("1:1", "480p", (160, 160)), ("4:5", "1080p", (360, 450))],
)
def test_preview_export_is_a_third_of_the_frame_in_even_pixels(aspect: str, resolution: str, size: tuple[int, int]) -> None:
    export = ExportSettings(aspect=aspect, resolution=resolution, fps=Fraction(30))  # type: ignore[arg-type]

    draft = preview_export(export)

    assert (draft.width, draft.height) == size
    assert draft.width % 2 == 0 and draft.height % 2 == 0
    assert draft.fps == 12 and draft.quality == DRAFT


def test_a_final_slower_than_the_preview_rate_keeps_its_own() -> None:
    assert preview_export(ExportSettings(fps=Fraction(10))).fps == 10
    assert preview_export(ExportSettings(fps=Fraction(30000, 1001))).fps == 12


def test_preview_draft_keeps_every_time_and_shrinks_only_the_frame() -> None:
    final = Draft(width=1080, height=1920, fps=Fraction(30), seed=7, fade_in_ms=400, fade_out_ms=600)

    draft = preview_draft(final)

    assert (draft.width, draft.height, draft.fps) == (360, 640, 12)
    assert (draft.seed, draft.fade_in_ms, draft.fade_out_ms, draft.duration_ms) == (7, 400, 600, final.duration_ms)
