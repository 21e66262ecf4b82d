"""A run from the command line reads each table once, and finds the --var names its recipe never uses."""

from __future__ import annotations

from pathlib import Path

from helpers.images import write_image

from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.batch import UnusedVar, load_batch, unused_vars
from joypix_recipes.recipe.table import Table, Tables, read_whole_table

TABLE_RECIPE = """\
version: 1
inputs:
  - table: data/products.csv
steps:
  - text: {content: "{{ vars.title }}"}
export: {output: "{{ vars.sku }}.mp4"}
"""

INPUT_RECIPE = """\
version: 1
steps:
  - text: {content: "{{ vars.title }}"}
export: {output: "{{ vars.sku }}.mp4"}
"""


class CountingReader:
    """Reads tables as a run does, and counts how often each file is read."""

    def __init__(self) -> None:
        self.reads: dict[Path, int] = {}

    def __call__(self, path: Path) -> Table:
        self.reads[path] = self.reads.get(path, 0) + 1
        return read_whole_table(path)


def _batch_folder(tmp_path: Path, recipe: str) -> tuple[Path, Path]:
    for name in ("a.jpg", "b.jpg"):
        write_image(tmp_path / "data" / name, (48, 32))
    table = tmp_path / "data" / "products.csv"
    table.write_text("sku,image,title\nA1,a.jpg,Amber\nGONE,missing.jpg,Gone\nB2,b.jpg,Cedar\n", encoding="utf-8")
    path = tmp_path / "recipe.yaml"
    path.write_text(recipe, encoding="utf-8")
    return path, table


def test_the_recipe_s_table_is_read_once_for_its_checks_and_its_plan(tmp_path: Path) -> None:
    recipe, table = _batch_folder(tmp_path, TABLE_RECIPE)
    reader = CountingReader()

    batch = load_batch(recipe, tables=Tables(reader))
    table.unlink()  # a second read would now fail the plan
    plan = batch.plan(out_dir=tmp_path / "out")

    assert reader.reads == {table: 1}
    assert [job.output.name for job in plan.jobs] == ["A1.mp4", "B2.mp4"]
    assert len(plan.rejected) == 1 and f"{table} line 3" in plan.rejected[0]


def test_an_input_table_is_read_once_for_its_columns_and_its_plan(tmp_path: Path) -> None:
    recipe, table = _batch_folder(tmp_path, INPUT_RECIPE)
    reader = CountingReader()

    batch = load_batch(recipe, inputs=[str(table)], tables=Tables(reader))
    table.write_text("sku,image,title\nOTHER,a.jpg,Other\n", encoding="utf-8")  # a second read would see this row
    plan = batch.plan(out_dir=tmp_path / "out")

    assert reader.reads == {table: 1}
    assert [job.vars["sku"] for job in plan.jobs] == ["A1", "B2"]


def test_bad_rows_come_from_the_table_read_to_check_the_recipe(tmp_path: Path) -> None:
    recipe, table = _batch_folder(tmp_path, TABLE_RECIPE)
    reader = CountingReader()

    batch = load_batch(recipe, tables=Tables(reader))
    table.unlink()

    (bad,) = batch.plan(out_dir=tmp_path / "out").rejected
    assert bad.startswith(f"{table} line 3: image 'missing.jpg' not found")
    assert reader.reads == {table: 1}


def test_a_table_that_fails_midway_keeps_its_columns_rows_and_reason(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    rows = b"".join(b"a.jpg,Amber %d\n" % number for number in range(5000))  # well past the decoder's first chunk
    table.write_bytes(b"image,title\n" + rows + b"b.jpg,\xff\xfe\n")

    read = read_whole_table(table)

    assert read.columns == ("image", "title") and len(read.rows) > 1
    assert read.failure is not None and "not UTF-8" in read.failure
    assert Tables(lambda path: read).columns(table) == ("image", "title")


def test_a_var_the_recipe_neither_defines_nor_reads_is_unused_with_the_closest_name(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "version: 1\nvars: {brand: Acme}\nsteps:\n"
        "  - prompt: \"title {{ vars.brand }} {{ vars['tagline'] }} {{ vars.city }}\"\n",
        encoding="utf-8",
    )
    recipe = load_recipe(path, extra_vars=["tagline", "city"])

    found = unused_vars(recipe, {"brnad": "x", "city": "Oslo", "tagline": "t", "zzz": "?"})

    assert found == (
        UnusedVar("brnad", "brand", ("brand", "city", "tagline")),
        UnusedVar("zzz", None, ("brand", "city", "tagline")),
    )
