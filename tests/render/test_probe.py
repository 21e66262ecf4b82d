"""Checking MP4 files: playable ones are described, anything else is a RenderError; metadata remux."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import pytest

from joypix_recipes.errors import RenderError
from joypix_recipes.render.encode import encoder_description
from joypix_recipes.render.probe import probe_video, top_level_atoms
from joypix_recipes.render.video import render_draft, write_metadata

from .conftest import one_clip, solid


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    picture = tmp_path / "still.png"
    solid((30, 60, 90)).save(picture)
    return render_draft(one_clip(duration_ms=500, motion="zoom-in"), {"img": picture}, tmp_path / "clip.mp4").output


def _packet_hashes(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [hashlib.sha256(bytes(packet)).hexdigest() for packet in container.demux(video=0) if packet.size]


def test_probe_describes_a_rendered_clip(clip: Path) -> None:
    info = probe_video(clip)
    assert (info.width, info.height, info.frames, info.codec) == (180, 320, 15, "h264")
    assert info.faststart and not info.has_audio and abs(info.duration_s - 0.5) < 1e-6


def test_probe_refuses_a_text_file(tmp_path: Path) -> None:
    fake = tmp_path / "video.mp4"
    fake.write_text("<html>error page</html>")
    with pytest.raises(RenderError, match="video.mp4"):
        probe_video(fake)


def test_probe_refuses_a_truncated_download(clip: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size * 2 // 3])
    with pytest.raises(RenderError, match="cut.mp4.*truncated"):
        probe_video(cut)


def test_probe_refuses_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(RenderError, match="empty.mp4"):
        probe_video(empty)


def test_metadata_given_to_the_render_is_in_the_container(tmp_path: Path) -> None:
    picture = tmp_path / "still.png"
    solid((30, 60, 90)).save(picture)
    output = render_draft(
        one_clip(duration_ms=100),
        {"img": picture},
        tmp_path / "m.mp4",
        metadata={"comment": "job abc", "title": "Demo"},
    ).output
    with av.open(str(output)) as container:
        assert container.metadata["comment"] == "job abc" and container.metadata["title"] == "Demo"


def test_write_metadata_remuxes_without_reencoding_and_keeps_faststart(clip: Path) -> None:
    before = _packet_hashes(clip)
    write_metadata(clip, {"comment": "joypix job 7", "title": "Clip"})
    with av.open(str(clip)) as container:
        assert container.metadata["comment"] == "joypix job 7" and container.metadata["title"] == "Clip"
    assert _packet_hashes(clip) == before
    atoms = top_level_atoms(clip)
    assert atoms.index("moov") < atoms.index("mdat")
    assert probe_video(clip).frames == 15
    assert not list(clip.parent.glob("*.partial*"))


def test_write_metadata_on_a_broken_file_is_a_render_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x08junk")
    with pytest.raises(RenderError, match="broken.mp4"):
        write_metadata(broken, {"comment": "x"})
    assert broken.read_bytes() == b"\x00\x00\x00\x08junk"


def test_encoder_description_names_the_codec_and_presets() -> None:
    text = encoder_description()
    assert "libx264" in text and "missing" not in text and "CRF 20" in text
    assert "formats mp4, mp4-hevc, webm, gif, webp" in text  # every format's encoders are in the bundled FFmpeg
