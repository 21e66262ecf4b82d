"""Format benchmark: the same 5 s, 30 fps zoom-in (1080x1920, or 720x1280 with --resolution 720p) with a
soundtrack, encoded in every export format, against the H.264 MP4 measured in the same run.

    python benchmarks/formats.py [--quality high] [--resolution 1080p|720p] [--workdir DIR]

The frames are composed once before any clock starts, so the times are the writers' own: encoding
(and for GIF thinning, narrowing, the palette and dithering). The soundtrack is the built-in ambient
pad brought to -14 LUFS once, also before the clocks; GIF and WebP carry no sound. Wall time and the
process's CPU time (all threads) are both given: on a shared machine the CPU time is the steadier one.
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

from render import FPS, SECONDS, make_photo  # the renderer benchmark's clip length and photo

FORMATS = ("mp4", "mp4-hevc", "webm", "gif", "webp")
SUFFIX = {"mp4": ".mp4", "mp4-hevc": ".mp4", "webm": ".webm", "gif": ".gif", "webp": ".webp"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality", default="high", choices=("high", "medium", "low"))
    parser.add_argument("--resolution", default="1080p", choices=("1080p", "720p"))
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    import numpy as np

    from joypix_recipes.render.audio import SAMPLE_RATE, synthesize_ambient
    from joypix_recipes.render.compose import FrameComposer, load_source
    from joypix_recipes.render.encode import open_writer
    from joypix_recipes.render.formats import Encoding
    from joypix_recipes.render.loudness import normalize_loudness
    from joypix_recipes.timeline.draft import Draft, VideoClip

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="joypix-formats-"))
    workdir.mkdir(parents=True, exist_ok=True)
    photo = make_photo(workdir / "photo-12mp.jpg", (4000, 3000))
    width, height = (1080, 1920) if args.resolution == "1080p" else (720, 1280)
    clip = VideoClip("photo", SECONDS * 1000, motion="zoom-in", zoom=1.25, easing="linear")
    draft = Draft(width=width, height=height, fps=FPS, video=(clip,))
    frames = list(FrameComposer(draft, [load_source(clip, photo, (width, height), 0)], []))
    sound = normalize_loudness(synthesize_ambient(SECONDS * SAMPLE_RATE), SAMPLE_RATE)
    assert isinstance(sound, np.ndarray)

    results: dict[str, tuple[float, float, int]] = {}
    for name in FORMATS:
        output = workdir / f"clip-{name}{SUFFIX[name]}"
        start, cpu = time.perf_counter(), time.process_time()
        with open_writer(output, (width, height), draft.fps, Encoding(name, args.quality), None, sound) as writer:
            for frame in frames:
                writer.write(frame)
        results[name] = (time.perf_counter() - start, time.process_time() - cpu, output.stat().st_size)
        print(f"  {name} done", file=sys.stderr, flush=True)

    base_wall, base_cpu, base_size = results["mp4"]
    print(f"{SECONDS} s, {FPS} fps, {width}x{height}, quality {args.quality}; ratios against H.264 MP4")
    print(f"{'format':<10}{'wall s':>9}{'x wall':>8}{'cpu s':>9}{'x cpu':>8}{'size KiB':>10}{'x size':>8}")
    for name, (wall, cpu, size) in results.items():
        print(
            f"{name:<10}{wall:>9.2f}{wall / base_wall:>8.2f}{cpu:>9.2f}{cpu / base_cpu:>8.2f}"
            f"{size / 1024:>10.0f}{size / base_size:>8.2f}"
        )
    print(f"files in {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
