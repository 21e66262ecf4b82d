"""The composed frames against an independent reference: the source photo warped in RGB by the test itself.

The renderer works on Y, U and V planes pre-scaled once; here each frame's ideal picture is computed
straight from the file, in RGB, with another interpolation (bicubic), from the zoom's definition alone,
then turned into BT.709 limited-range Y, Cb and Cr by the textbook formulas.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from joypix_recipes.render.video import render_draft
from joypix_recipes.timeline.draft import Draft, VideoClip

SIZE = (160, 288)
PHOTO = (400, 720)
"""Twice the deepest zoom's window (1.25 x 160 x 288), so the photo needs no crop."""
ZOOM = 1.25
INNER = (slice(4, -4), slice(4, -4))
"""The border is left out: there the reference replicates edge pixels the renderer has beyond the window."""


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Smooth colour noise with some detail: every part of the frame differs from its neighbours."""
    rng = np.random.default_rng(11)
    coarse = rng.integers(30, 225, (PHOTO[1] // 24, PHOTO[0] // 24, 3), dtype=np.uint8)
    pixels = cv2.resize(coarse, PHOTO, interpolation=cv2.INTER_CUBIC)
    path = tmp_path_factory.mktemp("reference") / "photo.png"
    Image.fromarray(pixels).save(path)
    return path


def _ideal(photo: np.ndarray, zoom: float, size: tuple[int, int] = SIZE) -> np.ndarray:
    """The RGB frame a zoom of ``zoom`` about the centre shows: output pixel centres mapped into the photo."""
    width, height = size
    step = PHOTO[0] / (width * zoom)
    matrix = np.array(
        [
            [step, 0.0, PHOTO[0] / 2 - width / 2 * step + 0.5 * step - 0.5],
            [0.0, step, PHOTO[1] / 2 - height / 2 * step + 0.5 * step - 0.5],
        ]
    )
    flags = cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(photo.astype(np.float32), matrix, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(warped, np.float64)


def _ycbcr(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.709 in limited range: Y 16..235, Cb and Cr 16..240 around 128."""
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return (
        16 + 219 / 255 * luma,
        128 + 224 / 255 * (blue - luma) / 1.8556,
        128 + 224 / 255 * (red - luma) / 1.5748,
    )


def _planes(path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    width, height = SIZE
    planes = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            assert frame.format.name == "yuv420p"
            raw = frame.to_ndarray(format="yuv420p").astype(np.float64)
            chroma = raw[height:].reshape(2, height // 2, width // 2)
            planes.append((raw[:height], chroma[0], chroma[1]))
    return planes


def _errors(decoded: tuple[np.ndarray, ...], ideal_rgb: np.ndarray) -> tuple[float, float]:
    """Mean absolute error of luma (full size) and of chroma (the ideal averaged to the 4:2:0 grid)."""
    ideal_luma = _ycbcr(ideal_rgb)[0]
    half = cv2.resize(ideal_rgb, (SIZE[0] // 2, SIZE[1] // 2), interpolation=cv2.INTER_AREA)
    _, ideal_cb, ideal_cr = _ycbcr(half)
    luma = float(np.abs(decoded[0] - ideal_luma)[INNER].mean())
    inner_half = (slice(2, -2), slice(2, -2))
    chroma = float((np.abs(decoded[1] - ideal_cb)[inner_half].mean() + np.abs(decoded[2] - ideal_cr)[inner_half].mean()) / 2)
    return luma, chroma


def test_every_frame_of_a_zoom_matches_the_photo_warped_in_rgb(photo: Path, tmp_path: Path) -> None:
    clip = VideoClip("photo", 1000, motion="zoom-in", zoom=ZOOM, easing="linear")
    draft = Draft(width=SIZE[0], height=SIZE[1], fps=30, video=(clip,))
    output = render_draft(draft, {"photo": photo}, tmp_path / "zoom.mp4", poster=False).output
    decoded = _planes(output)
    source = np.asarray(Image.open(photo).convert("RGB"))
    zooms = [1.0 + (ZOOM - 1.0) * index / (len(decoded) - 1) for index in range(len(decoded))]
    errors = [_errors(planes, _ideal(source, zoom)) for planes, zoom in zip(decoded, zooms, strict=True)]
    luma, chroma = max(error[0] for error in errors), max(error[1] for error in errors)
    assert len(decoded) == 30
    # Measured about 1.5 and 1.9: x264 at CRF 20 on a frame this small, bilinear against bicubic sampling.
    assert luma < 2.0, f"luma off by {luma:.2f} levels on average"
    assert chroma < 2.5, f"chroma off by {chroma:.2f} levels on average"
    # The measure tells frames apart: the last frame against the first frame's ideal is far off.
    assert _errors(decoded[-1], _ideal(source, zooms[0]))[0] > 4 * luma
