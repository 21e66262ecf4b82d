"""Run output and report through the command line: job lines that tell jobs apart, and a manifest,
report and contact sheet that describe every clip in the folder, run after run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import av
import pytest
from helpers.outfolders import A_COLOUR, B_COLOUR, TwoRuns, copy_runs
from helpers.runs import run_joypix
from PIL import Image

from joypix_recipes.run.contact_sheet import CAPTION_HEIGHT, GAP, TILE
from joypix_recipes.run.report import merge_entries


def _manifest(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "manifest.json").read_text(encoding="utf-8")))


def _by_file(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(entry["output"]).name: entry for entry in manifest["jobs"]}


def test_job_lines_name_variant_and_row_and_label_render_time_beside_clip_length(two_runs: TwoRuns) -> None:
    first = two_runs.first_stdout
    assert re.search(r"^done     a\.jpg \[variant square\] -> \S+a-square\.mp4  rendered in \d+\.\d s · 0\.3 s clip$", first, re.M), first
    second = two_runs.second_stdout
    assert re.search(r"^done     b\.jpg \[variant tall, row JP-200\] -> \S+b-tall\.mp4  rendered in \d+\.\d s · 0\.3 s clip$", second, re.M)
    assert re.search(r"^failed   broken\.jpg \[variant square, row JP-900\]: .*broken\.jpg", second, re.M), second


def test_manifest_accumulates_runs_each_clip_naming_the_run_that_made_it(two_runs: TwoRuns) -> None:
    manifest = _manifest(two_runs.out)
    entries = _by_file(manifest)
    assert sorted(entries) == ["a-square.mp4", "a-tall.mp4", "b-square.mp4", "b-tall.mp4", "broken-square.mp4", "broken-tall.mp4"]
    first_run, second_run = entries["a-square.mp4"]["run"], entries["b-square.mp4"]["run"]
    assert first_run["id"] != second_run["id"] and first_run["time"] <= second_run["time"]
    assert entries["a-tall.mp4"]["run"] == first_run and entries["broken-tall.mp4"]["run"] == second_run
    assert [run["id"] for run in manifest["runs"]] == [first_run["id"], second_run["id"]]
    assert manifest["run"] == second_run and manifest["counts"] == {"done": 2, "skipped": 0, "failed": 2, "cancelled": 0}
    assert entries["b-tall.mp4"]["row"] == "JP-200" and entries["b-tall.mp4"]["variant"] == "tall"
    assert {entries[name]["status"] for name in ("broken-square.mp4", "broken-tall.mp4")} == {"failed"}
    for name in ("a-square.mp4", "a-tall.mp4", "b-tall.mp4"):
        clip = entries[name]["clip"]
        with av.open(str(two_runs.out / name)) as container:
            stream = container.streams.video[0]
            assert (clip["width"], clip["height"]) == (stream.codec_context.width, stream.codec_context.height)
            frames = sum(1 for _ in container.decode(stream))
        assert clip["bytes"] == (two_runs.out / name).stat().st_size
        assert clip["length_s"] == pytest.approx(frames / 10, abs=0.11)
    assert (entries["a-tall.mp4"]["clip"]["width"], entries["a-tall.mp4"]["clip"]["height"]) == (480, 854)


def test_report_puts_failures_first_and_gives_each_clip_its_facts_and_a_download(two_runs: TwoRuns) -> None:
    page = (two_runs.out / "report.html").read_text(encoding="utf-8")
    statuses = re.findall(r'<section class="card (\w+)"', page)
    assert statuses == ["failed", "failed", "done", "done", "done", "done"]
    for name, size in (("a-square.mp4", "480x480"), ("a-tall.mp4", "480x854"), ("b-square.mp4", "480x480")):
        card = page[page.index(f'src="{name}"'):]
        card = card[: card.index("</section>")]
        assert re.search(rf"0\.3 s clip · {size} · \d+(\.\d)? (bytes|kB)", card), card
        assert f'<a href="{name}" download>' in card
        assert re.search(r"run \d{8}-\d{6}-[0-9a-f]{6} at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", card)
    assert "b.jpg [variant square, row JP-200]" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


@pytest.fixture(scope="module")
def third_run(two_runs: TwoRuns, tmp_path_factory: pytest.TempPathFactory) -> tuple[TwoRuns, str]:
    """A moved copy of the folder, one clip deleted by hand, then the table run again with --contact-sheet."""
    runs = copy_runs(two_runs, tmp_path_factory.mktemp("third") / "moved")
    (runs.out / "a-tall.mp4").unlink()
    result = run_joypix(["run", "promo.yaml", "--input", "rows.csv", "--out", "out", "--contact-sheet"], runs.root)
    assert result.returncode == 1, result.stderr  # the damaged row fails again
    return runs, result.stdout


def test_a_later_run_drops_deleted_clips_and_keeps_earlier_clips_with_their_run(
    two_runs: TwoRuns, third_run: tuple[TwoRuns, str]
) -> None:
    runs, _ = third_run
    before, after = _by_file(_manifest(two_runs.out)), _by_file(_manifest(runs.out))
    assert sorted(after) == ["a-square.mp4", "b-square.mp4", "b-tall.mp4", "broken-square.mp4", "broken-tall.mp4"]
    assert after["a-square.mp4"]["run"] == before["a-square.mp4"]["run"]
    assert after["a-square.mp4"]["output"] == str((runs.out / "a-square.mp4").resolve())  # the moved folder's
    assert after["broken-tall.mp4"]["run"] != before["broken-tall.mp4"]["run"]  # failed again, in this run
    assert "a-tall.mp4" not in (runs.out / "report.html").read_text(encoding="utf-8")


def test_a_skipped_clip_keeps_the_run_that_made_it_and_an_earlier_failure_stays_until_remade() -> None:
    first = {"id": "run-1", "time": "2026-01-01T10:00:00+0000"}
    second = {"id": "run-2", "time": "2026-01-01T11:00:00+0000"}
    earlier = [
        {"output": "/nowhere/a.mp4", "identity": "id-a", "status": "done", "run": first},
        {"output": "/nowhere/b.mp4", "identity": "id-b", "status": "failed", "run": first},
        {"output": "/nowhere/c.mp4", "identity": "id-c", "status": "done", "run": first},
    ]
    current = [{"output": "/nowhere/a.mp4", "identity": "id-a", "status": "skipped", "run": second}]
    merged = merge_entries(earlier, current)
    assert [(entry["output"], entry["run"]["id"]) for entry in merged] == [("/nowhere/a.mp4", "run-1"), ("/nowhere/b.mp4", "run-1")]
    remade = merge_entries(earlier, [{"output": "/nowhere/a.mp4", "identity": "id-new", "status": "skipped", "run": second}])
    assert remade[0]["run"]["id"] == "run-2"  # another job's clip under that name: this run's


def test_contact_sheet_has_a_tile_of_distinct_content_per_clip(third_run: tuple[TwoRuns, str]) -> None:
    runs, stdout = third_run
    sheet_path = runs.out / "contact-sheet.jpg"
    assert f"contact sheet: {sheet_path}" in stdout
    with Image.open(sheet_path) as sheet:
        assert sheet.format == "JPEG"
        sheet.load()
        rgb = sheet.convert("RGB")
    columns, rows = 2, 2  # three clips: two a row
    cell = (TILE[0] + GAP, TILE[1] + CAPTION_HEIGHT + GAP)
    assert rgb.size == (GAP + columns * cell[0], GAP + rows * cell[1])
    tiles = [
        rgb.crop((GAP + col * cell[0], GAP + row * cell[1], GAP + col * cell[0] + TILE[0], GAP + row * cell[1] + TILE[1]))
        for row in range(rows) for col in range(columns)
    ]
    assert len({tile.tobytes() for tile in tiles[:3]}) == 3
    # The sheet follows the manifest: each tile shows its own photo (a.jpg red, b.jpg blue).
    names = [Path(entry["output"]).name for entry in _manifest(runs.out)["jobs"] if entry["status"] in ("done", "skipped")]
    for name, tile in zip(names, tiles, strict=False):
        red, _, blue = tile.crop((TILE[0] // 2 - 20, TILE[1] // 2 - 20, TILE[0] // 2 + 20, TILE[1] // 2 + 20)).resize((1, 1)).getpixel((0, 0))
        colour = A_COLOUR if name.startswith("a-") else B_COLOUR
        assert abs(red - colour[0]) < 40 and abs(blue - colour[2]) < 40, (name, red, blue)
    assert max(high for _, high in tiles[3].getextrema()) < 40  # the fourth cell is empty background
    assert not list(runs.out.glob(".joypix/tmp/*contact*"))


def test_json_events_give_a_finished_clips_length_size_and_bytes(two_runs: TwoRuns) -> None:
    import io

    import helpers.jobs

    from joypix_recipes.run.outcome import JobOutcome
    from joypix_recipes.run.progress import JsonProgress

    clip = two_runs.out / "a-tall.mp4"
    job = helpers.jobs.make_job(two_runs.root / "a.jpg", output=clip, variant="tall")
    out = io.StringIO()
    JsonProgress(out, verbose=False).job_finished(
        JobOutcome(job=job, identity="id", status="done", output=clip, error=None, duration_s=1.0)
    )
    event = json.loads(out.getvalue())
    assert event["clip"] == {"length_s": pytest.approx(0.3, abs=0.11), "width": 480, "height": 854, "bytes": clip.stat().st_size}
