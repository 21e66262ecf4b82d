"""A recipe loaded and planned as `joypix validate` and `joypix run` do, with every problem kept as the line they print."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joypix_recipes.errors import JoypixError, PlanError, RecipeError
from joypix_recipes.job.model import Job, input_hash, job_identity
from joypix_recipes.recipe.batch import load_batch
from joypix_recipes.recipe.plan import clip_seconds
from joypix_recipes.run.preview import preview_job
from joypix_recipes.timeline.interpret.check import phrases_not_understood


@dataclass(frozen=True)
class Planned:
    """One look at the recipe: its jobs with their draft identities, or the problems that stop it.

    ``defaults`` are the recipe's own ``vars`` as text (None when the recipe could not be read).
    """

    jobs: tuple[Job, ...] = ()
    identities: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    recipe_name: str = ""
    defaults: Mapping[str, str] | None = field(default=None)
    warnings: tuple[str, ...] = ()
    """What `joypix run` warns of before it renders (a clip longer than its preset's platform takes)."""


def plan_recipe(recipe_path: Path, out_dir: Path, var_overrides: Mapping[str, str]) -> Planned:
    """Load and plan the recipe with these --var values; problems are validate's lines, FILE:LINE:COL first."""
    try:
        batch = load_batch(recipe_path, var_overrides=var_overrides)
    except RecipeError as error:
        return Planned(problems=tuple(str(problem) for problem in error.problems))
    except JoypixError as error:
        return Planned(problems=(str(error),))
    recipe = batch.recipe
    # A recipe that loads has its vars, even when its plan fails (a photo missing): the form stays.
    defaults = {name: as_text(value) for name, value in recipe.vars.items()}
    try:
        plan = batch.plan(out_dir=out_dir, prompts=phrases_not_understood)
        identities = tuple(draft_identity(job, out_dir) for job in plan.jobs)
    except RecipeError as error:
        return Planned(problems=tuple(str(problem) for problem in error.problems), defaults=defaults)
    except PlanError as error:
        return Planned(problems=tuple(str(error).splitlines()), defaults=defaults)
    except JoypixError as error:  # what `joypix run` or `joypix preview` would stop on (an output where drafts go)
        return Planned(problems=(str(error),), defaults=defaults)
    except OSError as error:
        # An input replaced while it was read: the next save event plans again.
        return Planned(problems=(f"{recipe.file}: cannot read an input yet ({error.strerror or error})",), defaults=defaults)
    rows = tuple(f"{recipe.file}: cannot run {row}" for row in plan.rejected)
    return Planned(plan.jobs, identities, rows, recipe.name, defaults, plan.warnings)


def draft_identity(job: Job, out_dir: Path) -> str:
    """The identity the runner gives ``job``'s draft: it changes exactly when the draft must be made again."""
    return job_identity(preview_job(job, out_dir), input_hash(job.input))


def as_text(value: Any) -> str:
    """A var's value as a --var flag would give it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Reader:
    """How a card tells its job: the planned length, and each step in a few words (None for a step left as
    written). The command line hands in `run --dry-run`'s reading, which reads prompts as the local backend does."""

    length_of: Callable[[Job], float] = clip_seconds
    words_of: Callable[[Job], Sequence[Sequence[str] | None]] | None = None
