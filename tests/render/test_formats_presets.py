"""Platform presets encode to the platforms' upload specs: H.264 High profile at a level that holds the
frame, the audio sample rate and AAC bitrate they ask for, and a bitrate ceiling; read back by decoding."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from helpers.audio import write_wav
from helpers.images import write_image

from joypix_recipes.cli.main import main
from joypix_recipes.job.export import PRESETS, ExportSettings
from joypix_recipes.render.formats import encoding_for, h264_level


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run: a reels and a youtube variant (small, so it is quick) and one with no preset."""
    folder = tmp_path_factory.mktemp("presets")
    write_image(folder / "a.jpg", (240, 320))
    write_wav(folder / "tone.wav", 2.0)
    (folder / "recipe.yaml").write_text(
        "version: 1\ninputs: [a.jpg]\n"
        "steps:\n  - animate: {motion: zoom-in, duration: 1}\n  - audio: {file: tone.wav}\n"
        "export: {resolution: 480p, fps: 30, quality: low}\n"
        "variants:\n"
        "  - name: reels\n    export: {preset: reels, resolution: 480p}\n"
        "  - name: youtube\n    export: {preset: youtube, resolution: 480p}\n"
        "  - name: plain\n",
        encoding="utf-8",
    )
    assert main(["run", str(folder / "recipe.yaml"), "--out", str(folder / "out"), "-q"]) == 0
    return folder / "out"


def _facts(path: Path) -> tuple[str, int, int, int]:
    with av.open(str(path)) as container:
        video = container.streams.video[0].codec_context
        audio = container.streams.audio[0].codec_context
        return video.profile or "", video.level, audio.sample_rate, audio.bit_rate


@pytest.mark.parametrize("variant", ["reels", "youtube"])
def test_a_preset_clip_is_high_profile_at_its_level_with_48_khz_sound(outputs: Path, variant: str) -> None:
    profile, level, rate, _ = _facts(outputs / f"a-{variant}.mp4")
    # The presets' lowest level is 4.0, the one that holds 1080p at 30 fps and a 25 Mbps High-profile peak.
    assert (profile, level, rate) == ("High", 40, 48_000)


def test_the_aac_bitrate_follows_the_platform(outputs: Path) -> None:
    reels = _facts(outputs / "a-reels.mp4")[3]
    youtube = _facts(outputs / "a-youtube.mp4")[3]
    assert abs(reels - 128_000) <= 12_800  # Instagram: 128 kbit/s
    # YouTube: 384 kbit/s stereo, a ceiling FFmpeg's AAC encoder does not fill with a plain tone.
    assert 1.5 * reels < youtube <= 384_000


def test_a_clip_without_a_preset_keeps_the_encoders_own_choices(outputs: Path) -> None:
    profile, level, rate, bit_rate = _facts(outputs / "a-plain.mp4")
    assert rate == 48_000 and abs(bit_rate - 160_000) <= 16_000
    assert level < 40  # x264 signals the least level the small frame needs


def test_the_bitrate_ceiling_reaches_the_encoder(outputs: Path) -> None:
    # x264 writes the settings it ran with into the stream: the VBV ceiling is among them.
    assert b"vbv_maxrate=2500 vbv_bufsize=2500" in (outputs / "a-youtube.mp4").read_bytes()
    assert b"vbv_maxrate=25000 vbv_bufsize=25000" in (outputs / "a-reels.mp4").read_bytes()
    assert b"vbv_maxrate" not in (outputs / "a-plain.mp4").read_bytes()


def test_the_ceiling_follows_the_preset_resolution_and_rate() -> None:
    # youtube at 480p and 30 fps: 2.5 Mbps; at 60 fps, 4 Mbps; reels: 25 Mbps at any size.
    youtube = ExportSettings(preset="youtube", resolution="480p")
    assert encoding_for(youtube).max_kbps == 2_500
    assert encoding_for(ExportSettings(preset="youtube", resolution="480p", fps=Fraction(60))).max_kbps == 4_000
    assert encoding_for(ExportSettings(preset="reels")).max_kbps == 25_000
    assert encoding_for(ExportSettings()).max_kbps is None


@pytest.mark.parametrize(
    ("size", "fps", "kbps", "level"),
    [
        ((1080, 1920), 30, 25_000, "4.0"),
        ((1080, 1920), 60, 12_000, "4.2"),
        ((1920, 1080), 30, 8_000, "4.0"),
        ((480, 854), 30, 2_500, "4.0"),
        ((2160, 3840), 30, 25_000, "5.1"),
    ],
)
def test_the_level_is_the_lowest_that_holds_the_frame_rate_and_bitrate(
    size: tuple[int, int], fps: int, kbps: int, level: str
) -> None:
    assert h264_level(*size, Fraction(fps), kbps, minimum="4.0") == level


def test_every_preset_names_a_profile_level_ceiling_and_48_khz() -> None:
    for preset in PRESETS.values():
        delivery = preset.delivery
        assert delivery.profile == "high" and delivery.level == "4.0" and delivery.sample_rate == 48_000
        assert 0 < delivery.ceiling_kbps(preset.resolution, Fraction(preset.fps)) <= 25_000
