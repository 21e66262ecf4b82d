"""The manifest of a run that a full disk stopped: it agrees with the exit code and lists every planned job."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.disks import mount_small_disk
from helpers.images import write_image
from helpers.runs import start_joypix

SHORT = """\
version: 1
name: short
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {resolution: 480p, fps: 10, quality: low}
"""


@pytest.fixture
def journal_disk(tmp_path: Path) -> Iterator[Path]:
    """OUT/.joypix (journal, lock) on a 1 MB tmpfs, the clips beside it on the usual disk."""
    with mount_small_disk(tmp_path, "1m") as mount:
        out = tmp_path / "out"
        out.mkdir()
        (out / ".joypix").symlink_to(mount, target_is_directory=True)
        yield mount


def _fill(disk: Path) -> None:
    """Write zeros until the disk is full."""
    filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while os.write(filler, b"\0" * 4096):
                pass
    finally:
        os.close(filler)


def test_a_run_stopped_by_a_full_disk_says_so_in_its_manifest_with_every_planned_job(
    tmp_path: Path, journal_disk: Path
) -> None:
    for index in range(4):
        write_image(tmp_path / "in" / f"photo{index}.jpg", (320, 240), seed=index)
    (tmp_path / "short.yaml").write_text(SHORT, encoding="utf-8")
    process = start_joypix(
        ["run", "short.yaml", "--input", "in", "--out", "out", "--concurrency", "1", "--json"], tmp_path
    )
    assert process.stdout is not None
    done = 0
    for line in process.stdout:
        if line.startswith("{") and json.loads(line)["event"] == "job_done":
            done += 1
            if done == 2:
                _fill(journal_disk)  # the journal cannot record the next job
                break
    rest, err = process.communicate(timeout=120)

    assert process.returncode == 1, err
    assert "database or disk is full" in err and "Traceback" not in err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["exit_code"] == 1
    assert "database or disk is full" in manifest["stopped_reason"]
    jobs = manifest["jobs"]
    assert sorted(Path(job["input"]).name for job in jobs) == [f"photo{index}.jpg" for index in range(4)]
    unfinished = [job for job in jobs if job["status"] not in ("done", "skipped")]
    assert len(unfinished) == 2, jobs
    assert all("database or disk is full" in job["error"] for job in unfinished), unfinished
    assert manifest["counts"]["done"] == 2
    assert manifest["counts"]["failed"] + manifest["counts"]["cancelled"] == 2
    finished = [event for event in map(json.loads, filter(None, rest.splitlines())) if event["event"] == "run_finished"]
    assert [event["exit_code"] for event in finished] in ([], [1])
