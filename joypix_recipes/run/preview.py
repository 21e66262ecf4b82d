"""Previews of a run: where each job's draft goes, and the run set-up that renders them.

Drafts live in their own folder, OUT/previews/, with their own journal, manifest and report: a final's
are never touched, and a draft of an unchanged job is skipped. Whatever backend the recipe names, a
draft is rendered by the preview backend (the local renderer, the local interpreter reading the
prompts), so it costs nothing and contacts no server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.backends.preview import PreviewExport, preview_draft, preview_export
from joypix_recipes.backends.registry import PREVIEW_BACKENDS
from joypix_recipes.errors import UsageError
from joypix_recipes.job.model import Job
from joypix_recipes.run.outcome import RunSummary
from joypix_recipes.run.session import Lane, run_jobs

__all__ = [
    "FREE_LINE",
    "PREVIEW_BACKEND",
    "PREVIEW_BACKENDS",
    "PREVIEW_FOLDER",
    "PreviewExport",
    "preview_draft",
    "preview_export",
    "preview_folder",
    "preview_job",
    "preview_lane",
    "preview_path",
    "run_previews",
]

PREVIEW_FOLDER = "previews"
"""The folder of the output folder that holds the drafts (with their own journal, manifest and report)."""
PREVIEW_BACKEND = "preview"
"""The backend name draft jobs carry, so a draft's identity never equals its final's."""
FREE_LINE = "preview: rendered here by the local backend from the same steps; it costs nothing and contacts no server"


def preview_folder(out_dir: Path) -> Path:
    """Where the drafts of a run into ``out_dir`` are written."""
    return Path(out_dir) / PREVIEW_FOLDER


def preview_path(job: Job, out_dir: Path) -> Path:
    """Where ``job``'s draft is written: its output's place under ``out_dir``, moved into the preview folder."""
    out_dir, folder = Path(out_dir), preview_folder(out_dir)
    if job.output.is_relative_to(folder):
        # Its draft would land on another job's final, or a final on a draft.
        raise UsageError(
            f"{job.label}: its output {job.output} is inside {folder}, where previews go;"
            " name the output elsewhere or give --out another folder"
        )
    relative = job.output.relative_to(out_dir) if job.output.is_relative_to(out_dir) else Path(job.output.name)
    return folder / relative


def preview_job(job: Job, out_dir: Path) -> Job:
    """The job that renders ``job``'s draft: written to its preview path, run by the preview backend.

    A cloud job's prompts are read by the local interpreter, which knows fewer phrases than the cloud
    agent; a phrase it does not know is then only a warning.
    """
    unknown = job.unknown_phrases if job.backend == "local" else "warn"
    return replace(job, output=preview_path(job, out_dir), backend=PREVIEW_BACKEND, unknown_phrases=unknown)


def preview_lane(out_dir: Path, recipe_name: str) -> Lane:
    """The session lane drafts of a run into ``out_dir`` take (open it with ``backends=PREVIEW_BACKENDS``)."""
    return Lane(preview_folder(out_dir), PREVIEW_BACKEND, recipe_name)


async def run_previews(
    jobs: Sequence[Job],
    *,
    out_dir: Path,
    recipe_name: str,
    options: BackendOptions | None = None,
    concurrency: int | None = None,
    force: bool = False,
    progress_mode: str = "quiet",
    verbose: bool = False,
) -> RunSummary:
    """Render the drafts of planned ``jobs`` (outputs under ``out_dir``) into ``out_dir``/previews.

    The run set-up is `joypix run`'s, on a lane of its own: unchanged drafts are skipped, and the
    summary's outputs are the draft files.
    """
    lane = preview_lane(out_dir, recipe_name)
    return await run_jobs(
        [preview_job(job, out_dir) for job in jobs],
        backend_name=lane.backend_name,
        options=options if options is not None else BackendOptions(),
        out_dir=lane.out_dir,
        recipe_name=lane.recipe_name,
        concurrency=concurrency,
        force=force,
        progress_mode=progress_mode,
        verbose=verbose,
        backends=PREVIEW_BACKENDS,
    )
