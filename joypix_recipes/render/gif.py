"""The GIF writer: frames thinned to a rate GIF timing can hold and narrowed to a width cap, one palette for
the whole clip (from frames sampled across it), Floyd-Steinberg dithering, looping for ever.

A palette for the clip needs frames from all of it, so frames wait in an unnamed temporary file (not in
memory: a minute of GIF is over a gigabyte of pixels) until the last one is in.
"""

from __future__ import annotations

import math
import tempfile
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image

from joypix_recipes.errors import RenderError
from joypix_recipes.render.color import nv12_to_rgb
from joypix_recipes.render.formats import GIF_MAX_FPS, GIF_MAX_WIDTH
from joypix_recipes.render.stamps import stamp_gif

PALETTE_SAMPLES = 12
"""Frames the palette is computed from, spread evenly over the clip."""
_COLOURS = 256


def gif_rate(fps: Fraction) -> Fraction:
    """The GIF's frame rate: at most ``GIF_MAX_FPS`` and a whole number of hundredths of a second a frame."""
    return Fraction(100, math.ceil(100 / min(fps, Fraction(GIF_MAX_FPS))))


def gif_size(size: tuple[int, int]) -> tuple[int, int]:
    """The GIF's frame size: the clip's, narrowed to ``GIF_MAX_WIDTH`` with its aspect kept (both even)."""
    width, height = size
    if width <= GIF_MAX_WIDTH:
        return size
    return GIF_MAX_WIDTH, max(2, round(height * GIF_MAX_WIDTH / width / 2) * 2)


class GifWriter:
    """Takes the renderer's NV12 frames at the clip's rate; writes the GIF when finished."""

    def __init__(
        self, path: Path, size: tuple[int, int], fps: Fraction, colours: int = _COLOURS, comment: str | None = None
    ) -> None:
        self._path = path
        self._comment = comment
        self._source_size = size
        self._source_fps = Fraction(fps)
        self.fps = gif_rate(self._source_fps)
        self.width, self.height = gif_size(size)
        self._colours = colours
        self._frames = 0
        self._index = 0
        self._store = tempfile.TemporaryFile(prefix="joypix-gif-")

    def write(self, nv12: np.ndarray) -> None:
        """Take one frame of the clip; only those at the GIF's frame times are kept."""
        index = self._index
        self._index += 1
        # Source frame ``index`` starts at index / fps; the GIF's next frame is due at frames / gif rate.
        if index * self.fps < self._frames * self._source_fps:
            return
        rgb = nv12_to_rgb(nv12, *self._source_size)
        if (self.width, self.height) != self._source_size:
            rgb = cv2.resize(rgb, (self.width, self.height), interpolation=cv2.INTER_AREA)
        self._store.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
        self._frames += 1

    def finish(self) -> None:
        """Compute the clip's palette, dither every frame to it and write the GIF."""
        try:
            if self._frames == 0:
                raise RenderError(f"{self._path.name}: no frames to write")
            palette = self._palette()
            with av.open(str(self._path), mode="w", format="gif", options={"loop": "0"}) as container:
                stream = container.add_stream("gif", rate=self.fps)
                stream.width, stream.height = self.width, self.height
                stream.pix_fmt = "pal8"
                stream.codec_context.time_base = 1 / self.fps
                for index in range(self._frames):
                    indices = np.asarray(self._frame(index).quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG))
                    # PyAV takes pal8 as an (indices, palette) pair, which its stubs do not describe.
                    pair: Any = (indices, _argb(palette))
                    frame = av.VideoFrame.from_ndarray(pair, format="pal8")
                    frame.pts = index
                    frame.time_base = 1 / self.fps
                    container.mux(stream.encode(frame))
                container.mux(stream.encode(None))
            if self._comment:
                stamp_gif(self._path, self._comment)
        except RenderError:
            raise
        except Exception as error:  # noqa: BLE001 - PyAV and Pillow raise many types
            raise RenderError(f"writing the GIF {self._path.name} failed ({_reason(error)})") from error
        finally:
            self._store.close()

    def abort(self) -> None:
        """Drop the kept frames (the caller discards the file)."""
        self._store.close()

    def _frame(self, index: int) -> Image.Image:
        size = self.width * self.height * 3
        self._store.seek(index * size)
        pixels = np.frombuffer(self._store.read(size), dtype=np.uint8).reshape(self.height, self.width, 3)
        return Image.fromarray(pixels)

    def _palette(self) -> Image.Image:
        """One palette for the clip: median cut over a strip of frames sampled evenly across it."""
        count = min(PALETTE_SAMPLES, self._frames)
        picks = sorted({round(i * (self._frames - 1) / max(count - 1, 1)) for i in range(count)})
        strip = Image.new("RGB", (self.width, self.height * len(picks)))
        for row, index in enumerate(picks):
            strip.paste(self._frame(index), (0, row * self.height))
        return strip.quantize(colors=self._colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)

    def __enter__(self) -> GifWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.finish()
        else:
            self.abort()


def _argb(palette: Image.Image) -> np.ndarray:
    """The palette as PyAV takes a pal8 table: 256 rows of A, R, G, B."""
    colours = np.array(palette.getpalette() or [], dtype=np.uint8).reshape(-1, 3)[:_COLOURS]
    table = np.zeros((_COLOURS, 4), dtype=np.uint8)
    table[: len(colours), 1:] = colours
    table[:, 0] = 255
    return table


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:160]
