"""Failure paths that must lose nothing: inputs never replaced, foreign files never overwritten."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

import av
import pytest
from helpers.repo import SAMPLE
from helpers.runs import start_joypix
from helpers.waiting import wait_until

from joypix_recipes.cli.main import main
from joypix_recipes.run.journal import JobState, Journal

SHORT = """\
version: 1
name: short
steps:
  - animate: {motion: zoom-in, duration: 0.5}
export: {resolution: 480p}
"""


def _digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir() if path.is_file()}


def test_out_equal_to_the_input_folder_leaves_every_input_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "img.jpg").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "short.yaml").write_text(SHORT, encoding="utf-8")
    before = _digests(tmp_path)
    monkeypatch.chdir(tmp_path)

    code = main(["run", "short.yaml", "--input", "img.jpg", "--out", "."])

    assert code == 2
    err = capsys.readouterr().err
    assert "img.jpg" in err and "poster" in err
    assert _digests(tmp_path) == before
    assert not (tmp_path / "img.mp4").exists()


def test_a_file_the_journal_does_not_know_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "img.jpg").write_bytes(SAMPLE.read_bytes())
    recipe = tmp_path / "short.yaml"
    recipe.write_text(SHORT, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "img.mp4").write_bytes(b"the user's own holiday video")
    before = _digests(out)

    code = main(["run", str(recipe), "--input", str(tmp_path / "img.jpg"), "--out", str(out), "--force"])

    assert code == 1
    assert "img.mp4" in capsys.readouterr().out
    assert {name: digest for name, digest in _digests(out).items() if name in before} == before
    assert not (out / "img.jpg").exists()


def test_a_rerun_with_force_replaces_its_own_outputs(tmp_path: Path) -> None:
    (tmp_path / "img.jpg").write_bytes(SAMPLE.read_bytes())
    recipe = tmp_path / "short.yaml"
    recipe.write_text(SHORT, encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", str(recipe), "--input", str(tmp_path / "img.jpg"), "--out", str(out), "-q"]

    assert main(args) == 0
    first = (out / "img.mp4").stat().st_mtime_ns
    assert main([*args, "--force"]) == 0
    assert (out / "img.mp4").stat().st_mtime_ns != first


def _photos(folder: Path, count: int) -> list[Path]:
    folder.mkdir(exist_ok=True)
    photos = []
    for index in range(count):
        photo = folder / f"photo{index}.jpg"
        photo.write_bytes(SAMPLE.read_bytes() + bytes([index]))  # distinct content, same picture
        photos.append(photo)
    return photos


def test_two_runs_into_one_folder_take_turns_and_make_every_clip_once(tmp_path: Path) -> None:
    _photos(tmp_path / "in", 3)
    (tmp_path / "short.yaml").write_text(SHORT, encoding="utf-8")
    args = ["run", "short.yaml", "--input", "in", "--out", "out", "--concurrency", "1"]

    first = start_joypix(args, tmp_path)
    wait_until(lambda: (tmp_path / "out/.joypix/owner.json").exists(), 60, "the first run never took the folder", process=first)
    second = start_joypix(args, tmp_path)
    first_out, _ = first.communicate(timeout=120)
    second_out, second_err = second.communicate(timeout=120)

    assert (first.returncode, second.returncode) == (0, 0), (first_out, second_out, second_err)
    assert "3 done" in first_out
    assert "3 skipped" in second_out
    assert "in use by joypix process" in second_err and str(first.pid) in second_err
    with Journal.open(tmp_path / "out") as journal:
        assert sorted(record.attempts for record in journal.records()) == [1, 1, 1]


def test_after_kill_9_every_mp4_in_the_output_folder_is_a_complete_video(tmp_path: Path) -> None:
    # Two rounds of two renders: a second window to catch a render mid-write if the first one is missed.
    _photos(tmp_path / "in", 4)
    (tmp_path / "long.yaml").write_text(SHORT.replace("duration: 0.5", "duration: 6"), encoding="utf-8")
    out = tmp_path / "out"
    process = start_joypix(["run", "long.yaml", "--input", "in", "--out", "out", "--concurrency", "2"], tmp_path)

    scratch = out / ".joypix" / "tmp"
    def rendering() -> bool:
        # A clip of plain photos compresses to a few kilobytes that the muxer holds in its buffer until
        # the end, so a temp file's size says little: its existence means a render is writing it.
        return scratch.is_dir() and any(scratch.glob("*.partial"))

    wait_until(rendering, 60, "no render started", process=process)
    temps = [path.name for path in scratch.iterdir()]
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)

    assert temps and all(name.endswith(".partial") for name in temps)
    assert not [path for path in out.rglob("*.partial") if path.parent != scratch]
    for video in out.rglob("*.mp4"):
        with av.open(str(video)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == 6 * 30, video


def test_a_reader_that_goes_away_ends_the_output_not_the_work(tmp_path: Path) -> None:
    _photos(tmp_path / "in", 3)
    (tmp_path / "short.yaml").write_text(SHORT, encoding="utf-8")
    process = start_joypix(["run", "short.yaml", "--input", "in", "--out", "out", "--json", "--concurrency", "1"], tmp_path)
    assert process.stdout is not None and process.stderr is not None

    first_lines = [process.stdout.readline() for _ in range(3)]  # what `| head -3` reads
    process.stdout.close()
    err = process.stderr.read()
    process.stderr.close()
    process.wait(timeout=120)

    assert all(line.startswith("{") for line in first_lines)
    assert process.returncode in (0, 141), err
    assert "internal error" not in err and "Traceback" not in err and "Exception ignored" not in err
    with Journal.open(tmp_path / "out") as journal:
        assert [record.state for record in journal.records()] == [JobState.DONE] * 3
    assert len(list((tmp_path / "out").glob("*.mp4"))) == 3


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_stdout_ends_the_output_not_the_work(tmp_path: Path) -> None:
    _photos(tmp_path / "in", 2)
    (tmp_path / "short.yaml").write_text(SHORT, encoding="utf-8")
    with open("/dev/full", "w") as full:
        process = start_joypix(["run", "short.yaml", "--input", "in", "--out", "out"], tmp_path, stdout=full)
        _, err = process.communicate(timeout=120)

    assert process.returncode == 0, err
    assert "internal error" not in err and "Traceback" not in err and "Exception ignored" not in err
    assert len(list((tmp_path / "out").glob("*.mp4"))) == 2


@pytest.mark.parametrize("clip_format", ["mp4", "gif", "webp", "webm"])
def test_a_corrupt_journal_is_kept_aside_and_rebuilt_from_the_clips_on_disk(tmp_path: Path, clip_format: str) -> None:
    _photos(tmp_path / "in", 2)
    recipe = SHORT.replace("export: {resolution: 480p}", f"export: {{resolution: 480p, fps: 10, format: {clip_format}}}")
    (tmp_path / "short.yaml").write_text(recipe, encoding="utf-8")
    args = ["run", "short.yaml", "--input", "in", "--out", "out"]
    first = start_joypix(args, tmp_path)
    first.communicate(timeout=120)
    assert first.returncode == 0
    journal = tmp_path / "out" / ".joypix" / "journal.sqlite"
    for leftover in journal.parent.glob("journal.sqlite-*"):
        leftover.unlink()
    garbage = b"this is not a database\n" * 200
    journal.write_bytes(garbage)

    again = start_joypix(args, tmp_path)
    out, err = again.communicate(timeout=120)

    assert again.returncode == 0, err
    assert "damaged" in err and "rebuilt from 2 finished clips" in err
    assert "permission" not in err and "writable" not in err
    assert "2 skipped" in out
    (kept,) = journal.parent.glob("journal.sqlite.damaged-*[0-9]")
    assert kept.read_bytes() == garbage


def test_a_backslash_in_one_input_name_fails_that_job_alone(tmp_path: Path) -> None:
    photos = tmp_path / "in"
    _photos(photos, 1)
    (photos / "odd\\name.jpg").write_bytes(SAMPLE.read_bytes() + b"odd")
    (tmp_path / "short.yaml").write_text(SHORT, encoding="utf-8")

    result = start_joypix(["run", "short.yaml", "--input", "in", "--out", "out"], tmp_path)
    out, err = result.communicate(timeout=120)

    assert result.returncode == 1, err
    assert "odd\\name.jpg" in err and "path separator" in err
    assert (tmp_path / "out" / "photo0.mp4").exists()
    assert "1 done" in out


def test_control_characters_in_names_are_escaped_on_the_terminal(tmp_path: Path) -> None:
    photos = tmp_path / "in"
    photos.mkdir()
    (photos / "evil\x1b[2J\nname.jpg").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "short.yaml").write_text(SHORT, encoding="utf-8")

    result = start_joypix(["run", "short.yaml", "--input", "in", "--out", "out"], tmp_path)
    out, err = result.communicate(timeout=120)

    assert result.returncode == 0, err
    assert "\x1b" not in out + err
    assert "evil\\e[2J\\nname.jpg" in out
    assert all("name.jpg" not in line or "evil" in line for line in (out + err).splitlines())


def test_an_unknown_var_warns_with_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text('version: 1\nname: r\nvars: {brand: Acme}\nsteps:\n  - text: {content: "{{ vars.brand }}"}\n', encoding="utf-8")
    (tmp_path / "img.jpg").write_bytes(SAMPLE.read_bytes())

    code = main(["run", str(recipe), "--input", str(tmp_path / "img.jpg"), "--var", "brnad=Other", "--dry-run"])

    assert code == 0
    assert "--var brnad is not used by r.yaml; did you mean brand?" in capsys.readouterr().err


def test_a_report_or_manifest_joypix_did_not_write_stops_the_run_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "img.jpg").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "short.yaml").write_text(SHORT, encoding="utf-8")
    out = tmp_path / "site"
    out.mkdir()
    (out / "report.html").write_text("<html>the user's own page</html>", encoding="utf-8")

    code = main(["run", str(tmp_path / "short.yaml"), "--input", str(tmp_path / "img.jpg"), "--out", str(out)])

    assert code == 2
    assert "report.html" in capsys.readouterr().err
    assert (out / "report.html").read_text(encoding="utf-8") == "<html>the user's own page</html>"
    assert not (out / "img.mp4").exists()
