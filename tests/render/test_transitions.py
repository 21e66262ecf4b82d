"""Several images in one clip, rendered to MP4 and decoded: transitions move edges as promised, moves vary per image."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from helpers.video import decoded_frames, same_pictures
from PIL import Image

from joypix_recipes.render.video import render_draft
from joypix_recipes.timeline.draft import Draft, VideoClip

from .conftest import SMALL, solid

ImageFile = Callable[..., Path]
RED, BLUE = (255, 0, 0), (0, 0, 255)
FRAMES_PER_TRANSITION = 9  # 300 ms at 30 fps
FIRST_OVERLAP_FRAME = 9  # the blue image starts at 600 - 300 ms


def red_then_blue(image_file: ImageFile, tmp_path: Path, kind: str, transition_ms: int = 300) -> list[np.ndarray]:
    red, blue = image_file(solid(RED), "red.png"), image_file(solid(BLUE), "blue.png")
    draft = Draft(
        width=SMALL[0],
        height=SMALL[1],
        fps=30,
        video=(
            VideoClip("red", 600, motion="none"),
            VideoClip("blue", 600, motion="none", transition_ms=transition_ms, transition=kind),
        ),
    )
    frames = decoded_frames(render_draft(draft, {"red": red, "blue": blue}, tmp_path / f"{kind}.mp4").output)
    assert len(frames) == round((1200 - transition_ms) * 30 / 1000)
    return frames


def is_blue(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., 2].astype(int) > pixels[..., 0].astype(int)


def first_blue_column(frame: np.ndarray, row: int = 160) -> int:
    blue = np.flatnonzero(is_blue(frame[row]))
    return int(blue[0]) if blue.size else SMALL[0]


def last_blue_column(frame: np.ndarray, row: int = 160) -> int:
    blue = np.flatnonzero(is_blue(frame[row]))
    return int(blue[-1]) + 1 if blue.size else 0


def test_slide_left_moves_the_edge_left_by_width_over_frames_each_frame(image_file: ImageFile, tmp_path: Path) -> None:
    frames = red_then_blue(image_file, tmp_path, "slide-left")
    step = SMALL[0] // FRAMES_PER_TRANSITION  # 20 pixels per frame
    overlap = range(FIRST_OVERLAP_FRAME, FIRST_OVERLAP_FRAME + FRAMES_PER_TRANSITION)
    edges = [first_blue_column(frames[index]) for index in overlap]
    expected = [SMALL[0] - step * k for k in range(FRAMES_PER_TRANSITION)]
    assert all(abs(edge - want) <= 2 for edge, want in zip(edges, expected, strict=True)), (edges, expected)
    assert first_blue_column(frames[FIRST_OVERLAP_FRAME + FRAMES_PER_TRANSITION]) == 0


def test_slide_right_brings_the_next_image_in_from_the_left(image_file: ImageFile, tmp_path: Path) -> None:
    frames = red_then_blue(image_file, tmp_path, "slide-right")
    step = SMALL[0] // FRAMES_PER_TRANSITION
    edges = [last_blue_column(frames[FIRST_OVERLAP_FRAME + k]) for k in range(FRAMES_PER_TRANSITION)]
    assert all(abs(edge - step * k) <= 2 for k, edge in enumerate(edges)), edges


def test_wipe_right_reveals_from_the_left_and_slide_up_from_below(image_file: ImageFile, tmp_path: Path) -> None:
    wipe = red_then_blue(image_file, tmp_path, "wipe-right")
    middle = FIRST_OVERLAP_FRAME + 4  # 4/9 of the way
    assert abs(last_blue_column(wipe[middle]) - 80) <= 2
    slide = red_then_blue(image_file, tmp_path, "slide-up")
    column = slide[middle][:, 90]
    assert not is_blue(column[:150]).any() and is_blue(column[-130:]).all()  # blue has come 142 rows up


def test_dip_to_black_is_black_half_way(image_file: ImageFile, tmp_path: Path) -> None:
    frames = red_then_blue(image_file, tmp_path, "dip-to-black", transition_ms=400)
    half_way = frames[round(200 * 30 / 1000) + 6]  # the overlap starts at 200 ms; 6 of its 12 frames
    assert half_way.max() < 30
    quarter = frames[6 + 3].astype(int)[160, 90]
    assert 90 < quarter[0] < 170 and quarter[2] < 30  # red, half faded


def test_zoom_grows_the_next_image_from_the_centre(image_file: ImageFile, tmp_path: Path) -> None:
    frames = red_then_blue(image_file, tmp_path, "zoom")
    middle = frames[FIRST_OVERLAP_FRAME + 4]
    assert is_blue(middle[150:170, 80:100]).all()
    assert not is_blue(middle[:20, :20]).any() and not is_blue(middle[-20:, -20:]).any()


def test_crossfade_midpoint_is_an_even_blend(image_file: ImageFile, tmp_path: Path) -> None:
    frames = red_then_blue(image_file, tmp_path, "crossfade", transition_ms=400)
    red, _, blue = frames[6 + 6].astype(int)[160, 90]
    assert abs(red - blue) < 30 and 90 < red < 170


def test_ken_burns_drifts_each_image_its_own_way_and_the_seed_repeats_it(image_file: ImageFile, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    texture = Image.fromarray(rng.integers(0, 255, (24, 14, 3), dtype=np.uint8)).resize((360, 640))
    photo = image_file(texture, "photo.png")
    clip = VideoClip("photo", 500, motion="ken-burns", zoom=1.5, easing="linear")
    draft = Draft(width=SMALL[0], height=SMALL[1], fps=30, seed=5, video=(clip, clip))
    first = render_draft(draft, {"photo": photo}, tmp_path / "a.mp4").output
    again = render_draft(draft, {"photo": photo}, tmp_path / "b.mp4").output
    assert same_pictures(first, again)
    frames = decoded_frames(tmp_path / "a.mp4")
    # The same picture ends its move somewhere else the second time round.
    assert np.abs(frames[14].astype(int) - frames[29].astype(int)).mean() > 10
