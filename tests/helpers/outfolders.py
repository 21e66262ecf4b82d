"""An output folder two `joypix run`s filled: the first made two variants of one photo; the second, from
a table, two more and two failures (a row whose picture is damaged). Tiny clips (480p, 0.3 s, 10 fps)
keep it quick."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from helpers.runs import run_joypix

RECIPE = """\
version: 1
name: promo
inputs: [a.jpg]
steps:
  - animate: {motion: none, duration: 0.3}
  - text: {content: "Sale", position: center}
variants:
  - name: square
    export: {aspect: "1:1"}
  - name: tall
    export: {aspect: "9:16"}
export: {resolution: 480p, fps: 10, quality: low, output: "{{ input.stem }}-{{ variant.name }}.mp4"}
"""
A_COLOUR, B_COLOUR = (220, 40, 40), (40, 60, 220)
DAMAGED_JPEG = b"\xff\xd8\xff\xe0 truncated"
TABLE = "sku,image\nJP-200,b.jpg\nJP-900,broken.jpg\n"


@dataclass(frozen=True)
class TwoRuns:
    """The folder, and what each run printed."""

    root: Path
    out: Path
    first_stdout: str
    second_stdout: str
    second_exit: int


def make_two_runs(root: Path) -> TwoRuns:
    """Run the promo recipe over ``a.jpg``, then over a table of ``b.jpg`` and a damaged ``broken.jpg``, into ``root/out``."""
    root.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), A_COLOUR).save(root / "a.jpg")
    Image.new("RGB", (64, 64), B_COLOUR).save(root / "b.jpg")
    (root / "broken.jpg").write_bytes(DAMAGED_JPEG)
    (root / "promo.yaml").write_text(RECIPE, encoding="utf-8")
    (root / "rows.csv").write_text(TABLE, encoding="utf-8")
    first = run_joypix(["run", "promo.yaml", "--out", "out"], root)
    assert first.returncode == 0, first.stderr
    second = run_joypix(["run", "promo.yaml", "--input", "rows.csv", "--out", "out"], root)
    return TwoRuns(root, root / "out", first.stdout, second.stdout, second.returncode)


def copy_runs(runs: TwoRuns, root: Path) -> TwoRuns:
    """A copy of ``runs``'s folder under ``root``, for a test that changes it (paths in the manifest stay the originals')."""
    shutil.copytree(runs.root, root)
    return TwoRuns(root, root / "out", runs.first_stdout, runs.second_stdout, runs.second_exit)


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    """The two-run folder, made once for every test that reads it (a test that changes it takes a copy)."""
    return make_two_runs(tmp_path_factory.mktemp("two-runs") / "batch")
