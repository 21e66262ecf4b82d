"""Audio tracks and fonts from the submitting machine's disk travel with the job and are read from the worker's copies."""

from __future__ import annotations

from pathlib import Path

from joypix_recipes.cluster.attachments import files_to_attach, place_attachments
from joypix_recipes.job.actions import BUILTIN_MUSIC, Audio, CaptionStyle, Prompt, Text
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import Job, JobInput, PlannedStep


def _job(folder: Path, *actions: object) -> Job:
    image = folder / "photos" / "a.jpg"
    return Job(
        recipe_name="r",
        recipe_path=folder / "recipe.yaml",
        input=JobInput(name="a.jpg", stem="a", suffix=".jpg", index=0, path=image),
        variant=None,
        steps=tuple(PlannedStep(f"s{index}", action) for index, action in enumerate(actions)),  # type: ignore[arg-type]
        export=ExportSettings(),
        output=folder / "out" / "a.mp4",
    )


def _files(folder: Path) -> dict[str, Path]:
    (folder / "photos").mkdir(parents=True)
    (folder / "sound").mkdir()
    files = {"track": folder / "sound" / "bed.wav", "font": folder / "Brand.otf", "chime": folder / "chime.wav",
             "beside": folder / "photos" / "beside.wav"}
    for path in files.values():
        path.write_bytes(path.name.encode())
    return files


def test_audio_steps_fonts_and_prompt_named_audio_are_attached_by_the_name_the_job_uses(tmp_path: Path) -> None:
    files = _files(tmp_path)
    job = _job(
        tmp_path,
        Audio(str(files["track"])),
        Audio(BUILTIN_MUSIC),
        Text("Sale", style=CaptionStyle(font=str(files["font"]))),
        Text("Bundled", style=CaptionStyle(font="serif")),
        Prompt('add "chime.wav" as background music'),
        Prompt('add "beside.wav" as background music'),
        Prompt('add "nowhere.wav" as background music'),
    )
    assert files_to_attach(job) == {
        str(files["track"]): files["track"],
        str(files["font"]): files["font"],
        "chime.wav": files["chime"],
        "beside.wav": files["beside"],
    }


def test_the_worker_reads_absolute_names_from_its_copies_and_prompt_names_from_a_stand_in_recipe_folder(
    tmp_path: Path,
) -> None:
    files = _files(tmp_path / "submitter")
    job = _job(
        tmp_path / "submitter",
        Audio(str(files["track"])),
        Text("Sale", style=CaptionStyle(font=str(files["font"]))),
        Prompt('add "chime.wav" as background music'),
    )
    scratch = tmp_path / "worker"
    placed, targets = place_attachments(job, [str(files["track"]), str(files["font"]), "chime.wav"], scratch)
    audio, text, _ = (step.action for step in placed.steps)
    assert isinstance(audio, Audio) and Path(audio.file) == targets[str(files["track"])]
    assert isinstance(text, Text) and Path(text.style.font) == targets[str(files["font"])]
    assert targets["chime.wav"] == placed.recipe_path.parent / "chime.wav"
    assert all(target.is_relative_to(scratch) for target in targets.values())


def test_a_name_climbing_out_of_the_job_folder_is_not_placed(tmp_path: Path) -> None:
    job = _job(tmp_path, Prompt('add "../../etc/evil.wav" as background music'))
    placed, targets = place_attachments(job, ["../../etc/evil.wav"], tmp_path / "worker")
    assert targets == {} and placed.recipe_path.is_relative_to(tmp_path / "worker")


def test_a_file_the_job_names_without_an_attachment_is_never_read_from_the_workers_disk(tmp_path: Path) -> None:
    job = _job(tmp_path, Audio("/etc/passwd"), Text("Sale", style=CaptionStyle(font="/etc/shadow")))
    placed, targets = place_attachments(job, [], tmp_path / "worker")
    audio, text = (step.action for step in placed.steps)
    assert isinstance(audio, Audio) and isinstance(text, Text) and targets == {}
    assert Path(audio.file).is_relative_to(tmp_path / "worker") and not Path(audio.file).exists()
    assert text.style.font is not None and Path(text.style.font).is_relative_to(tmp_path / "worker")
