"""Loudness through the CLI, measured on the decoded clip by a second meter (libebur128 through pyebur128,
not the pyloudnorm the renderer uses): -14 LUFS integrated within 1 LU, true peak at most -1 dBTP (read
here by 4x oversampling), and ``normalize: false`` leaves the levels as they were."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import av
import numpy as np
import pyebur128
import pytest
from helpers.images import write_image
from scipy.signal import resample_poly

from joypix_recipes.cli.main import main

RATE = 48_000


def _write_track(path: Path, seconds: float, level: float, spikes: bool) -> Path:
    """A stereo 16-bit WAV: a soft chord at ``level`` (peak), with sharp spikes to full scale when asked."""
    time = np.arange(int(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * time + f) for f in (220.0, 277.2, 329.6)) / 3
    left = chord * level
    if spikes:  # a click every quarter second: peaks far above the loudness, as drums have
        for start in range(0, len(time), RATE // 4):
            left[start : start + 48] += 0.9 * np.hanning(48)
    pcm = np.stack([left, np.roll(left, 37)], axis=1)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _render(tmp_path: Path, track: Path, extra: str = "") -> np.ndarray:
    write_image(tmp_path / "a.jpg", (160, 284))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "version: 1\ninputs: [a.jpg]\n"
        f"steps:\n  - animate: {{motion: none, duration: 2}}\n  - audio: {{file: {track.name}{extra}}}\n"
        "export: {resolution: 480p, fps: 10, quality: low}\n",
        encoding="utf-8",
    )
    assert main(["run", str(recipe), "--out", str(tmp_path / "out"), "-q"]) == 0
    return _decoded(tmp_path / "out" / "a.mp4")


def _decoded(path: Path) -> np.ndarray:
    """The clip's sound as 48 kHz stereo float, shape (2, samples)."""
    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        for frame in container.decode(audio=0):
            chunks.extend(converted.to_ndarray() for converted in resampler.resample(frame))
    return np.concatenate(chunks, axis=1).astype(np.float64)


def _loudness(pcm: np.ndarray) -> float:
    state = pyebur128.R128State(pcm.shape[0], RATE, pyebur128.MeasurementMode.MODE_I)
    state.add_frames(np.ascontiguousarray(pcm.T).reshape(-1), pcm.shape[1])
    return float(pyebur128.get_loudness_global(state))


def _true_peak_dbtp(pcm: np.ndarray) -> float:
    return 20 * math.log10(float(np.abs(resample_poly(pcm, 4, 1, axis=1)).max()))


def _wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as handle:
        data = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2").reshape(-1, 2)
    return data.T.astype(np.float64) / 32768


TRACKS = {"quiet": (0.02, False), "loud": (0.9, False), "peaky": (0.05, True)}


@pytest.fixture(scope="module")
def normalized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[float, np.ndarray]]:
    """One run of three clips, each with its own track: quiet, loud, and quiet with sharp peaks.

    Each name maps to the track's loudness before and the clip's decoded sound."""
    folder = tmp_path_factory.mktemp("loudness")
    before = {}
    inputs = []
    for name, (level, spikes) in TRACKS.items():
        track = _write_track(folder / f"{name}.wav", 3.0, level, spikes)
        before[name] = _loudness(_wav(track))
        write_image(folder / f"{name}.jpg", (160, 284))
        inputs.append(f"{{path: {name}.jpg, vars: {{music: {name}.wav}}}}")
    recipe = folder / "recipe.yaml"
    recipe.write_text(
        f"version: 1\ninputs: [{', '.join(inputs)}]\n"
        "steps:\n  - animate: {motion: none, duration: 2}\n  - audio: {file: '{{ vars.music }}'}\n"
        "export: {resolution: 480p, fps: 10, quality: low}\n",
        encoding="utf-8",
    )
    assert main(["run", str(recipe), "--out", str(folder / "out"), "-q"]) == 0
    return {name: (before[name], _decoded(folder / "out" / f"{name}.mp4")) for name in TRACKS}


@pytest.mark.parametrize("name", list(TRACKS))
def test_the_soundtrack_is_brought_to_minus_14_lufs_under_minus_1_dbtp(
    normalized: dict[str, tuple[float, np.ndarray]], name: str
) -> None:
    before, sound = normalized[name]
    assert abs(_loudness(sound) - -14.0) <= 1.0, f"from {before:.1f} LUFS"
    assert _true_peak_dbtp(sound) <= -1.0
    assert abs(before - -14.0) > 3  # the track really was moved (quiet, loud, or peaky)


def test_normalize_false_keeps_the_levels_as_mixed(tmp_path: Path) -> None:
    track = _write_track(tmp_path / "music.wav", 3.0, 0.05, False)
    before = _loudness(_wav(track)[:, : 2 * RATE])
    sound = _render(tmp_path, track, ", normalize: false")
    assert abs(_loudness(sound) - before) <= 0.5
    assert before < -25  # far from -14: normalizing would have shown
