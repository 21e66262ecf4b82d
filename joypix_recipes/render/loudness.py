"""Loudness: a soundtrack brought to -14 LUFS integrated (ITU-R BS.1770-4, measured by pyloudnorm) with its
true peak held at or below -1 dBTP by a look-ahead limiter that sees the peaks between samples (4x oversampled).

-14 LUFS is where the big platforms turn their players' volume to; a clip made louder is turned down
and one made quieter sounds weak beside its neighbours in a feed.
"""

from __future__ import annotations

import math

import numpy as np

# pyloudnorm and scipy take seconds to import: they load when a soundtrack is measured, so a render
# without sound (and every worker starting up) never waits for them.

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
# AAC and Opus move peaks by a few tenths of a dB when they encode: the limiter leaves room for that.
_LIMIT_DBTP = CEILING_DBTP - 0.8
_OVERSAMPLE = 4
_LOOKAHEAD_S = 0.005
_RELEASE_S = 0.06
_SETTLE_LU = 0.2
_PASSES = 3
_BLOCK_S = 0.4  # BS.1770's gating block: a shorter track has no integrated loudness


def normalize_loudness(pcm: np.ndarray, rate: int) -> np.ndarray:
    """``pcm`` (channels, samples) brought to ``TARGET_LUFS`` with true peaks under the ceiling.

    Silence and tracks shorter than one gating block are returned as they are: they have no loudness.
    """
    loudness = integrated_loudness(pcm, rate)
    if loudness is None:
        return pcm
    out = pcm.astype(np.float64)
    # Limiting takes a little loudness off; the gain is corrected and the limiter run again until it holds.
    for _ in range(_PASSES):
        out = limit_true_peak(out * _gain(TARGET_LUFS - loudness), rate, _LIMIT_DBTP)
        loudness = integrated_loudness(out, rate)
        if loudness is None or abs(loudness - TARGET_LUFS) <= _SETTLE_LU:
            break
    return out.astype(np.float32)


def integrated_loudness(pcm: np.ndarray, rate: int) -> float | None:
    """Integrated loudness in LUFS, or None for silence or a track shorter than a gating block."""
    if pcm.shape[-1] < math.ceil(_BLOCK_S * rate):
        return None
    import pyloudnorm

    value = float(pyloudnorm.Meter(rate).integrated_loudness(np.ascontiguousarray(pcm.T, dtype=np.float64)))
    return value if math.isfinite(value) else None


def true_peak_dbtp(pcm: np.ndarray) -> float:
    """The highest peak between or on samples, in dBTP, seen 4x oversampled (BS.1770 annex 2)."""
    from scipy.signal import resample_poly

    peak = float(np.abs(resample_poly(pcm, _OVERSAMPLE, 1, axis=-1)).max(initial=0.0))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limit_true_peak(pcm: np.ndarray, rate: int, ceiling_dbtp: float) -> np.ndarray:
    """A linked look-ahead limiter: the gain falls before a peak over the ceiling, holds, then recovers."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d
    from scipy.signal import resample_poly

    ceiling = _gain(ceiling_dbtp)
    upsampled = np.abs(resample_poly(pcm, _OVERSAMPLE, 1, axis=-1)).max(axis=0)
    usable = upsampled.size // _OVERSAMPLE * _OVERSAMPLE
    peaks = np.zeros(pcm.shape[-1])
    peaks[: usable // _OVERSAMPLE] = upsampled[:usable].reshape(-1, _OVERSAMPLE).max(axis=1)
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if needed.min() >= 1.0:
        return pcm
    # Each sample's gain is the least any sample needs from a look-ahead before it to a release after it,
    # then smoothed over the look-ahead; every smoothed value averages minima that include the sample's own.
    ahead = max(1, round(_LOOKAHEAD_S * rate))
    behind = max(ahead, round(_RELEASE_S * rate))
    size = ahead + behind + 1
    held = minimum_filter1d(needed, size, origin=(behind - ahead) // 2, mode="nearest")
    smooth = uniform_filter1d(held, ahead | 1, mode="nearest")
    limited: np.ndarray = pcm * np.minimum(smooth, needed)
    # Between-sample peaks of the limited signal may still poke over by a hair: a last trim keeps the promise.
    over = true_peak_dbtp(limited) - ceiling_dbtp
    return limited * _gain(-over) if over > 0 else limited


def _gain(decibels: float) -> float:
    return float(10 ** (decibels / 20))
