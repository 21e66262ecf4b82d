"""Color profiles built from published numbers, so tests need no profile file from outside, and the
conversions those numbers imply, computed here without littlecms to check ours against."""

from __future__ import annotations

import struct

import numpy as np

D65 = (0.3127, 0.3290)
D50_XYZ = (0.9642, 1.0, 0.8249)
DISPLAY_P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
"""Display P3: the DCI-P3 primaries with a D65 white and the sRGB transfer curve."""
ADOBE_RGB = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060))
"""Adobe RGB (1998): wider greens, a D65 white and a pure 563/256 (about 2.2) power curve."""
ADOBE_GAMMA = 563 / 256
SRGB = ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060))
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
# sRGB's curve as an ICC parametric curve of type 3: Y = (aX + b)^g for X >= d, else cX.
_SRGB_CURVE = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)


def rgb_to_xyz(primaries: tuple[tuple[float, float], ...], white: tuple[float, float] = D65) -> np.ndarray:
    """The 3x3 matrix from linear RGB to XYZ for these chromaticities (white maps to Y = 1)."""
    columns = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries]).T
    white_xyz = np.array([white[0] / white[1], 1.0, (1 - white[0] - white[1]) / white[1]])
    return columns * np.linalg.solve(columns, white_xyz)


def matrix_profile(primaries: tuple[tuple[float, float], ...], description: str, gamma: float | None = None) -> bytes:
    """An ICC v2 display profile: D50-adapted colorants (Bradford), and the sRGB curve or a pure power curve."""
    white = np.array([D65[0] / D65[1], 1.0, (1 - D65[0] - D65[1]) / D65[1]])
    cone_ratio = (_BRADFORD @ np.array(D50_XYZ)) / (_BRADFORD @ white)
    adapted = np.linalg.inv(_BRADFORD) @ np.diag(cone_ratio) @ _BRADFORD @ rgb_to_xyz(primaries)
    text = description.encode("ascii") + b"\0"
    tags = {
        b"desc": b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67,
        b"cprt": b"text\0\0\0\0" + b"No copyright, test data\0",
        b"wtpt": _xyz(D50_XYZ),
        b"rXYZ": _xyz(adapted[:, 0]),
        b"gXYZ": _xyz(adapted[:, 1]),
        b"bXYZ": _xyz(adapted[:, 2]),
        b"rTRC": _curve(gamma),
        b"gTRC": _curve(gamma),
        b"bTRC": _curve(gamma),
    }
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags.items():
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    size = offset + len(body)
    header = struct.pack(">I4sI4s4s4s12s4s", size, b"\0" * 4, 0x02100000, b"mntr", b"RGB ", b"XYZ ", b"\0" * 12, b"acsp")
    header += b"\0" * 24 + struct.pack(">I", 0) + _s15(D50_XYZ) + b"\0" * 48
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def to_srgb(rgb: tuple[int, int, int], source: tuple[tuple[float, float], ...], gamma: float | None = None) -> np.ndarray:
    """8-bit RGB from a D65 space (sRGB curve, or a power curve) to sRGB, clipped to sRGB's gamut."""
    encoded = np.array(rgb, dtype=float) / 255.0
    if gamma is None:
        linear = np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)
    else:
        linear = encoded**gamma
    target = SRGB
    moved = np.clip(np.linalg.solve(rgb_to_xyz(target), rgb_to_xyz(source) @ linear), 0.0, 1.0)
    out = np.where(moved <= 0.0031308, moved * 12.92, 1.055 * moved ** (1 / 2.4) - 0.055)
    return np.asarray(out * 255.0)


def _s15(values: tuple[float, ...] | np.ndarray) -> bytes:
    return b"".join(struct.pack(">i", round(value * 65536)) for value in values)


def _xyz(values: tuple[float, ...] | np.ndarray) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(values)


def _curve(gamma: float | None) -> bytes:
    if gamma is not None:
        return b"para\0\0\0\0" + struct.pack(">HH", 0, 0) + _s15((gamma,))
    return b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + _s15(_SRGB_CURVE)
