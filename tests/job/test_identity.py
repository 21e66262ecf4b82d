"""A job's identity covers every byte it reads: the image, and the audio, fonts and subtitles it attaches."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from helpers.audio import write_wav
from helpers.images import write_image
from helpers.jobs import make_job
from helpers.recipes import recipe_file
from helpers.repo import REPO
from helpers.runs import events_of, run_joypix

from joypix_recipes.job.actions import Audio, CaptionStyle, Text
from joypix_recipes.job.model import attached_files, input_hash, job_identity
from joypix_recipes.recipe import load_recipe
from joypix_recipes.recipe.plan import plan_jobs


def _outcomes(recipe: Path, out: Path) -> dict[str, str]:
    result = run_joypix(["run", str(recipe), "--out", str(out), "--json"], recipe.parent)
    assert result.returncode == 0, result.stderr
    return {Path(event["output"]).name: event["event"] for event in events_of(result.stdout) if "output" in event}


def test_replacing_the_music_under_the_same_name_makes_the_clip_again(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    music = write_wav(tmp_path / "music.wav", seconds=1.0, frequency=440.0)
    recipe = recipe_file(
        tmp_path,
        """
        version: 1
        inputs: [a.jpg]
        steps:
          - animate: {motion: zoom-in, duration: 0.4}
          - audio: {file: music.wav}
        export: {aspect: "1:1", resolution: 480p, fps: 10, quality: low}
        """,
    )
    out = tmp_path / "out"
    assert _outcomes(recipe, out) == {"a.mp4": "job_done"}
    assert _outcomes(recipe, out) == {"a.mp4": "job_skipped"}

    write_wav(music, seconds=1.0, frequency=660.0)  # other bytes, same name

    assert _outcomes(recipe, out) == {"a.mp4": "job_done"}
    assert _outcomes(recipe, out) == {"a.mp4": "job_skipped"}


def test_a_font_replaced_under_the_same_name_changes_the_identity_and_the_same_bytes_do_not(tmp_path: Path) -> None:
    image = write_image(tmp_path / "a.jpg", (64, 64))
    font = tmp_path / "brand.ttf"
    font.write_bytes(b"first font")
    job = make_job(image, [Text(content="hi", style=CaptionStyle(font=str(font)))])
    content = input_hash(job.input)
    assert attached_files(job) == (str(font),)
    before = job_identity(job, content)

    font.write_bytes(b"other font")
    changed = job_identity(job, content)
    copy = tmp_path / "copy.ttf"
    copy.write_bytes(b"first font")
    os.replace(copy, font)  # the first bytes again, as a new file

    assert changed != before
    assert job_identity(job, content) == before


def test_a_job_without_attached_files_keeps_the_identity_it_always_had(tmp_path: Path) -> None:
    job = make_job(write_image(tmp_path / "a.jpg", (64, 64)))
    content = input_hash(job.input)

    expected = hashlib.sha256(f"{content}:{job.spec_hash()}".encode("ascii")).hexdigest()[:32]

    assert job_identity(job, content) == expected


def test_a_missing_attached_file_is_part_of_the_identity_not_an_error(tmp_path: Path) -> None:
    job = make_job(write_image(tmp_path / "a.jpg", (64, 64)), [Audio(file=str(tmp_path / "gone.wav"))])
    content = input_hash(job.input)
    missing = job_identity(job, content)

    write_wav(tmp_path / "gone.wav", seconds=0.2)

    assert job_identity(job, content) != missing


def test_a_subtitles_file_edited_under_the_same_name_changes_the_identity(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", (64, 64))
    shutil.copy(REPO / "recipes" / "samples" / "captions.srt", tmp_path / "captions.srt")
    recipe = recipe_file(tmp_path, "version: 1\ninputs: [a.jpg]\nsteps:\n  - subtitles: captions.srt\n")

    def identity() -> str:
        (job,) = plan_jobs(load_recipe(recipe)).jobs
        return job_identity(job, input_hash(job.input))

    before = identity()
    srt = tmp_path / "captions.srt"
    srt.write_text(srt.read_text(encoding="utf-8").replace("\n\n", " (edited)\n\n", 1), encoding="utf-8")

    assert identity() != before
