"""Group benchmark: ten 12-megapixel photos as one 1080x1920 clip, 3 s each with 0.5 s crossfades, against the floor.

    python benchmarks/group.py [--repeat 1] [--workdir DIR]

In the same run: (a) ours, the group draft rendered by ``render_draft`` (each photo decoded when its
segment is about to begin), and (b) the encode-only floor for the same number of frames: frames our
composer made before the clock starts (the first two photos and their crossfade, which is all that
fits in memory at this size), fed to the same writer in a loop until the clip's frame count is
reached. Each variant runs in its own subprocess; peak memory is that process's max RSS. Targets:
ours / floor <= 1.3 and ours' peak memory under 600 MB (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from render import Clock, _own_peak_mb, run_child  # noqa: E402  (the renderer benchmark's helpers)

WIDTH, HEIGHT, FPS = 1080, 1920, 30
PHOTOS, IMAGE_MS, CROSSFADE_MS = 10, 3000, 500
FLOOR_FRAMES = (2 * IMAGE_MS - CROSSFADE_MS) * FPS // 1000
RATIO_TARGET, MEMORY_TARGET_MB = 1.3, 600


def make_group(base: Path, folder: Path) -> list[Path]:
    """Ten different 12 MP JPEGs from one generated photo (flipped and shifted), so each decodes afresh."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo-{index:02d}.jpg" for index in range(PHOTOS)]
    if all(path.exists() for path in paths):
        return paths
    pixels = np.asarray(Image.open(base).convert("RGB"))
    for index, path in enumerate(paths):
        variant = np.roll(pixels, index * 331, axis=1)
        if index % 2:
            variant = variant[:, ::-1]
        Image.fromarray(np.ascontiguousarray(variant)).save(path, quality=90)
    return paths


def _draft(count: int) -> Any:
    from joypix_recipes.job.actions import Animate, Transition
    from joypix_recipes.job.export import ExportSettings
    from joypix_recipes.timeline.draft import Draft
    from joypix_recipes.timeline.edit import add_image, apply_action, new_draft

    draft = new_draft(ExportSettings(aspect="9:16", resolution="1080p", fps=FPS), seed=3)
    for index in range(count):
        draft = add_image(draft, f"photo-{index:02d}")
    draft = apply_action(draft, Animate(motion="ken-burns", duration=IMAGE_MS / 1000, zoom=1.25))
    result: Draft = apply_action(draft, Transition("crossfade", CROSSFADE_MS / 1000))
    return result


def _media(folder: Path, count: int) -> dict[str, Path]:
    return {f"photo-{index:02d}": folder / f"photo-{index:02d}.jpg" for index in range(count)}


def run_ours(folder: Path, output: Path) -> tuple[float, float, int]:
    from joypix_recipes.render.video import render_draft

    clock = Clock()
    result = render_draft(_draft(PHOTOS), _media(folder, PHOTOS), output, quality="high", poster=False)
    return (*clock.read(), result.frames)


def run_floor(folder: Path, output: Path) -> tuple[float, float, int]:
    """The group's frame count through our writer, from frames made before the clock starts."""
    from joypix_recipes.render.compose import FrameComposer
    from joypix_recipes.render.encode import Mp4Writer
    from joypix_recipes.render.video import _prepared

    draft = _draft(2)
    sources = [
        _prepared(clip, _media(folder, 2)[clip.src], (WIDTH, HEIGHT), 3 + i) for i, clip in enumerate(draft.video)
    ]
    made = list(FrameComposer(draft, sources, []))
    total = _draft(PHOTOS).frame_count
    clock = Clock()
    with Mp4Writer(output, (WIDTH, HEIGHT), FPS, "high") as writer:
        for index in range(total):
            writer.write(made[index % len(made)])  # never changed, so a frame may be sent again
    return (*clock.read(), total)


VARIANTS = {"ours": run_ours, "floor": run_floor}


def child_main(variant: str, folder: str, output: str) -> None:
    seconds, cpu, frames = VARIANTS[variant](Path(folder), Path(output))
    print(json.dumps({"seconds": seconds, "cpu": cpu, "frames": frames, "peak_mb": _own_peak_mb()}))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(*sys.argv[2:5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each variant, interleaved (best is reported)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/joypix-group-bench"))
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    print(f"generating {PHOTOS} test photos in {work} ...", flush=True)
    base = work / "photo-12mp.jpg"
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "render.py"), "--make-photo", str(base), "12mp"], check=True
    )
    folder = work / "group"
    make_group(base, folder)
    runs: dict[str, list[Any]] = {name: [] for name in VARIANTS}
    for attempt in range(args.repeat):
        for name in VARIANTS:
            run = run_child_group(name, folder, work / f"{name}.mp4")
            runs[name].append(run)
            print(
                f"  {name:6s} run {attempt + 1}: {run.seconds:6.2f} s, cpu {run.cpu:6.2f} s, peak {run.peak_mb:5.0f} MB",
                flush=True,
            )
    best = {name: min(run.seconds for run in results) for name, results in runs.items()}
    best_cpu = {name: min(run.cpu for run in results) for name, results in runs.items()}
    peak = max(run.peak_mb for run in runs["ours"])
    frames = _frame_count(work / "ours.mp4")
    ratio = best["ours"] / best["floor"]
    print()
    print(
        f"frames: {frames} ({PHOTOS} x {IMAGE_MS / 1000:g} s - {PHOTOS - 1} x {CROSSFADE_MS / 1000:g} s at {FPS} fps)"
    )
    print(f"ours  : {best['ours']:6.2f} s   floor: {best['floor']:6.2f} s (wall)")
    print(
        f"ours  : {best_cpu['ours']:6.2f} s   floor: {best_cpu['floor']:6.2f} s (cpu), {best_cpu['ours'] / best_cpu['floor']:.2f}x"
    )
    print(f"ours / floor      : {ratio:.2f}x   (target <= {RATIO_TARGET}) {'ok' if ratio <= RATIO_TARGET else 'OVER'}")
    verdict = "ok" if peak < MEMORY_TARGET_MB else "OVER"
    print(f"ours peak memory  : {peak:.0f} MB (target < {MEMORY_TARGET_MB}) {verdict}")
    return 0


def run_child_group(variant: str, folder: Path, output: Path) -> Any:
    """One variant in a fresh interpreter (the renderer benchmark's runner, given this file)."""
    return run_child(variant, folder, output, script=Path(__file__))


def _frame_count(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


if __name__ == "__main__":
    sys.exit(main())
