"""Failure paths that must lose nothing: inputs never replaced, foreign files never overwritten."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from joypix_recipes.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "recipes/samples/sample.jpg"

SHORT = """\
version: 1
name: short
steps:
  - animate: {motion: zoom-in, duration: 0.5}
export: {resolution: 480p}
"""


def _digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir() if path.is_file()}


def test_out_equal_to_the_input_folder_leaves_every_input_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "img.jpg").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "short.yaml").write_text(SHORT, encoding="utf-8")
    before = _digests(tmp_path)
    monkeypatch.chdir(tmp_path)

    code = main(["run", "short.yaml", "--input", "img.jpg", "--out", "."])

    assert code == 2
    err = capsys.readouterr().err
    assert "img.jpg" in err and "poster" in err
    assert _digests(tmp_path) == before
    assert not (tmp_path / "img.mp4").exists()


def test_a_file_the_journal_does_not_know_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "img.jpg").write_bytes(SAMPLE.read_bytes())
    recipe = tmp_path / "short.yaml"
    recipe.write_text(SHORT, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "img.mp4").write_bytes(b"the user's own holiday video")
    before = _digests(out)

    code = main(["run", str(recipe), "--input", str(tmp_path / "img.jpg"), "--out", str(out), "--force"])

    assert code == 1
    assert "img.mp4" in capsys.readouterr().out
    assert {name: digest for name, digest in _digests(out).items() if name in before} == before
    assert not (out / "img.jpg").exists()


def test_a_rerun_with_force_replaces_its_own_outputs(tmp_path: Path) -> None:
    (tmp_path / "img.jpg").write_bytes(SAMPLE.read_bytes())
    recipe = tmp_path / "short.yaml"
    recipe.write_text(SHORT, encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", str(recipe), "--input", str(tmp_path / "img.jpg"), "--out", str(out), "-q"]

    assert main(args) == 0
    first = (out / "img.mp4").stat().st_mtime_ns
    assert main([*args, "--force"]) == 0
    assert (out / "img.mp4").stat().st_mtime_ns != first
