"""Sub-pixel resampling of one image plane: a scale-and-shift warp, bilinear, exact to 1/32 pixel.

``cv2.warpAffine`` on one uint8 plane measured about 2.8x cheaper in CPU than resizing four mirrored
quadrants about a fixed point with ``cv2.resize`` (the copies and flips cost more than resize saves),
and it has no trap near a 1:1 scale, where resize hands back its input unchanged: every frame of a
zoom moves, however slowly.
"""

from __future__ import annotations

import cv2
import numpy as np

_WARP_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP


def warp_plane(plane: np.ndarray, scale: tuple[float, float], offset: tuple[float, float], out: np.ndarray) -> None:
    """out[v, u] = plane sampled bilinearly at (scale * u + offset) in pixel-index coordinates."""
    matrix = np.array([[scale[0], 0.0, offset[0]], [0.0, scale[1], offset[1]]])
    cv2.warpAffine(
        plane, matrix, (out.shape[1], out.shape[0]), dst=out, flags=_WARP_FLAGS, borderMode=cv2.BORDER_REPLICATE
    )
