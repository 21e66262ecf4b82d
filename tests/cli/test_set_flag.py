"""`--set PATH=VALUE` through the command line: the clip, the dry run and the manifest show it, and `validate`
and `run` refuse a bad one alike, at the flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.recipes import recipe_file
from helpers.runs import events_of, run_joypix
from helpers.video import probe

RECIPE = """
version: 1
inputs: [a.jpg]
steps:
  - fade: {in: 0.2}
  - text: {content: Hello}
export: {aspect: "1:1", resolution: 720p, fps: 10, quality: low}
"""


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    write_image(tmp_path / "a.jpg", (64, 64))
    return recipe_file(tmp_path, RECIPE)


def test_a_set_resolution_is_the_size_of_the_clip_and_is_in_the_manifest(recipe: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_joypix(["run", str(recipe), "--out", str(out), "-q", "--set", "export.resolution=480p"])
    assert result.returncode == 0, result.stderr
    (clip,) = out.glob("*.mp4")
    assert probe(clip)["size"] == (480, 480)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["overrides"] == {"export.resolution": "480p"}
    assert manifest["jobs"][0]["export"]["resolution"] == "480p"


def test_a_run_without_set_records_no_overrides(recipe: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_joypix(["run", str(recipe), "--out", str(out), "-q"]).returncode == 0
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["overrides"] == {}


def test_the_dry_run_names_the_overrides_and_plans_with_them(recipe: Path) -> None:
    flags = ["--set", "export.resolution=480p", "--set", "steps[1].text.content=Sale"]
    listed = run_joypix(["run", str(recipe), "--dry-run", *flags])
    assert listed.returncode == 0, listed.stderr
    assert 'overrides: export.resolution="480p", steps[1].text.content="Sale"' in listed.stdout
    assert "(480x480)" in listed.stdout and '"Sale"' in listed.stdout
    (job,) = events_of(run_joypix(["run", str(recipe), "--dry-run", "--json", *flags]).stdout)
    assert job["overrides"] == {"export.resolution": "480p", "steps[1].text.content": "Sale"}
    assert job["export"]["resolution"] == "480p"


@pytest.mark.parametrize(
    ("flag", "says"),
    [
        (
            "export.resolution=999p",
            "--set export.resolution=999p: export.resolution '999p' is not one of 1080p, 720p, 480p",
        ),
        ("export.fps=[1, 2]", "--set export.fps=[1, 2]: "),
        (
            "export.resoluton=480p",
            "--set export.resoluton=480p: unknown key 'resoluton' in export; did you mean 'resolution'?",
        ),
        (
            "steps[7].text.content=Sale",
            "--set steps[7].text.content=Sale: steps has items [0] to [1]; [7] is out of range",
        ),
        ("export.aspect.wide=1", "--set export.aspect.wide=1: export.aspect is a single value, so it has no .wide"),
        ("exprt.resolution=480p", "--set exprt.resolution=480p: the recipe has no 'exprt'; did you mean 'export'?"),
        ("steps[0=1", "--set steps[0: not a setting path"),
    ],
)
def test_validate_and_run_refuse_a_bad_set_alike(recipe: Path, flag: str, says: str) -> None:
    checked = run_joypix(["validate", str(recipe), "--set", flag])
    ran = run_joypix(["run", str(recipe), "--dry-run", "--set", flag])
    assert checked.returncode == ran.returncode == 2
    assert says in checked.stderr.splitlines()[0]
    assert checked.stderr.splitlines()[0] == ran.stderr.splitlines()[0]
    assert f"{recipe}:" not in checked.stderr


def test_validate_accepts_a_good_set(recipe: Path) -> None:
    result = run_joypix(["validate", str(recipe), "--set", "export.resolution=480p"])
    assert result.returncode == 0, result.stderr
    assert f"{recipe}: ok" in result.stdout
