"""What the tests share: jobs as the planner makes them, test photos and WAV tones on disk, a progress to wait on."""

from __future__ import annotations

import asyncio
import struct
import wave
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from joypix_recipes.job.actions import Action, Animate
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import Job, JobInput, PlannedStep, UnknownPhrases
from joypix_recipes.run.outcome import JobOutcome, RunSummary
from joypix_recipes.run.progress import Progress

EXIF_ORIENTATION = 274


def make_job(
    image: Path,
    steps: Sequence[Action | PlannedStep] = (Animate(),),
    *,
    output: Path | None = None,
    variant: str | None = None,
    export: ExportSettings | None = None,
    recipe_name: str = "test recipe",
    recipe_path: Path | None = None,
    index: int = 0,
    unknown_phrases: UnknownPhrases = "fail",
    url: str | None = None,
) -> Job:
    """A job over one image, as the planner would make it; bare actions get step names "<kind> <n>".

    The output defaults to ``out/<stem>.mp4`` beside the image; with ``url`` the input is remote.
    """
    planned = tuple(
        step if isinstance(step, PlannedStep) else PlannedStep(f"{type(step).__name__.lower()} {n}", step)
        for n, step in enumerate(steps, start=1)
    )
    job_input = JobInput(
        name=image.name, stem=image.stem, suffix=image.suffix, index=index, path=None if url else image, url=url
    )
    return Job(
        recipe_name=recipe_name,
        recipe_path=recipe_path or image.parent / "recipe.yaml",
        input=job_input,
        variant=variant,
        steps=planned,
        export=export or ExportSettings(),
        output=output or image.parent / "out" / f"{image.stem}.mp4",
        unknown_phrases=unknown_phrases,
    )


def write_image(
    path: Path, size: tuple[int, int] = (640, 480), seed: int = 0, *, orientation: int | None = None
) -> Path:
    """A textured test photo (smooth gradients plus seeded noise) in the format its suffix names.

    ``orientation`` writes an EXIF orientation tag (6: the camera was turned a quarter clockwise).
    """
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], axis=-1)
    pixels = np.clip(pixels + rng.integers(-20, 20, pixels.shape), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(pixels)
    if orientation is None:
        image.save(path)
    else:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        image.save(path, exif=exif)
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def write_wav(path: Path, seconds: float = 2.0, frequency: float = 440.0, rate: int = 44_100) -> Path:
    """A mono 16-bit sine tone."""
    samples = (np.sin(2 * np.pi * frequency * np.arange(int(seconds * rate)) / rate) * 12_000).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
    return path


class EndedJobs(Progress):
    """A progress display that queues each ended job, so a test can wait for the next one; and keeps runs' ends."""

    def __init__(self) -> None:
        self.ended: asyncio.Queue[JobOutcome] = asyncio.Queue()
        self.runs: list[tuple[RunSummary, Path | None]] = []

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        self.ended.put_nowait(outcome)

    def run_finished(self, summary: RunSummary, manifest: Path | None = None, report: Path | None = None) -> None:
        self.runs.append((summary, manifest))

    async def next_ended(self, timeout: float = 10.0) -> JobOutcome:
        """The next job to end, waiting at most ``timeout`` seconds."""
        return await asyncio.wait_for(self.ended.get(), timeout)


ENCODER_NOISE_LEVELS = 3.0
"""libx264 is not bit-exact from run to run on every picture (it reads memory it never wrote, so what an
earlier encoder left in the process shows): the same frames encoded twice differ by up to about 1.3
levels on average per frame. Any real difference in the picture is far larger."""


def luma_frames(path: Path) -> np.ndarray:
    """Every frame's Y plane, as PyAV decodes the clip (frames x height x width, int16 so differences fit)."""
    import av

    with av.open(str(path)) as container:
        return np.array([frame.to_ndarray(format="gray") for frame in container.decode(video=0)], dtype=np.int16)


def same_pictures(first: Path, second: Path) -> bool:
    """Whether two clips decode to the same number of frames, each alike within the encoder's noise."""
    one, two = luma_frames(first), luma_frames(second)
    if one.shape != two.shape:
        return False
    per_frame = np.abs(one - two).reshape(len(one), -1).mean(axis=1)
    return bool(per_frame.max(initial=0.0) < ENCODER_NOISE_LEVELS)
