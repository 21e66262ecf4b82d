"""The soundtrack: decoded, looped or trimmed to the timeline, shaped, AAC-encoded beside the video."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from helpers.audio import write_wav

from joypix_recipes.errors import MediaError
from joypix_recipes.job.actions import BUILTIN_MUSIC
from joypix_recipes.render.audio import SAMPLE_RATE, decode_audio, mix_soundtrack, synthesize_ambient
from joypix_recipes.render.probe import probe_video
from joypix_recipes.render.video import render_draft
from joypix_recipes.timeline.draft import AudioClip

from .conftest import one_clip, solid


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "still.png"
    solid((90, 90, 90)).save(path)
    return path


def _audio_of(path: Path) -> tuple[str, np.ndarray]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
        return stream.codec_context.name, np.concatenate(chunks, axis=1)


def test_music_file_is_encoded_as_aac_with_the_timeline_duration(picture: Path, tmp_path: Path) -> None:
    song = write_wav(tmp_path / "song.wav", seconds=3.0)
    draft = one_clip(duration_ms=1000).with_changes(audio=(AudioClip("song"),))
    output = render_draft(draft, {"img": picture, "song": song}, tmp_path / "a.mp4").output
    assert probe_video(output).has_audio
    codec, samples = _audio_of(output)
    assert codec == "aac"
    assert abs(samples.shape[1] / SAMPLE_RATE - 1.0) < 0.03
    assert np.abs(samples).max() > 0.1


def test_short_track_is_looped_to_the_end(picture: Path, tmp_path: Path) -> None:
    song = write_wav(tmp_path / "short.wav", seconds=0.25)
    draft = one_clip(duration_ms=1000).with_changes(audio=(AudioClip("song"),))
    _, samples = _audio_of(render_draft(draft, {"img": picture, "song": song}, tmp_path / "a.mp4").output)
    tail = samples[:, int(0.8 * SAMPLE_RATE) : int(0.95 * SAMPLE_RATE)]
    assert np.abs(tail).max() > 0.1


def test_builtin_ambient_music_is_synthesized(picture: Path, tmp_path: Path) -> None:
    draft = one_clip(duration_ms=1000).with_changes(audio=(AudioClip(BUILTIN_MUSIC, volume=0.5),))
    _, samples = _audio_of(render_draft(draft, {"img": picture}, tmp_path / "a.mp4").output)
    assert np.abs(samples).max() > 0.02


def test_ambient_synthesis_is_deterministic_per_seed() -> None:
    assert np.array_equal(synthesize_ambient(4800, seed=3), synthesize_ambient(4800, seed=3))
    assert not np.array_equal(synthesize_ambient(4800, seed=3), synthesize_ambient(4800, seed=4))


def test_volume_and_fades_shape_the_track(tmp_path: Path) -> None:
    song = write_wav(tmp_path / "tone.wav", seconds=2.0)
    draft = one_clip(duration_ms=2000).with_changes(
        audio=(AudioClip("song", volume=0.5, fade_in_ms=500, fade_out_ms=500),)
    )
    mix = mix_soundtrack(draft, {"song": song}, 2.0)
    assert mix is not None and mix.shape == (2, 2 * SAMPLE_RATE)
    full = np.abs(decode_audio(song, SAMPLE_RATE)).max()
    middle = np.abs(mix[:, SAMPLE_RATE - 2400 : SAMPLE_RATE + 2400]).max()
    assert abs(middle - 0.5 * full) < 0.02
    assert np.abs(mix[:, :480]).max() < 0.05 * full and np.abs(mix[:, -480:]).max() < 0.05 * full


def test_audio_starts_at_its_offset(tmp_path: Path) -> None:
    song = write_wav(tmp_path / "tone.wav", seconds=2.0)
    draft = one_clip(duration_ms=1000).with_changes(audio=(AudioClip("song", start_ms=500),))
    mix = mix_soundtrack(draft, {"song": song}, 1.0)
    assert mix is not None
    assert np.abs(mix[:, : SAMPLE_RATE // 2]).max() == 0.0 and np.abs(mix[:, SAMPLE_RATE // 2 :]).max() > 0.1


def test_no_audio_clips_means_no_soundtrack() -> None:
    assert mix_soundtrack(one_clip(), {}, 1.0) is None


def test_file_without_audio_is_a_media_error_naming_it(picture: Path, tmp_path: Path) -> None:
    silent = render_draft(one_clip(duration_ms=100), {"img": picture}, tmp_path / "silent.mp4").output
    with pytest.raises(MediaError, match="silent.mp4.*no audio"):
        decode_audio(silent, 1000)


def test_garbage_audio_is_a_media_error_naming_it(picture: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"ID3 this is not an mp3 at all" * 10)
    draft = one_clip(duration_ms=100).with_changes(audio=(AudioClip("song"),))
    with pytest.raises(MediaError, match="junk.mp3"):
        render_draft(draft, {"img": picture, "song": junk}, tmp_path / "a.mp4")
    assert not (tmp_path / "a.mp4").exists()


def test_missing_audio_is_a_media_error(picture: Path, tmp_path: Path) -> None:
    draft = one_clip(duration_ms=100).with_changes(audio=(AudioClip("nowhere.m4a"),))
    with pytest.raises(MediaError, match="nowhere.m4a"):
        render_draft(draft, {"img": picture}, tmp_path / "a.mp4")
