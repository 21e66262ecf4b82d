"""The soundtrack: audio files decoded with PyAV (or the built-in ambient pad synthesized), fitted to the
timeline (trimmed or looped), volume and fades applied, mixed, and encoded as AAC beside the video.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from joypix_recipes.errors import MediaError
from joypix_recipes.job.actions import BUILTIN_MUSIC
from joypix_recipes.timeline.draft import AudioClip, Draft

SAMPLE_RATE = 48_000
AAC_BIT_RATE = 160_000
_AAC_FRAME = 1024
_LOOP_SEAM = 0.02  # seconds of fade at each loop seam, so a looped track does not click
_AMBIENT_PEAK = 0.3


def mix_soundtrack(draft: Draft, files: Mapping[str, Path], seconds: float) -> np.ndarray | None:
    """All audio clips of the draft mixed to a (2, samples) float32 array ``seconds`` long, or None."""
    if not draft.audio:
        return None
    total = round(seconds * SAMPLE_RATE)
    mix = np.zeros((2, total), dtype=np.float32)
    for index, clip in enumerate(draft.audio):
        start = min(round(clip.start_ms * SAMPLE_RATE / 1000), total)
        length = total - start
        if length <= 0:
            continue
        if clip.src == BUILTIN_MUSIC:
            track = synthesize_ambient(length, seed=draft.seed + index)
        else:
            track = _looped(decode_audio(files[clip.src], length), length)
        mix[:, start:] += _shaped(track, clip)
    np.clip(mix, -1.0, 1.0, out=mix)
    return mix


def decode_audio(path: Path, max_samples: int) -> np.ndarray:
    """Decode up to ``max_samples`` of a file as 48 kHz stereo float32, shape (2, n)."""
    if not path.is_file():
        raise MediaError(f"{path.name}: audio file not found ({path})")
    if path.stat().st_size == 0:
        raise MediaError(f"{path.name}: the audio file is empty")
    chunks: list[np.ndarray] = []
    count = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise MediaError(f"{path.name}: the file has no audio track")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for converted in resampler.resample(frame):
                    chunks.append(converted.to_ndarray())
                    count += chunks[-1].shape[1]
                if count >= max_samples:
                    break
            else:
                chunks.extend(converted.to_ndarray() for converted in resampler.resample(None))
    except MediaError:
        raise
    except Exception as error:  # noqa: BLE001 - PyAV raises many types on a damaged or foreign file
        raise MediaError(f"{path.name}: the audio could not be decoded; use an MP3, WAV, M4A or AAC file") from error
    if not chunks:
        raise MediaError(f"{path.name}: the audio track is empty")
    pcm = np.concatenate(chunks, axis=1).astype(np.float32)[:, :max_samples]
    if pcm.shape[1] == 0:
        raise MediaError(f"{path.name}: the audio track is empty")
    return pcm


def synthesize_ambient(samples: int, seed: int = 0) -> np.ndarray:
    """A calm, deterministic pad (a slowly breathing chord) of ``samples`` stereo samples."""
    roots = (110.0, 123.47, 130.81, 146.83, 164.81)
    root = roots[seed % len(roots)]
    rng = np.random.default_rng(seed)
    time = np.arange(samples, dtype=np.float64) / SAMPLE_RATE
    pad = np.zeros((2, samples), dtype=np.float64)
    for ratio, level in ((1.0, 1.0), (1.5, 0.6), (2.0, 0.5), (2.5, 0.35), (3.0, 0.25), (4.5, 0.12)):
        swell_rate = rng.uniform(0.05, 0.15)
        swell = 0.65 + 0.35 * np.sin(2 * math.pi * swell_rate * time + rng.uniform(0, 2 * math.pi))
        for channel, detune in enumerate((0.9985, 1.0015)):
            phase = rng.uniform(0, 2 * math.pi)
            pad[channel] += level * swell * np.sin(2 * math.pi * root * ratio * detune * time + phase)
    peak = float(np.abs(pad).max(initial=0.0)) or 1.0
    return (pad * (_AMBIENT_PEAK / peak)).astype(np.float32)


def _looped(track: np.ndarray, length: int) -> np.ndarray:
    if track.shape[1] >= length:
        return track[:, :length]
    seam = min(int(_LOOP_SEAM * SAMPLE_RATE), track.shape[1] // 4)
    piece = track.copy()
    if seam > 0:
        ramp = np.linspace(0.0, 1.0, seam, dtype=np.float32)
        piece[:, :seam] *= ramp
        piece[:, -seam:] *= ramp[::-1]
    repeats = math.ceil(length / piece.shape[1])
    return np.tile(piece, (1, repeats))[:, :length]


def _shaped(track: np.ndarray, clip: AudioClip) -> np.ndarray:
    gain = np.full(track.shape[1], max(clip.volume, 0.0), dtype=np.float32)
    fade_in = min(round(clip.fade_in_ms * SAMPLE_RATE / 1000), track.shape[1])
    fade_out = min(round(clip.fade_out_ms * SAMPLE_RATE / 1000), track.shape[1])
    if fade_in:
        gain[:fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
    if fade_out:
        gain[-fade_out:] *= np.linspace(1.0, 0.0, fade_out, dtype=np.float32)
    return track * gain


class AacTrack:
    """Encodes a mixed soundtrack (AAC unless told otherwise) into an output container, a slice at a time
    for interleaving. PyAV converts the 48 kHz slices to the codec's sample format, rate and frame size."""

    def __init__(
        self,
        container: av.container.OutputContainer,
        pcm: np.ndarray,
        codec: str = "aac",
        bit_rate: int = AAC_BIT_RATE,
        rate: int = SAMPLE_RATE,
    ) -> None:
        self._pcm = pcm
        stream = container.add_stream(codec, rate=rate, layout="stereo")
        if not isinstance(stream, av.AudioStream):
            raise MediaError(f"{codec} did not give an audio stream; reinstall PyAV")
        stream.bit_rate = bit_rate
        self._stream = stream
        self._container = container
        self._position = 0

    def encode_until(self, seconds: float) -> None:
        """Encode and mux every whole AAC frame that starts before ``seconds``."""
        limit = self._pcm.shape[1] if math.isinf(seconds) else min(round(seconds * SAMPLE_RATE), self._pcm.shape[1])
        while self._position < limit:
            self._encode_slice(self._pcm[:, self._position : self._position + _AAC_FRAME])

    def finish(self) -> None:
        """Encode the rest and flush the encoder."""
        self.encode_until(math.inf)
        self._mux(self._stream.encode(None))

    def _encode_slice(self, samples: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="fltp", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._position
        frame.time_base = Fraction(1, SAMPLE_RATE)
        self._position += samples.shape[1]
        self._mux(self._stream.encode(frame))

    def _mux(self, packets: list[Any]) -> None:
        self._container.mux(packets)
