"""Tables of inputs: every format plans a job per row, columns become text vars, bad rows are named by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.images import write_image

from joypix_recipes.errors import PlanError, RecipeError
from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.plan import plan_jobs
from joypix_recipes.recipe.table import MAX_LINE_CHARACTERS, MAX_ROWS, Tables, read_table

ROWS = [
    {"image": "photos/a.jpg", "title": "Amber", "price": "49"},
    {"image": "photos/b.jpg", "title": "Cedar", "price": "32"},
]


def _table(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0])
    if path.suffix in (".csv", ".tsv"):
        separator = "\t" if path.suffix == ".tsv" else ","
        lines = [separator.join(columns), *(separator.join(row[name] for name in columns) for row in rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _recipe(folder: Path, table: str, output: str = "{{ vars.title }}.mp4", export: str = "") -> Path:
    path = folder / "recipe.yaml"
    path.write_text(
        f"version: 1\ninputs:\n  - table: {table}\n"
        "steps:\n  - text: {content: '{{ vars.title }} {{ vars.price }}'}\n"
        f"export:\n  output: '{output}'\n{export}",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    for name in ("a.jpg", "b.jpg"):
        write_image(tmp_path / "data" / "photos" / name, (64, 48))
    return tmp_path / "data" / "photos"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".jsonl"])
def test_each_table_format_plans_one_job_per_row_with_text_vars(tmp_path: Path, photos: Path, suffix: str) -> None:
    _table(tmp_path / "data" / f"products{suffix}", ROWS)
    jobs = plan_jobs(load_recipe(_recipe(tmp_path, f"data/products{suffix}")), out_dir=tmp_path / "out").jobs
    assert [job.input.path for job in jobs] == [photos / "a.jpg", photos / "b.jpg"]
    assert [job.vars["price"] for job in jobs] == ["49", "32"]
    assert [job.output.name for job in jobs] == ["Amber.mp4", "Cedar.mp4"]
    assert jobs[0].steps[0].to_dict()["text"]["content"] == "Amber 49"


def test_json_numbers_and_booleans_become_text(tmp_path: Path, photos: Path) -> None:
    (tmp_path / "data" / "t.json").write_text(
        json.dumps([{"path": "photos/a.jpg", "title": "A", "price": 49.5, "sale": True}]), encoding="utf-8"
    )
    (job,) = plan_jobs(load_recipe(_recipe(tmp_path, "data/t.json")), out_dir=tmp_path / "out").jobs
    assert (job.vars["price"], job.vars["sale"]) == ("49.5", "true")


def test_bad_rows_are_named_by_line_and_the_good_rows_still_plan(tmp_path: Path, photos: Path) -> None:
    table = tmp_path / "data" / "t.csv"
    table.write_text(
        "image,title,price\nphotos/a.jpg,Amber,49\nphotos/missing.jpg,Gone,1\n,Empty,2\n"
        '"photos/b.jpg"x,Cedar,32\n',
        encoding="utf-8",
    )
    plan = plan_jobs(load_recipe(_recipe(tmp_path, "data/t.csv")), out_dir=tmp_path / "out", strict=False)
    rejected = plan.rejected
    assert [job.vars["title"] for job in plan.jobs] == ["Amber"]
    assert rejected[0].startswith(f"{table} line 3: image 'photos/missing.jpg' not found")
    assert rejected[1] == f"{table} line 4: the image cell is empty"
    assert rejected[2].startswith(f"{table} line 5: text follows the closing quote of a cell")
    assert len(rejected) == 3


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_a_quote_never_closed_refuses_the_table_at_the_line_it_opens_on(tmp_path: Path, photos: Path, suffix: str) -> None:
    tab = "\t" if suffix == ".tsv" else ","
    table = tmp_path / "data" / f"t{suffix}"
    rows = ["image,title,price", "photos/a.jpg,Amber,49", 'photos/b.jpg,"Cedar ""large"",32', "photos/a.jpg,Ash,3", ""]
    table.write_text("\n".join(row.replace(",", tab) for row in rows), encoding="utf-8")
    with pytest.raises(RecipeError) as caught:
        load_recipe(_recipe(tmp_path, f"data/t{suffix}"))
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (3, 12)  # the table: entry in the recipe
    assert problem.message.startswith(f"{table} line 3: a quoted cell starts here and its quote is never closed")


def test_a_quoted_cell_may_span_lines_and_hold_quotes(tmp_path: Path, photos: Path) -> None:
    table = tmp_path / "data" / "t.csv"
    table.write_text('image,title,price\nphotos/a.jpg,"two\nlines, ""quoted""",1\nphotos/b.jpg,Cedar,2\n')
    jobs = plan_jobs(load_recipe(_recipe(tmp_path, "data/t.csv")), out_dir=tmp_path / "out").jobs
    assert [job.vars["title"] for job in jobs] == ['two\nlines, "quoted"', "Cedar"]


def test_a_strict_plan_fails_on_a_bad_row(tmp_path: Path, photos: Path) -> None:
    _table(tmp_path / "data" / "t.csv", [*ROWS, {"image": "photos/zzz.jpg", "title": "Z", "price": "1"}])
    with pytest.raises(PlanError, match=r"t\.csv line 4: image 'photos/zzz.jpg' not found"):
        plan_jobs(load_recipe(_recipe(tmp_path, "data/t.csv")), out_dir=tmp_path / "out")


