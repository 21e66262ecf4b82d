"""Batches from a table through the command line: bad rows named by line, good rows rendered, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from helpers.images import write_image
from helpers.repo import REPO

from joypix_recipes.cli.main import main

TINY = """\
version: 1
inputs:
  - table: data/products.csv
steps:
  - animate: {motion: zoom-in, duration: 0.4, zoom: 1.1}
export: {aspect: "1:1", resolution: 480p, fps: 10, quality: low, output: "{{ vars.sku }}.mp4"}
"""


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    write_image(tmp_path / "data" / "a.jpg", (96, 96), seed=1)
    write_image(tmp_path / "data" / "b.jpg", (96, 96), seed=2)
    (tmp_path / "data" / "products.csv").write_text(
        "sku,image\nA1,a.jpg\nGONE,missing.jpg\nB2,b.jpg\nEMPTY,\n", encoding="utf-8"
    )
    (tmp_path / "recipe.yaml").write_text(TINY, encoding="utf-8")
    return tmp_path


def test_a_bad_row_fails_alone_and_is_named_by_its_line(batch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", str(batch / "recipe.yaml"), "--out", str(batch / "out"), "--quiet"])

    assert code == 1
    err = capsys.readouterr().err
    table = batch / "data" / "products.csv"
    assert f"{table} line 3: image 'missing.jpg' not found" in err
    assert f"{table} line 5: the image cell is empty" in err
    assert sorted(path.name for path in (batch / "out").glob("*.mp4")) == ["A1.mp4", "B2.mp4"]
    with av.open(str(batch / "out" / "B2.mp4")) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height, frames) == (480, 480, 4)


def test_dry_run_lists_the_good_rows_and_names_the_bad_ones(
    batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(batch / "recipe.yaml"), "--out", str(batch / "out"), "--dry-run", "--json"])

    assert code == 1
    captured = capsys.readouterr()
    jobs = [json.loads(line) for line in captured.out.splitlines()]
    assert [Path(job["output"]).name for job in jobs] == ["A1.mp4", "B2.mp4"]
    assert "products.csv line 3" in captured.err and "products.csv line 5" in captured.err
    assert not (batch / "out").exists()


def test_validate_names_the_bad_rows_and_exits_1(batch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(batch / "recipe.yaml")]) == 1
    captured = capsys.readouterr()
    assert "2 table row(s) cannot run" in captured.out
    assert "products.csv line 3: image 'missing.jpg' not found" in captured.err


def test_a_table_given_as_input_replaces_the_recipe_inputs_and_feeds_its_columns(
    batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (batch / "data" / "other.tsv").write_text("image\tsku\tcaption\nb.jpg\tT1\tHello\n", encoding="utf-8")
    recipe = batch / "captioned.yaml"
    recipe.write_text(TINY.replace("inputs:\n  - table: data/products.csv\n", "").replace(
        "steps:\n", "steps:\n  - text: {content: '{{ vars.caption }}'}\n"
    ))

    code = main(["run", str(recipe), "--input", str(batch / "data" / "other.tsv"), "--dry-run", "--json"])

    assert code == 0
    (job,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert Path(job["output"]).name == "T1.mp4" and job["input"]["path"] == str(batch / "data" / "b.jpg")


def test_a_column_that_is_no_var_name_exits_2_with_one_line(
    batch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (batch / "data" / "products.csv").write_text("sku,image,2nd\nA1,a.jpg,x\n", encoding="utf-8")
    assert main(["run", str(batch / "recipe.yaml"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "column '2nd' cannot be a var name" in err and "Traceback" not in err


def test_the_catalogue_example_renders_a_clip_per_row_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipes = REPO / "recipes"
    code = main(["run", str(recipes / "catalogue.yaml"), "--out", str(tmp_path), "--quiet"])

    assert code == 0, capsys.readouterr().err
    clips = sorted(path.name for path in (tmp_path / "catalogue").glob("*.mp4"))
    assert clips == ["JP-100.mp4", "JP-200.mp4", "JP-300.mp4"]
    with av.open(str(tmp_path / "catalogue" / "JP-200.mp4")) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height, frames) == (480, 480, 90)
