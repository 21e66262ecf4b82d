"""A journal truncated to 0 bytes is a damaged journal: rebuilt from the clips, so nothing renders (or is paid for) again."""

from __future__ import annotations

from pathlib import Path

from helpers.images import write_image
from helpers.runs import events_of, run_joypix

from joypix_recipes.run.journal import Journal

SHORT = """\
version: 1
name: short
steps:
  - animate: {motion: none, duration: 0.3}
export: {resolution: 480p, fps: 10}
"""


def _batch(folder: Path) -> list[str]:
    for index in range(2):
        write_image(folder / "in" / f"photo{index}.jpg", (160, 120), seed=index)
    (folder / "short.yaml").write_text(SHORT, encoding="utf-8")
    return ["run", "short.yaml", "--input", "in", "--out", "out", "--json"]


def test_a_journal_truncated_to_nothing_is_rebuilt_and_no_job_renders_again(tmp_path: Path) -> None:
    args = _batch(tmp_path)
    first = run_joypix(args, tmp_path)
    assert first.returncode == 0, first.stderr
    journal = tmp_path / "out" / ".joypix" / "journal.sqlite"
    assert not journal.with_name("journal.sqlite-wal").exists()  # closed cleanly: everything is in the file
    journal.write_bytes(b"")

    again = run_joypix(args, tmp_path)

    assert again.returncode == 0, again.stderr
    assert "damaged" in again.stderr and "rebuilt from 2 finished clips" in again.stderr
    events = [event["event"] for event in events_of(again.stdout)]
    assert events.count("job_skipped") == 2 and "job_started" not in events, events
    (kept,) = journal.parent.glob("journal.sqlite.damaged-*[0-9]")
    assert kept.stat().st_size == 0


def test_a_journal_that_does_not_exist_yet_is_simply_created(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "out") as journal:
        assert journal.records() == []
    assert list((tmp_path / "out" / ".joypix").glob("journal.sqlite.damaged-*")) == []
