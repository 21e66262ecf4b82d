"""Frame rates other than the whole ones: exact frame counts, time stamps and time bases in the decoded file."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from helpers.audio import write_wav
from PIL import Image

from joypix_recipes.job.export import parse_fps
from joypix_recipes.render.video import render_draft
from joypix_recipes.timeline.draft import AudioClip, Draft, VideoClip

from .conftest import SMALL


@pytest.fixture(scope="module")
def texture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rate") / "texture.png"
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).resize((640, 480)).save(path)
    return path


@pytest.mark.parametrize(
    ("written", "rate", "frames"),
    [("29.97", Fraction(30000, 1001), 60), (59.94, Fraction(60000, 1001), 120), (15, Fraction(15), 30)],
)
def test_two_seconds_have_exact_frames_time_stamps_and_time_base(
    texture: Path, tmp_path: Path, written: object, rate: Fraction, frames: int
) -> None:
    draft = Draft(
        width=SMALL[0], height=SMALL[1], fps=parse_fps(written), video=(VideoClip("img", 2000, motion="zoom-in"),)
    )
    result = render_draft(draft, {"img": texture}, tmp_path / "clip.mp4", poster=False)
    with av.open(str(result.output)) as container:
        stream = container.streams.video[0]
        stamps = [frame.pts * frame.time_base for frame in container.decode(stream)]
        assert stream.average_rate == rate
        # A whole number of ticks per frame: the rate is stored exactly, not rounded to 29.97 or 30.
        assert (1 / rate / stream.time_base).denominator == 1
        duration = stream.duration * stream.time_base
    assert len(stamps) == result.frames == frames
    assert stamps == [index / rate for index in range(frames)]
    assert duration == frames / rate and result.duration_s == float(frames / rate)


def test_a_soundtrack_spans_an_ntsc_clip(texture: Path, tmp_path: Path) -> None:
    draft = Draft(
        width=SMALL[0],
        height=SMALL[1],
        fps=parse_fps("24000/1001"),
        video=(VideoClip("img", 1500),),
        audio=(AudioClip("tone"),),
    )
    media = {"img": texture, "tone": write_wav(tmp_path / "tone.wav", 3.0)}
    output = render_draft(draft, media, tmp_path / "clip.mp4", poster=False).output
    with av.open(str(output)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        video_end = video.duration * video.time_base
        audio_end = audio.duration * audio.time_base
    assert video_end == Fraction(36 * 1001, 24000)
    assert abs(audio_end - video_end) < Fraction(1, 20)
