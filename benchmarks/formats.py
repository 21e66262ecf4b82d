"""Format benchmark: the same 5 s, 30 fps, 1080x1920 zoom-in with a soundtrack, encoded in every export
format, against the H.264 MP4 measured in the same run.

    python benchmarks/formats.py [--quality high] [--workdir DIR]

The frames are composed once before any clock starts, so the times are the writers' own: encoding
(and for GIF thinning, narrowing, the palette and dithering). The soundtrack is the built-in ambient
pad brought to -14 LUFS once, also before the clocks; GIF and WebP carry no sound.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from render import FPS, HEIGHT, SECONDS, WIDTH, _draft, make_photo  # the renderer benchmark's clip and photo

FORMATS = ("mp4", "mp4-hevc", "webm", "gif", "webp")
SUFFIX = {"mp4": ".mp4", "mp4-hevc": ".mp4", "webm": ".webm", "gif": ".gif", "webp": ".webp"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality", default="high", choices=("high", "medium", "low"))
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    import numpy as np

    from joypix_recipes.render.audio import SAMPLE_RATE, synthesize_ambient
    from joypix_recipes.render.compose import FrameComposer, load_source
    from joypix_recipes.render.encode import open_writer
    from joypix_recipes.render.formats import Encoding
    from joypix_recipes.render.loudness import normalize_loudness

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="joypix-formats-"))
    workdir.mkdir(parents=True, exist_ok=True)
    photo = make_photo(workdir / "photo-12mp.jpg", (4000, 3000))
    draft = _draft()
    frames = list(FrameComposer(draft, [load_source(draft.video[0], photo, (WIDTH, HEIGHT), 0)], []))
    sound = normalize_loudness(synthesize_ambient(SECONDS * SAMPLE_RATE), SAMPLE_RATE)
    assert isinstance(sound, np.ndarray)

    results: dict[str, tuple[float, int]] = {}
    for name in FORMATS:
        output = workdir / f"clip-{name}{SUFFIX[name]}"
        start = time.perf_counter()
        with open_writer(output, (WIDTH, HEIGHT), draft.fps, Encoding(name, args.quality), None, sound) as writer:
            for frame in frames:
                writer.write(frame)
        results[name] = (time.perf_counter() - start, output.stat().st_size)

    base_time, base_size = results["mp4"]
    print(f"{SECONDS} s, {FPS} fps, {WIDTH}x{HEIGHT}, quality {args.quality}; ratios against H.264 MP4")
    print(f"{'format':<10}{'encode s':>10}{'x time':>9}{'size KiB':>11}{'x size':>9}")
    for name, (seconds, size) in results.items():
        print(f"{name:<10}{seconds:>10.2f}{seconds / base_time:>9.2f}{size / 1024:>11.0f}{size / base_size:>9.2f}")
    print(f"files in {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
