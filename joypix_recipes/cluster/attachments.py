"""Files a job reads besides its images (audio tracks, caption fonts), carried to the worker through storage.

On the submitting machine they are files on its disk: an absolute path a step names, or an audio file a
prompt names, found as the local renderer finds it (beside the recipe, else beside the input). Each is
staged once under its content hash, like an input. On the worker, absolute paths are rewritten to the
fetched copies, and prompt-named files are laid out in a stand-in recipe folder under the names the
prompt uses, where the renderer looks first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path, PurePosixPath

from joypix_recipes.job.actions import BUILTIN_MUSIC, Audio, Prompt
from joypix_recipes.job.model import Job, attached_files, named_file, with_attached_files
from joypix_recipes.timeline.interpret import interpret_prompt


def files_to_attach(job: Job) -> dict[str, Path]:
    """Every extra file the job reads on this machine, keyed by the name the job uses for it."""
    found = {name: named_file(job, name) for name in (*attached_files(job), *_prompt_audio_names(job))}
    return {name: local for name, local in found.items() if local is not None}


def place_attachments(job: Job, names: Iterable[str], folder: Path) -> tuple[Job, dict[str, Path]]:
    """Where each attachment (by the name the job uses) goes under ``folder`` on the worker, and the job
    that reads them from there.

    Returns the job (its absolute paths rewritten, its recipe path moved into ``folder``) and, for each
    name, the local path the caller fetches it to. The job never reads the worker's own disk: a file it
    names without an attachment points into ``folder`` too, where the renderer finds it missing, and a
    file a prompt names is looked for only in the stand-in recipe folder.
    """
    targets: dict[str, Path] = {}
    moved: dict[str, str] = {}
    recipe_folder = folder / "recipe"
    names = sorted(names)
    for number, name in enumerate(names):
        if Path(name).is_absolute():
            target = folder / "attached" / f"{number:03d}-{Path(name).name}"
            moved[name] = str(target)
        else:
            relative = PurePosixPath(name.replace("\\", "/"))
            if relative.is_absolute() or ".." in relative.parts:
                continue  # never written outside the job's folder; the renderer then says the file is missing
            target = recipe_folder.joinpath(*relative.parts)
        targets[name] = target
    for name in attached_files(job):
        if name not in moved:
            moved[name] = str(folder / "missing" / (Path(name).name or "file"))
    placed = with_attached_files(job, moved)
    return replace(placed, recipe_path=recipe_folder / (job.recipe_path.name or "recipe.yaml")), targets


def _prompt_audio_names(job: Job) -> list[str]:
    names = []
    for step in job.steps:
        if isinstance(step.action, Prompt):
            for action in interpret_prompt(step.action.text).actions:
                if isinstance(action, Audio) and action.file != BUILTIN_MUSIC and not Path(action.file).is_absolute():
                    names.append(action.file)
    return names