def test_jsonl_rows_that_are_not_json_or_not_objects_are_bad_rows(tmp_path: Path, photos: Path) -> None:
    table = tmp_path / "data" / "t.jsonl"
    table.write_text(
        json.dumps(ROWS[0]) + "\n{not json\n[1, 2]\n" + json.dumps({**ROWS[1], "extra": "x"}) + "\n",
        encoding="utf-8",
    )
    problems = [row.problem for row in read_table(table)]
    assert problems[0] is None
    assert [row.place for row in read_table(table)][1:] == [f"{table} line 2", f"{table} line 3", f"{table} line 4"]
    assert "not JSON" in str(problems[1]) and "object" in str(problems[2]) and "'extra'" in str(problems[3])


def test_a_column_that_is_no_var_name_is_a_clear_recipe_error(tmp_path: Path, photos: Path) -> None:
    (tmp_path / "data" / "t.csv").write_text("image,unit price\nphotos/a.jpg,4\n", encoding="utf-8")
    with pytest.raises(RecipeError, match="column 'unit price' cannot be a var name"):
        load_recipe(_recipe(tmp_path, "data/t.csv"))


def test_a_table_needs_exactly_one_picture_column(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("title,price\nA,1\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"exactly one column must name the picture \(image, path or url; or images for a group\); found none"):
        Tables().columns(table)
    table.write_text("image,url\na.jpg,https://example.com/a.jpg\n", encoding="utf-8")
    with pytest.raises(PlanError, match="found 'image' and 'url'"):
        Tables().columns(table)


def test_an_images_column_makes_each_row_one_group_clip_and_a_missing_image_names_its_row(tmp_path: Path) -> None:
    for name in ("a1.jpg", "a2.jpg", "b1.jpg"):
        write_image(tmp_path / "photos" / name, (64, 48))
    table = tmp_path / "t.csv"
    table.write_text("images,title\nphotos/a2.jpg; photos/a1.jpg,A\nphotos/b1.jpg;photos/gone.jpg,B\n", encoding="utf-8")
    (tmp_path / "r.yaml").write_text("version: 1\ninputs:\n  - table: t.csv\nsteps:\n  - animate: {}\n")
    plan = plan_jobs(load_recipe(tmp_path / "r.yaml"), strict=False)
    (job,), rejected = plan.jobs, plan.rejected
    assert [image.name for image in job.input.images] == ["a2.jpg", "a1.jpg"] and job.vars["title"] == "A"
    assert len(rejected) == 1 and "line 3" in rejected[0] and "gone.jpg" in rejected[0]


def test_url_cells_are_checked_like_inline_url_inputs(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("url,title,price\nhttps://example.com/a.jpg,A,1\nftp://example.com/b.jpg,B,2\n")
    plan = plan_jobs(load_recipe(_recipe(tmp_path, "t.csv")), out_dir=tmp_path / "out", strict=False)
    jobs, rejected = plan.jobs, plan.rejected
    assert [job.input.url for job in jobs] == ["https://example.com/a.jpg"]
    assert len(rejected) == 1 and rejected[0].startswith(f"{tmp_path / 't.csv'} line 3: ")


def test_a_template_may_use_a_column_but_not_a_misspelt_one(tmp_path: Path, photos: Path) -> None:
    _table(tmp_path / "data" / "t.csv", ROWS)
    load_recipe(_recipe(tmp_path, "data/t.csv"))
    with pytest.raises(RecipeError, match="tilte"):
        load_recipe(_recipe(tmp_path, "data/t.csv", output="{{ vars.tilte }}.mp4"))


def test_a_missing_table_is_reported_at_its_line_in_the_recipe(tmp_path: Path) -> None:
    with pytest.raises(RecipeError) as caught:
        load_recipe(_recipe(tmp_path, "nope.csv", output="{{ input.stem }}.mp4"))
    problem = caught.value.problems[0]
    assert (problem.line, "cannot read table") == (3, problem.message[: len("cannot read table")])


def test_a_json_table_must_be_a_list_of_objects(tmp_path: Path) -> None:
    table = tmp_path / "t.json"
    table.write_text('{"image": "a.jpg"}', encoding="utf-8")
    with pytest.raises(PlanError, match="a list of objects"):
        list(read_table(table))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_an_overlong_line_is_one_bad_row_and_the_rows_after_it_keep_their_lines(tmp_path: Path, suffix: str) -> None:
    table = _table(tmp_path / f"t{suffix}", [*ROWS, ROWS[0]])
    lines = table.read_text().splitlines(keepends=True)
    lines[2] = lines[2].rstrip("\n") + "x" * (MAX_LINE_CHARACTERS + 10) + "\n"
    table.write_text("".join(lines))
    rows = list(read_table(table))
    numbers, bad = ([2, 3, 4], [False, True, False]) if suffix == ".csv" else ([1, 2, 3], [False, False, True])
    assert [row.place for row in rows] == [f"{table} line {number}" for number in numbers]
    assert [row.problem is not None and "longer than" in row.problem for row in rows] == bad


def test_a_table_of_more_rows_than_the_cap_is_refused_whole(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("image\n" + "a.jpg\n" * (MAX_ROWS + 1), encoding="utf-8")
    with pytest.raises(PlanError, match=f"more than {MAX_ROWS} rows; split it"):
        list(read_table(table))


def test_a_spreadsheet_export_with_a_byte_order_mark_and_crlf_lines_reads_cleanly(tmp_path: Path, photos: Path) -> None:
    table = tmp_path / "data" / "t.csv"
    table.write_bytes("\ufeffimage,title,price\r\nphotos/a.jpg,\"Amber, large\",49\r\n".encode())
    (job,) = plan_jobs(load_recipe(_recipe(tmp_path, "data/t.csv")), out_dir=tmp_path / "out").jobs
    assert (job.input.path, job.vars["title"], job.vars["price"]) == (photos / "a.jpg", "Amber, large", "49")
