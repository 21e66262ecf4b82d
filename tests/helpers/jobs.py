"""Jobs as the planner makes them, over test images on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from joypix_recipes.job.actions import Action, Animate
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import Job, JobInput, PlannedStep, UnknownPhrases


def make_job(
    image: Path,
    steps: Sequence[Action | PlannedStep] = (Animate(),),
    *,
    output: Path | None = None,
    variant: str | None = None,
    export: ExportSettings | None = None,
    recipe_name: str = "test recipe",
    recipe_path: Path | None = None,
    index: int = 0,
    unknown_phrases: UnknownPhrases = "fail",
    url: str | None = None,
) -> Job:
    """A job over one image, as the planner would make it; bare actions get step names "<kind> <n>".

    The output defaults to ``out/<stem>.mp4`` beside the image; with ``url`` the input is remote.
    """
    planned = tuple(
        step if isinstance(step, PlannedStep) else PlannedStep(f"{type(step).__name__.lower()} {n}", step)
        for n, step in enumerate(steps, start=1)
    )
    job_input = JobInput(
        name=image.name, stem=image.stem, suffix=image.suffix, index=index, path=None if url else image, url=url
    )
    return Job(
        recipe_name=recipe_name,
        recipe_path=recipe_path or image.parent / "recipe.yaml",
        input=job_input,
        variant=variant,
        steps=planned,
        export=export or ExportSettings(),
        output=output or image.parent / "out" / f"{image.stem}.mp4",
        unknown_phrases=unknown_phrases,
    )


def jobs_in(folder: Path, *names: str) -> list[Job]:
    """One job per name over ``folder/in/<name>.jpg`` (its bytes are the name), writing ``folder/out/<name>.mp4``.

    For backends that never decode the picture.
    """
    jobs = []
    for index, name in enumerate(names):
        image = folder / "in" / f"{name}.jpg"
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(name.encode())
        jobs.append(make_job(image, output=folder / "out" / f"{name}.mp4", index=index))
    return jobs
