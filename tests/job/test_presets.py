"""Platform presets: they fill aspect, resolution and fps, written keys win, and over-long clips are warned about."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.repo import REPO

from joypix_recipes.cli.main import main
from joypix_recipes.job.export import PRESETS
from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.plan import Plan, plan_jobs
from joypix_recipes.recipe.schema import field_schema


def _recipe(tmp_path: Path, body: str) -> Path:
    write_image(tmp_path / "a.jpg", (64, 48))
    path = tmp_path / "recipe.yaml"
    path.write_text(f"version: 1\ninputs: [a.jpg]\n{body}", encoding="utf-8")
    return path


def _plan(path: Path) -> Plan:
    return plan_jobs(load_recipe(path), out_dir=path.parent / "out")


@pytest.mark.parametrize(
    ("preset", "aspect", "size"),
    [
        ("reels", "9:16", (1080, 1920)),
        ("shorts", "9:16", (1080, 1920)),
        ("tiktok", "9:16", (1080, 1920)),
        ("story", "9:16", (1080, 1920)),
        ("youtube", "16:9", (1920, 1080)),
        ("feed", "4:5", (1080, 1350)),
        ("square", "1:1", (1080, 1080)),
    ],
)
def test_a_preset_fills_aspect_resolution_and_fps(tmp_path: Path, preset: str, aspect: str, size: tuple[int, int]) -> None:
    (job,) = _plan(_recipe(tmp_path, f"steps: [{{fade: {{in: 0.2}}}}]\nexport: {{preset: {preset}, fps: 25}}\n")).jobs
    assert (job.export.aspect, job.export.size) == (aspect, size)
    (job,) = _plan(_recipe(tmp_path, f"steps: [{{fade: {{in: 0.2}}}}]\nexport: {{preset: {preset}}}\n")).jobs
    assert job.export.fps == Fraction(30)


def test_keys_written_beside_a_preset_override_it(tmp_path: Path) -> None:
    (job,) = _plan(_recipe(tmp_path, "steps: [{fade: {in: 0.2}}]\nexport: {preset: youtube, resolution: 720p, fps: 24}\n")).jobs
    assert (job.export.aspect, job.export.size, job.export.fps) == ("16:9", (1280, 720), Fraction(24))


def test_variants_may_use_presets_and_override_the_recipe_preset(tmp_path: Path) -> None:
    body = (
        "steps: [{fade: {in: 0.2}}]\nexport: {preset: reels, resolution: 480p}\n"
        "variants:\n  - name: tall\n  - name: wide\n    export: {preset: youtube}\n"
        "  - name: feed\n    export: {preset: feed, aspect: '1:1'}\n"
    )
    jobs = _plan(_recipe(tmp_path, body)).jobs
    assert [(job.variant, job.export.aspect, job.export.resolution) for job in jobs] == [
        ("tall", "9:16", "480p"),
        ("wide", "16:9", "1080p"),
        ("feed", "1:1", "1080p"),
    ]


def test_a_clip_longer_than_the_platform_takes_is_warned_about_at_plan_time(tmp_path: Path) -> None:
    body = "steps: [{animate: {duration: 61}}]\nexport: {preset: story}\nvariants:\n  - name: s\n  - name: t\n    export: {preset: tiktok}\n"
    assert _plan(_recipe(tmp_path, body)).warnings == (
        "a.jpg [s] (61 s) longer than story takes (60 s); shorten the animate duration or pick another preset",
    )


def test_a_clip_within_the_limit_or_without_a_preset_gets_no_warning(tmp_path: Path) -> None:
    assert _plan(_recipe(tmp_path, "steps: [{animate: {duration: 60}}]\nexport: {preset: story}\n")).warnings == ()
    assert _plan(_recipe(tmp_path, "steps: [{animate: {duration: 600}}]\nexport: {aspect: '9:16'}\n")).warnings == ()


def test_the_run_command_prints_the_length_warning_and_still_plans(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _recipe(tmp_path, "steps: [{animate: {duration: 200}}]\nexport: {preset: reels}\n")
    assert main(["run", str(path), "--dry-run"]) == 0
    assert "warning: a.jpg (200 s) longer than reels takes (180 s)" in capsys.readouterr().err


def test_an_unknown_preset_is_a_recipe_error_naming_the_choices(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="reels"):
        load_recipe(_recipe(tmp_path, "steps: [{fade: {in: 0.2}}]\nexport: {preset: instagram}\n"))


def test_the_schema_offers_exactly_the_presets_the_code_knows() -> None:
    assert field_schema("Export", "preset")["enum"] == list(PRESETS)


def test_the_readme_states_the_limits_the_code_checks() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\s*\| `([a-z]+)` \| ([0-9:]+) \| ([0-9p]+) \| ([0-9]+) \| ([0-9]+ s|no limit)", readme, re.M)
    stated = {name: (aspect, resolution, int(fps), limit) for name, aspect, resolution, fps, limit in rows}
    expected = {
        name: (p.aspect, p.resolution, p.fps, "no limit" if p.longest_seconds is None else f"{p.longest_seconds:g} s")
        for name, p in PRESETS.items()
    }
    assert stated == expected
