"""Test sounds: WAV tones on disk."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_wav(path: Path, seconds: float = 2.0, frequency: float = 440.0, rate: int = 44_100) -> Path:
    """A mono 16-bit sine tone."""
    samples = (np.sin(2 * np.pi * frequency * np.arange(int(seconds * rate)) / rate) * 12_000).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
    return path
