"""Plain mistakes and hostile inputs, through the command line: `validate` and `run` refuse them alike, quickly,
with one clear line naming the file and line, and the documented exit code (never 3, never a traceback)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.recipes import recipe_file
from helpers.runs import run_joypix

FAST_SECONDS = 2.0
"""How long a refusal may take beyond starting joypix (a harmless `validate` measures the start-up)."""

SMALL_CLIP = 'export: {aspect: "1:1", resolution: 480p, fps: 10, quality: low}\n'


def _table_recipe(folder: Path, table: str) -> Path:
    return recipe_file(
        folder,
        f"version: 1\ninputs:\n  - table: {table}\nsteps:\n  - animate: {{motion: zoom-in, duration: 0.4}}\n{SMALL_CLIP}",
    )


def _template_recipe(folder: Path, prompt: str) -> Path:
    write_image(folder / "a.jpg", (64, 64))
    return recipe_file(folder, f"version: 1\ninputs: [a.jpg]\nsteps:\n  - prompt: \"{prompt}\"\n")


def _refused(result: subprocess.CompletedProcess[str], *wording: str) -> str:
    err = result.stderr
    assert result.returncode == 2, err
    assert "internal error" not in err and "Traceback" not in err, err
    for words in wording:
        assert words in err, err
    return err


def _timed(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = run_joypix(args, cwd, timeout=60)
    return result, time.monotonic() - started


def test_a_quote_never_closed_is_refused_at_its_line_by_validate_and_by_run(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    write_image(tmp_path / "b.jpg", (64, 64))
    (tmp_path / "t.csv").write_text('image,caption\na.jpg,"unterminated\nb.jpg,ok\n', encoding="utf-8")
    recipe = _table_recipe(tmp_path, "t.csv")
    expected = f"{tmp_path / 't.csv'} line 2: a quoted cell starts here and its quote is never closed"

    validated = _refused(run_joypix(["validate", str(recipe)], tmp_path), f"{recipe}:3:12: ", expected)
    ran = _refused(run_joypix(["run", str(recipe), "--out", str(tmp_path / "out")], tmp_path), expected)

    assert validated.strip() == ran.strip()
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.mp4"))


@pytest.mark.parametrize("cell", ["/**/*.jpg", "../**/*.jpg", "~/**/*.jpg"])
def test_a_table_glob_that_leaves_the_table_folder_is_refused_at_once(tmp_path: Path, cell: str) -> None:
    folder = tmp_path / "shoot"
    write_image(folder / "a.jpg", (64, 64))
    (folder / "t.csv").write_text(f"images,caption\n{cell},x\na.jpg,y\n", encoding="utf-8")
    recipe = _table_recipe(folder, "t.csv")
    _, startup = _timed(["validate", str(_template_recipe(tmp_path / "plain", "zoom in"))], tmp_path)

    result, seconds = _timed(["validate", str(recipe)], folder)

    assert result.returncode == 1, result.stderr
    assert f"t.csv line 2: image '{cell}' looks outside the table's folder" in result.stderr
    assert "line 3" not in result.stderr
    assert seconds - startup < FAST_SECONDS


def test_a_table_glob_through_a_link_to_the_root_stops_after_a_bounded_walk(tmp_path: Path) -> None:
    folder = tmp_path / "shoot"
    folder.mkdir()
    (folder / "everything").symlink_to("/")
    (folder / "t.csv").write_text("images,caption\neverything/**/*.jpg,x\n", encoding="utf-8")
    recipe = _table_recipe(folder, "t.csv")
    _, startup = _timed(["validate", str(_template_recipe(tmp_path / "plain", "zoom in"))], tmp_path)

    result, seconds = _timed(["validate", str(recipe)], folder)

    assert result.returncode == 1, result.stderr
    assert "'everything/**/*.jpg' looks through more than" in result.stderr
    assert seconds - startup < FAST_SECONDS


@pytest.mark.parametrize(
    ("template", "wording"),
    [
        ("{{ ('x'*999999)" + "|batch(1)" * 8 + "|list }}", "the filter 'batch' produces more than"),
        ("{{ ('x'*999999)|slice(999999)|list }}", "the filter 'slice' produces more than"),
        ("{{ ('x'*100000)|map('center', 999999)|list|length }}", "the filter 'map' produces more than"),
    ],
)
def test_chained_filters_are_refused_quickly_by_validate_and_by_run(tmp_path: Path, template: str, wording: str) -> None:
    recipe = _template_recipe(tmp_path, template)
    _, startup = _timed(["validate", str(_template_recipe(tmp_path / "plain", "zoom in"))], tmp_path)

    validated, seconds = _timed(["validate", str(recipe)], tmp_path)
    ran = run_joypix(["run", str(recipe), "--dry-run"], tmp_path, timeout=60)

    assert _refused(validated, f"{recipe}:4:", wording).strip() == _refused(ran, wording).strip()
    assert seconds - startup < FAST_SECONDS


@pytest.mark.parametrize(
    ("template", "column", "wording"),
    [
        ("zoom in {{ 'a'|nosuchfilter }}", 29, "unknown filter 'nosuchfilter'"),
        ("zoom in {{ 'a'|uper }}", 29, "unknown filter 'uper'; did you mean 'upper'?"),
        ("zoom in {% if 'a' is nosuchtest %}x{% endif %}", 35, "unknown test 'nosuchtest'"),
    ],
)
def test_an_unknown_filter_or_test_is_a_recipe_error_at_its_place(
    tmp_path: Path, template: str, column: int, wording: str
) -> None:
    recipe = _template_recipe(tmp_path, template)

    validated = _refused(run_joypix(["validate", str(recipe)], tmp_path), f"{recipe}:4:{column}: {wording}")
    ran = _refused(run_joypix(["run", str(recipe), "--out", str(tmp_path / "out")], tmp_path), wording)

    assert validated.strip() == ran.strip()


def test_init_into_a_folder_that_does_not_exist_makes_it_and_says_so(tmp_path: Path) -> None:
    result = run_joypix(["init", "nodir/promo.yaml"], tmp_path)

    assert result.returncode == 0, result.stderr
    assert "made the folder nodir" in result.stdout
    write_image(tmp_path / "nodir" / "photos" / "a.jpg", (32, 32))  # its inputs, beside it
    assert run_joypix(["validate", "nodir/promo.yaml"], tmp_path).returncode == 0


def test_init_under_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("", encoding="utf-8")

    _refused(run_joypix(["init", "taken/promo.yaml"], tmp_path), "cannot make the folder taken: a file has that name")


@pytest.mark.parametrize("output", [".joypix/x.mp4", "{{ '.joypix' }}/{{ input.stem }}.mp4", ".JoyPix/tmp/x.mp4"])
def test_an_output_name_inside_the_state_folder_is_refused(tmp_path: Path, output: str) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    recipe = recipe_file(
        tmp_path, f"version: 1\ninputs: [a.jpg]\nsteps:\n  - prompt: zoom in\nexport:\n  output: \"{output}\"\n"
    )

    ran = _refused(run_joypix(["run", str(recipe), "--out", str(tmp_path / "out")], tmp_path), f"{recipe}:6:", ".joypix")

    assert "joypix keeps its own state" in ran
    assert not list((tmp_path / "out").rglob("*.mp4"))


def test_an_output_folder_that_is_the_input_folder_is_named_as_the_reason_nothing_matches(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    recipe = recipe_file(tmp_path, "version: 1\ninputs: ['*.jpg']\nsteps:\n  - prompt: zoom in\n")

    ran = _refused(run_joypix(["run", str(recipe), "--out", str(tmp_path), "--dry-run"], tmp_path))

    assert f"input '*.jpg' matches only files in the output folder {tmp_path}" in ran
    assert "give --out a folder of its own" in ran
