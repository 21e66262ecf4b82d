"""The overlay step through the command line: a logo lands where, as large and as opaque as the recipe says,
only inside its window, with the picture showing through its transparent parts; its bytes are in the job's identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.runs import run_joypix
from helpers.video import decoded_frames
from PIL import Image

from joypix_recipes.job.model import input_hash, job_identity
from joypix_recipes.recipe.model import load_recipe
from joypix_recipes.recipe.plan import plan_jobs
from joypix_recipes.render.text import safe_area

BACKGROUND = (40, 90, 160)
RED = (255, 0, 0)
FRAME = (480, 854)  # 9:16 at 480p
TOLERANCE = 10  # encoder noise on flat colour, in levels


def _solid(path: Path, size: tuple[int, int], colour: tuple[int, ...], mode: str = "RGB") -> Path:
    Image.new(mode, size, colour).save(path)
    return path


def _half_transparent_logo(path: Path) -> Path:
    """40 x 20: the left half opaque red, the right half fully transparent (its colour must never show)."""
    logo = Image.new("RGBA", (40, 20), (0, 255, 0, 0))
    logo.paste(Image.new("RGBA", (20, 20), (*RED, 255)), (0, 0))
    logo.save(path)
    return path


def _mean(frame: np.ndarray, box: tuple[int, int, int, int], inset: int = 4) -> np.ndarray:
    left, top, right, bottom = box
    return frame[top + inset : bottom - inset, left + inset : right - inset].reshape(-1, 3).mean(axis=0)


def _near(found: np.ndarray, expected: tuple[float, ...]) -> bool:
    return bool(np.all(np.abs(found - np.array(expected)) <= TOLERANCE))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """One 2-second clip: a half-transparent PNG logo top-left at 25% width and 60% opacity from 0.5 s to 1.5 s
    (fading in over 0.2 s), and an opaque WebP square placed by coordinates for the whole clip."""
    folder = tmp_path_factory.mktemp("overlay")
    _solid(folder / "bg.png", (160, 284), BACKGROUND)
    _half_transparent_logo(folder / "logo.png")
    _solid(folder / "square.webp", (30, 30), (255, 255, 255))
    (folder / "r.yaml").write_text(
        "version: 1\ninputs: [bg.png]\nsteps:\n"
        "  - animate: {motion: none, duration: 2}\n"
        "  - overlay: {image: logo.png, position: top-left, width: 25%, opacity: 60%, start: 0.5, end: 1.5,"
        " fade_in: 0.2}\n"
        "  - overlay: {image: square.webp, x: 50%, y: 50%, width: 0.1}\n"
        'export: {aspect: "9:16", resolution: 480p, fps: 10, quality: high}\n',
        encoding="utf-8",
    )
    result = run_joypix(["run", "r.yaml", "-q"], folder, timeout=120)
    assert result.returncode == 0, result.stderr
    frames = decoded_frames(folder / "out" / "bg.mp4")
    assert len(frames) == 20 and frames[0].shape == (FRAME[1], FRAME[0], 3)
    return frames


def _logo_boxes() -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """The opaque and the transparent half of the logo on the frame: inside the safe area, 2% of the width in."""
    area = safe_area(*FRAME)
    margin = 0.02 * FRAME[0]
    left, top = int(area.left + margin) // 2 * 2, int(area.top + margin) // 2 * 2
    width = FRAME[0] // 4  # 25% of the frame width; the logo is twice as wide as high
    return (left, top, left + width // 2, top + width // 2), (left + width // 2, top, left + width, top + width // 2)


def test_a_logo_shows_at_its_corner_its_size_and_opacity_inside_its_window(rendered: list[np.ndarray]) -> None:
    opaque, _ = _logo_boxes()
    blended = tuple(0.6 * logo + 0.4 * back for logo, back in zip(RED, BACKGROUND))
    at_one_second = rendered[10]
    assert _near(_mean(at_one_second, opaque), blended), _mean(at_one_second, opaque)
    left, top, right, bottom = opaque
    # The logo's edges are where its size says: the background just outside them, on every side.
    assert _near(_mean(at_one_second, (left - 12, top, left, bottom), 2), BACKGROUND)
    assert _near(_mean(at_one_second, (left, top - 12, right, top), 2), BACKGROUND)
    assert _near(_mean(at_one_second, (left, bottom, right, bottom + 12), 2), BACKGROUND)


def test_a_logo_is_absent_outside_its_window_and_half_way_through_its_fade(rendered: list[np.ndarray]) -> None:
    opaque, _ = _logo_boxes()
    for before_or_after in (rendered[2], rendered[4], rendered[15], rendered[18]):
        assert _near(_mean(before_or_after, opaque), BACKGROUND)
    half = tuple(0.3 * logo + 0.7 * back for logo, back in zip(RED, BACKGROUND))
    assert _near(_mean(rendered[6], opaque), half), _mean(rendered[6], opaque)


def test_a_transparent_part_of_a_png_leaves_the_picture_visible(rendered: list[np.ndarray]) -> None:
    _, transparent = _logo_boxes()
    assert _near(_mean(rendered[10], transparent), BACKGROUND), _mean(rendered[10], transparent)


def test_an_overlay_placed_by_coordinates_has_its_corner_there_for_the_whole_clip(rendered: list[np.ndarray]) -> None:
    left, top, side = FRAME[0] // 2, FRAME[1] // 2 // 2 * 2, 48  # 10% of 480
    for frame in (rendered[0], rendered[19]):
        assert _near(_mean(frame, (left, top, left + side, top + side)), (255, 255, 255))
        assert _near(_mean(frame, (left - 10, top, left, top + side), 2), BACKGROUND)
        assert _near(_mean(frame, (left + side, top, left + side + 10, top + side), 2), BACKGROUND)


def test_the_job_identity_covers_the_overlay_files_bytes(tmp_path: Path) -> None:
    _solid(tmp_path / "bg.png", (16, 16), BACKGROUND)
    logo = _half_transparent_logo(tmp_path / "logo.png")
    (tmp_path / "r.yaml").write_text(
        "version: 1\ninputs: [bg.png]\nsteps:\n  - overlay: {image: logo.png}\n", encoding="utf-8"
    )

    def identity() -> str:
        (job,) = plan_jobs(load_recipe(tmp_path / "r.yaml")).jobs
        return job_identity(job, input_hash(job.input))

    first = identity()
    assert identity() == first
    _solid(logo, (40, 20), (*RED, 255), "RGBA")  # same name, other pixels
    assert identity() != first


def test_an_overlay_with_a_colour_profile_is_drawn_in_srgb_with_its_alpha_kept(tmp_path: Path) -> None:
    from render.icc import DISPLAY_P3, matrix_profile, to_srgb

    from joypix_recipes.render.color import black_frame, nv12_to_rgb
    from joypix_recipes.render.overlay import build_image_overlays
    from joypix_recipes.timeline.draft import Draft, ImageClip, VideoClip

    colour = (200, 60, 40)
    logo = Image.new("RGBA", (32, 32), (*colour, 255))
    logo.paste(Image.new("RGBA", (16, 32), (0, 0, 0, 0)), (16, 0))
    logo.save(tmp_path / "p3.png", icc_profile=matrix_profile(DISPLAY_P3, "Display P3"))
    draft = Draft(
        width=160,
        height=160,
        video=(VideoClip(src="unused", duration_ms=1000),),
        overlays=(ImageClip(src=str(tmp_path / "p3.png"), x=0.25, y=0.25, width=0.5),),
    )
    (overlay,) = build_image_overlays(draft, {})
    frame = black_frame(160, 160)
    overlay.apply(frame, 500.0)
    rgb = nv12_to_rgb(frame, 160, 160).astype(float)
    expected = to_srgb(colour, DISPLAY_P3)
    assert np.all(np.abs(rgb[60:100, 48:72].reshape(-1, 3).mean(axis=0) - expected) <= 4), expected
    assert np.all(rgb[60:100, 88:112] <= 4), "the transparent half leaves the black frame as it was"
