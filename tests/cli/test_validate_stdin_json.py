"""`validate -` reads a recipe piped in (named `<stdin>`, its paths relative to the current folder), and
`validate --json` gives one JSON object per file: {"file", "ok", "problems": [{"line", "column", "message"}]}."""

from __future__ import annotations

import subprocess
from pathlib import Path

from helpers.images import write_image
from helpers.recipes import recipe_file
from helpers.runs import events_of, start_joypix

GOOD = """\
version: 1
inputs: [a.jpg]
steps:
  - prompt: zoom in
"""

BAD_FADE = """\
version: 1
inputs: [a.jpg]
steps:
  - fade: {in: -1}
"""


def _validate(args: list[str], folder: Path, piped: str = "") -> subprocess.CompletedProcess[str]:
    process = start_joypix(["validate", *args], folder, stdin=subprocess.PIPE)
    stdout, stderr = process.communicate(piped, timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_a_piped_recipe_finds_its_images_in_the_current_folder(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    result = _validate(["-"], tmp_path, GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "<stdin>: ok"


def test_a_piped_recipes_problems_are_named_stdin_line_column(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    result = _validate(["-"], tmp_path, BAD_FADE)
    assert result.returncode == 2
    assert result.stderr.startswith("<stdin>:4:16: fade.in must be at least 0"), result.stderr


def test_a_piped_image_that_is_not_here_is_missing(tmp_path: Path) -> None:
    result = _validate(["-"], tmp_path, GOOD)
    assert result.returncode == 2
    assert result.stderr.startswith("<stdin>:2:10: input 'a.jpg' not found"), result.stderr


def test_standard_input_is_read_once(tmp_path: Path) -> None:
    result = _validate(["-", "-"], tmp_path, GOOD)
    assert result.returncode == 2
    assert "give '-' only once" in result.stderr


def test_json_gives_one_object_per_file_with_each_problem_placed(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    good = recipe_file(tmp_path, GOOD, "good.yaml")
    recipe_file(tmp_path, BAD_FADE, "bad.yaml")
    result = _validate(["--json", str(good), "bad.yaml"], tmp_path)
    assert result.returncode == 2
    assert result.stderr == ""
    assert events_of(result.stdout) == [
        {"file": str(good), "ok": True, "problems": []},
        {
            "file": "bad.yaml",
            "ok": False,
            "problems": [{"line": 4, "column": 16, "message": "fade.in must be at least 0, not -1"}],
        },
    ]


def test_json_reads_a_piped_recipe_too_and_names_a_prompt_it_cannot_read(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    result = _validate(["-", "--json"], tmp_path, GOOD.replace("zoom in", "sparkles everywhere"))
    assert result.returncode == 2
    (verdict,) = events_of(result.stdout)
    assert verdict["file"] == "<stdin>"
    assert verdict["ok"] is False
    (problem,) = verdict["problems"]
    assert (problem["line"], problem["column"]) == (4, 13)
    assert 'does not understand "sparkles everywhere"' in problem["message"]
