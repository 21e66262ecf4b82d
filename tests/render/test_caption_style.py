"""Styled captions and subtitles, decoded from the MP4: the requested colours land in the caption's band, in its time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.video import decoded_frames
from PIL import Image

from joypix_recipes.job.actions import Box, CaptionStyle, Cue, Stroke, Subtitles
from joypix_recipes.render.video import render_draft
from joypix_recipes.timeline.draft import Draft, TextClip, VideoClip
from joypix_recipes.timeline.edit import apply_action

GREY = (128, 128, 128)
WIDTH, HEIGHT, FPS = 360, 640, 10


@pytest.fixture
def grey_photo(tmp_path: Path) -> Path:
    path = tmp_path / "grey.png"
    Image.new("RGB", (WIDTH, HEIGHT), GREY).save(path)
    return path


def still(duration_ms: int, *text: TextClip) -> Draft:
    video = (VideoClip("img", duration_ms, motion="none", zoom=1.0),)
    return Draft(width=WIDTH, height=HEIGHT, fps=FPS, video=video, text=text)


def rgb_frames(path: Path) -> list[np.ndarray]:
    """Every frame's RGB pixels, as ints so differences fit."""
    return [frame.astype(int) for frame in decoded_frames(path)]


def share_near(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 30) -> float:
    distance = np.abs(pixels - np.array(colour)).max(axis=-1)
    return float((distance <= tolerance).mean())


def test_styled_caption_paints_its_band_in_the_requested_colours(grey_photo: Path, tmp_path: Path) -> None:
    style = CaptionStyle(
        font="sans-bold",
        color="#FFD400",
        stroke=Stroke(width=0, color="black"),
        box=Box(color="navy", padding=40, radius=0),
        animate="none",
    )
    caption = TextClip("MMMM", position="center", size=120, fade_ms=0, style=style)
    frame = rgb_frames(render_draft(still(300, caption), {"img": grey_photo}, tmp_path / "o.mp4").output)[1]

    band = frame[HEIGHT // 2 - 10 : HEIGHT // 2 + 10, WIDTH // 3 : 2 * WIDTH // 3]  # across the letters
    assert share_near(band, (0, 0, 128)) > 0.2, "the navy plate"
    assert share_near(band, (255, 212, 0)) > 0.2, "the gold letters"
    assert share_near(band, GREY) < 0.05, "the band is covered"
    assert share_near(frame[: HEIGHT // 4], GREY) > 0.99, "the picture above the caption is untouched"


def test_left_aligned_caption_starts_at_the_safe_left_edge(grey_photo: Path, tmp_path: Path) -> None:
    style = CaptionStyle(box=Box(color="red", padding=10, radius=0), align="left", animate="none")
    caption = TextClip("Hi", position="center", size=80, fade_ms=0, style=style)
    frame = rgb_frames(render_draft(still(200, caption), {"img": grey_photo}, tmp_path / "o.mp4").output)[0]
    row = frame[HEIGHT // 2]
    red_columns = np.flatnonzero(np.abs(row - np.array((255, 0, 0))).max(axis=-1) < 60)
    assert red_columns.size and red_columns.min() < WIDTH * 0.12 and red_columns.max() < WIDTH * 0.6


def test_subtitles_appear_only_in_their_time_windows(grey_photo: Path, tmp_path: Path) -> None:
    cues = (Cue(0.2, 0.5, "First line"), Cue(0.7, 0.9, "Second"))
    style = CaptionStyle(box=Box(color="lime", padding=20, radius=0), animate="none")
    draft = apply_action(still(1000), Subtitles(cues, position="center", size=80, style=style))
    frames = rgb_frames(render_draft(draft, {"img": grey_photo}, tmp_path / "o.mp4").output)
    assert len(frames) == 10

    shown = [share_near(frame[HEIGHT // 2 - 10 : HEIGHT // 2 + 10], (0, 255, 0)) > 0.1 for frame in frames]
    assert shown == [False, False, True, True, True, False, False, True, True, False]


def test_pop_grows_and_slide_up_rises_into_place(grey_photo: Path, tmp_path: Path) -> None:
    def plate_rows(animate: str) -> list[tuple[int, int]]:
        style = CaptionStyle(box=Box(color="red", padding=20, radius=0), animate=animate)  # type: ignore[arg-type]
        caption = TextClip("Pop", position="center", size=80, fade_ms=400, style=style)
        output = render_draft(still(600, caption), {"img": grey_photo}, tmp_path / f"{animate}.mp4").output
        rows = []
        for frame in rgb_frames(output)[1:5]:
            red = np.flatnonzero((np.abs(frame - np.array(GREY)).max(axis=-1) > 15).any(axis=1))
            rows.append((int(red.min()), int(red.max())) if red.size else (0, 0))
        return rows

    popping = [bottom - top for top, bottom in plate_rows("pop")]
    assert popping == sorted(popping) and popping[0] < popping[-1], "the plate grows"
    sliding = [top for top, _ in plate_rows("slide-up")]
    assert sliding == sorted(sliding, reverse=True) and sliding[0] > sliding[-1], "the plate rises"
