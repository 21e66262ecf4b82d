"""Camera math: windows stay inside the picture, zooms keep the focus still, pans go the named way."""

from __future__ import annotations

import itertools
import math

from hypothesis import given
from hypothesis import strategies as st

from joypix_recipes.render.motion import FULL, Camera, cover_region, ease, focus_in_region


def test_ease_in_out_starts_and_ends_still_and_is_symmetric() -> None:
    assert ease(0.0, "ease-in-out") == 0.0
    assert math.isclose(ease(1.0, "ease-in-out"), 1.0)
    assert math.isclose(ease(0.5, "ease-in-out"), 0.5)
    assert ease(0.1, "ease-in-out") < 0.1 < ease(0.1, "linear") + 1e-12


def test_zoom_in_shrinks_window_linearly_to_one_over_zoom() -> None:
    camera = Camera("zoom-in", zoom=2.0, easing="linear")
    sizes = [camera.window(p / 4).width for p in range(5)]
    assert sizes[0] == 1.0 and math.isclose(sizes[-1], 0.5)
    magnifications = [1 / size for size in sizes]
    steps = [b - a for a, b in itertools.pairwise(magnifications)]
    assert all(math.isclose(step, 0.25) for step in steps)


def test_zoom_keeps_the_focus_point_fixed_on_screen() -> None:
    camera = Camera("zoom-in", zoom=1.5, easing="linear", focus=(0.2, 0.7))
    for progress in (0.0, 0.3, 1.0):
        window = camera.window(progress)
        assert math.isclose((0.2 - window.x) / window.width, 0.2)
        assert math.isclose((0.7 - window.y) / window.height, 0.7)


def test_zoom_out_mirrors_zoom_in() -> None:
    zoom_in = Camera("zoom-in", zoom=1.3, easing="linear")
    zoom_out = Camera("zoom-out", zoom=1.3, easing="linear")
    assert zoom_out.window(0.0) == zoom_in.window(1.0)
    assert zoom_out.window(1.0) == FULL


def test_pan_left_moves_the_window_from_right_to_left() -> None:
    camera = Camera("pan-left", zoom=1.25, easing="linear")
    xs = [camera.window(p / 10).x for p in range(11)]
    assert xs == sorted(xs, reverse=True) and xs[0] > xs[-1] == 0.0


def test_pan_down_moves_the_window_downward() -> None:
    camera = Camera("pan-down", zoom=1.25, easing="linear")
    assert camera.window(0.0).y == 0.0 and math.isclose(camera.window(1.0).y, 0.2)


def test_still_camera_shows_the_whole_base_window() -> None:
    assert Camera("none", zoom=3.0).window(0.7) == FULL


def test_ken_burns_drifts_toward_an_off_centre_focus() -> None:
    camera = Camera("ken-burns", zoom=1.5, easing="linear", focus=(0.9, 0.5))
    start, end = camera.window(0.0), camera.window(1.0)
    assert end.x + end.width / 2 > start.x + start.width / 2


def test_ken_burns_direction_follows_the_seed_when_focus_is_central() -> None:
    ends = {Camera("ken-burns", seed=seed).window(1.0) for seed in range(6)}
    assert len(ends) > 1
    assert Camera("ken-burns", seed=3).window(0.6) == Camera("ken-burns", seed=3).window(0.6)


@given(
    motion=st.sampled_from(["zoom-in", "zoom-out", "pan-left", "pan-right", "pan-up", "pan-down", "ken-burns", "none"]),
    zoom=st.floats(0.5, 4.0),
    focus=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    seed=st.integers(0, 2**31),
    progress=st.floats(0.0, 1.0),
)
def test_every_window_stays_inside_the_base_window(
    motion: str, zoom: float, focus: tuple[float, float], seed: int, progress: float
) -> None:
    window = Camera(motion, zoom, "ease-in-out", focus, seed).window(progress)
    assert 0.0 <= window.x <= 1.0 - window.width + 1e-9
    assert 0.0 <= window.y <= 1.0 - window.height + 1e-9
    assert 0.0 < window.width <= 1.0


def test_cover_region_crops_a_landscape_photo_to_a_centred_portrait_strip() -> None:
    x, y, width, height = cover_region((4000, 3000), (1080, 1920), (0.5, 0.5))
    assert (y, height) == (0.0, 3000.0)
    assert math.isclose(width, 3000 * 1080 / 1920) and math.isclose(x, (4000 - width) / 2)


def test_cover_region_follows_the_focus_but_stays_inside() -> None:
    x, _, width, _ = cover_region((4000, 3000), (1080, 1920), (0.0, 0.5))
    assert x == 0.0
    x, _, width, _ = cover_region((4000, 3000), (1080, 1920), (1.0, 0.5))
    assert math.isclose(x + width, 4000)


def test_focus_is_reexpressed_inside_the_region() -> None:
    assert focus_in_region((0.5, 0.5), (400, 300), (100.0, 0.0, 200.0, 300.0)) == (0.5, 0.5)
    assert focus_in_region((0.0, 0.5), (400, 300), (100.0, 0.0, 200.0, 300.0)) == (0.0, 0.5)
