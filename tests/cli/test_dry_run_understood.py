"""`run --dry-run` says what the local interpreter made of each prompt step, and how long the clip is planned to be."""

from __future__ import annotations

from pathlib import Path

from helpers.images import write_image
from helpers.recipes import recipe_file
from helpers.runs import events_of, run_joypix

RECIPE = """
version: 1
inputs: [a.jpg]
steps:
  - prompt: 'Zoom in for 6 seconds. Add the title "Sale" at the top. Fade in.'
  - prompt: "add music at 20%"
export: {aspect: "1:1", resolution: 720p, fps: 10, quality: low}
"""


def _recipe(tmp_path: Path, text: str = RECIPE) -> Path:
    write_image(tmp_path / "a.jpg", (64, 64))
    return recipe_file(tmp_path, text)


def test_the_listing_says_what_each_prompt_was_understood_as_and_the_length(tmp_path: Path) -> None:
    result = run_joypix(["run", str(_recipe(tmp_path)), "--dry-run"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    first = lines.index('  prompt 1: "Zoom in for 6 seconds. Add the title \\"Sale\\" at the top. Fade in."')
    assert lines[first + 1] == '  understood: zoom-in over 6 s; fade in 1 s; title "Sale" at top'
    assert lines[first + 3] == "  understood: music at 20%"
    assert "  length: 6.0 s" in lines


def test_json_gives_each_steps_reading_and_the_length_in_seconds(tmp_path: Path) -> None:
    result = run_joypix(["run", str(_recipe(tmp_path)), "--dry-run", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = events_of(result.stdout)
    assert job["understood"] == [["zoom-in over 6 s", "fade in 1 s", 'title "Sale" at top'], ["music at 20%"]]
    assert job["length_s"] == 6.0


def test_a_later_prompt_that_states_only_a_duration_keeps_the_recipes_move(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, """
        version: 1
        inputs: [a.jpg]
        steps:
          - animate: {motion: pan-left, duration: 4}
          - prompt: make it 3 seconds
        """)
    result = run_joypix(["run", str(recipe), "--dry-run", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = events_of(result.stdout)
    assert job["understood"] == [["pan-left at 1.25x over 4 s"], ["camera move over 3 s"]]
    assert job["length_s"] == 3.0


def test_a_phrase_left_unread_under_unknown_phrases_warn_is_named(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, """
        version: 1
        inputs: [a.jpg]
        unknown_phrases: warn
        steps:
          - prompt: zoom in. sparkles everywhere
        """)
    result = run_joypix(["run", str(recipe), "--dry-run"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert '  understood: zoom-in; not understood: "sparkles everywhere"' in result.stdout.splitlines()


def test_a_cloud_jobs_prompt_is_left_to_the_cloud_agent(tmp_path: Path) -> None:
    result = run_joypix(["run", str(_recipe(tmp_path)), "--dry-run", "--json", "--backend", "nemo"], tmp_path)
    assert result.returncode == 0, result.stderr
    (job,) = events_of(result.stdout)
    assert job["understood"] == [None, None]
    assert job["length_s"] == 5.0  # the default move: the cloud agent's reading is not counted
