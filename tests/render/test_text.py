"""Text overlays: placed inside the safe areas, wrapped to fit, faded in and out."""

from __future__ import annotations

from joypix_recipes.render.text import build_overlays, safe_area
from joypix_recipes.timeline.draft import Draft, TextClip, VideoClip


def test_safe_area_on_vertical_video_skips_top_14_and_bottom_20_percent() -> None:
    area = safe_area(1080, 1920)
    assert area.top >= round(1920 * 0.14) and area.bottom <= round(1920 * 0.80)
    assert 0 < area.left < area.right < 1080


def test_safe_area_on_landscape_keeps_small_margins() -> None:
    area = safe_area(1920, 1080)
    assert area.top < 1080 * 0.14 and area.bottom > 1080 * 0.8


def test_long_text_wraps_inside_the_safe_width_and_band() -> None:
    text = "A caption far too long to fit on one line of a vertical video, so it must wrap " * 2
    draft = Draft(text=(TextClip(text, position="bottom", size=72),))
    (overlay,) = build_overlays(draft)
    area = safe_area(1080, 1920)
    height, width = overlay.planes.y.shape
    assert overlay.left >= area.left - 2 and overlay.left + width <= area.right + 2
    assert overlay.top + height <= area.bottom and overlay.top >= area.top
    assert height > 3 * 72 * 0.9  # several lines


def test_top_title_starts_at_the_safe_top_and_positions_are_even() -> None:
    (overlay,) = build_overlays(Draft(text=(TextClip("Title", position="top"),)))
    assert overlay.top == safe_area(1080, 1920).top - safe_area(1080, 1920).top % 2
    assert overlay.top % 2 == 0 and overlay.left % 2 == 0 and overlay.planes.y.shape[0] % 2 == 0


def test_opacity_ramps_over_the_fade_and_stops_at_the_end() -> None:
    draft = Draft(video=(VideoClip("img", 5000),), text=(TextClip("Hi", start_ms=1000, duration_ms=2000, fade_ms=500),))
    (overlay,) = build_overlays(draft)
    assert overlay.opacity(999) == 0.0
    assert overlay.opacity(1250) == 0.5
    assert overlay.opacity(2000) == 1.0
    assert overlay.opacity(2750) == 0.5
    assert overlay.opacity(3000) == 0.0


def test_blank_text_makes_no_overlay() -> None:
    assert build_overlays(Draft(text=(TextClip("   "),))) == []
