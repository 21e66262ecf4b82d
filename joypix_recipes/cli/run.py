"""``joypix run``: plan a recipe's jobs, then list them (--dry-run), run them here, or send them to a farm."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joypix_recipes.cli.boundary import EXIT_JOB_FAILED, EXIT_OK, EXIT_USAGE
from joypix_recipes.cli.options import backend_options, farm_settings, progress_mode
from joypix_recipes.cli.parser import parse_vars
from joypix_recipes.cli.signals import run_until_interrupted
from joypix_recipes.cli.streams import complain, say, say_json
from joypix_recipes.errors import UsageError

if TYPE_CHECKING:
    from joypix_recipes.cluster.settings import ClusterSettings
    from joypix_recipes.job.model import Job, PlannedStep
    from joypix_recipes.recipe.batch import UnusedVar
    from joypix_recipes.run.notify import NotifySettings


def cmd_run(args: argparse.Namespace) -> int:
    """Plan, then list, run or submit; exit 1 when an input was left out or a job failed."""
    from joypix_recipes.recipe.batch import load_batch
    from joypix_recipes.recipe.overrides import as_mapping, parse_overrides

    if args.group and not args.input:
        raise UsageError("--group makes one clip of each --input; give it --input FOLDER (or a glob)")
    recipe_path = Path(args.recipe)
    settings = parse_overrides(args.set)
    batch = load_batch(recipe_path, inputs=args.input, var_overrides=parse_vars(args.var), overrides=settings)
    overrides = as_mapping(settings)
    for unused in batch.unused_vars():
        complain(f"warning: --var {unused.name} is not used by {recipe_path.name}; {_hint(unused)}")
    out_dir = Path(args.out).resolve() if args.out else recipe_path.resolve().parent / "out"
    from joypix_recipes.timeline.interpret.check import phrases_not_understood

    # The same prompt check as validate's, so a phrase the local backend cannot read stops the run before it renders.
    plan = batch.plan(out_dir=out_dir, backend=args.backend, group=args.group, prompts=phrases_not_understood)
    for warning in plan.warnings:
        complain(f"warning: {warning}")
    for reason in plan.rejected:
        complain(f"failed   {reason}")
    left_out = EXIT_JOB_FAILED if plan.rejected else EXIT_OK
    if args.preview and (args.dry_run or args.detach or args.broker):
        raise UsageError("--preview renders drafts here; leave out --dry-run, --broker and --detach")
    if args.dry_run:
        from joypix_recipes.run.spending import planned_spending

        spending = planned_spending(plan.jobs, out_dir, backend_options(args), force=args.force)
        _list_jobs(plan.jobs, spending, as_json=args.json, overrides=overrides)
        return left_out
    if not plan.jobs:
        if plan.rejected:
            return EXIT_JOB_FAILED
        complain(f"{recipe_path}: no inputs to run; add `inputs:` to the recipe or pass --input PATH")
        return EXIT_USAGE
    recipe = batch.recipe
    from joypix_recipes.run.report import recording_overrides

    if args.preview:
        with recording_overrides(overrides):
            return max(_preview_here(args, plan.jobs, out_dir, recipe.name), left_out)
    notify = _notify_settings(args.notify, recipe.notify_urls, recipe.notify_commands)
    farm = farm_settings(args)
    with recording_overrides(overrides):
        if farm is not None:
            code = _run_on_farm(args, farm, plan.jobs, out_dir, recipe.name, notify)
        else:
            code = max(_run_here(args, plan.jobs, out_dir, recipe.name, notify), left_out)
    if args.contact_sheet and not (farm is not None and args.detach):
        _write_contact_sheet(out_dir, as_json=progress_mode(args) == "json")
    return code


def _write_contact_sheet(out_dir: Path, *, as_json: bool) -> None:
    """--contact-sheet: the sheet of every clip in the folder; a folder without posters is a warning, not a failure."""
    from joypix_recipes.run.contact_sheet import ContactSheetError, write_contact_sheet

    try:
        sheet = write_contact_sheet(out_dir)
    except ContactSheetError as error:
        complain(f"warning: {error}")
        return
    if as_json:
        say_json({"event": "contact_sheet", "path": str(sheet.resolve())})
    else:
        say(f"contact sheet: {sheet}")


def _hint(unused: UnusedVar) -> str:
    if unused.closest is not None:
        return f"did you mean {unused.closest}?"
    return f"its variables are: {', '.join(unused.used) or 'none'}"


def _notify_settings(
    urls: Sequence[str], recipe_urls: Sequence[str], commands: Sequence[Sequence[str]]
) -> NotifySettings | None:
    """Where the run sends its events: --notify URLs, then the recipe's own targets; None for nowhere."""
    from joypix_recipes.run.notify import notify_settings

    for url in urls:
        if not url.lower().startswith(("http://", "https://")):
            raise UsageError(f"--notify needs an http:// or https:// URL, not '{url}'")
    return notify_settings((*urls, *recipe_urls), commands)


def _run_here(
    args: argparse.Namespace, jobs: Sequence[Job], out_dir: Path, recipe_name: str, notify: NotifySettings | None
) -> int:
    """Run the jobs on this machine; the exit code of the run."""
    from joypix_recipes.run.session import run_jobs

    summary = run_until_interrupted(
        run_jobs(
            jobs,
            backend_name=jobs[0].backend,
            options=backend_options(args),
            out_dir=out_dir,
            recipe_name=recipe_name,
            concurrency=args.concurrency,
            force=args.force,
            progress_mode=progress_mode(args),
            verbose=args.verbose,
            notify=notify,
        )
    )
    return int(summary.exit_code)


def _preview_here(args: argparse.Namespace, jobs: Sequence[Job], out_dir: Path, recipe_name: str) -> int:
    """Render the jobs' drafts on this machine into OUT/previews/ (never on a farm, never notified)."""
    from joypix_recipes.run.preview import FREE_LINE, run_previews

    if any(job.backend != "local" for job in jobs) and not args.quiet:
        complain(FREE_LINE)
    summary = run_until_interrupted(
        run_previews(
            jobs,
            out_dir=out_dir,
            recipe_name=recipe_name,
            options=backend_options(args),
            concurrency=args.concurrency,
            force=args.force,
            progress_mode=progress_mode(args),
            verbose=args.verbose,
        )
    )
    return int(summary.exit_code)


def _run_on_farm(
    args: argparse.Namespace,
    farm: ClusterSettings,
    jobs: Sequence[Job],
    out_dir: Path,
    recipe_name: str,
    notify: NotifySettings | None,
) -> int:
    """Submit and follow (or only submit, with --detach); the follower notifies."""
    from joypix_recipes.cluster.farm import run_on_farm, submit_to_farm

    if args.detach:
        if notify is not None:
            complain("warning: --detach only submits, so nothing is notified; the run that follows the jobs notifies")
        submission = run_until_interrupted(
            submit_to_farm(jobs, farm, options=backend_options(args), force=args.force)
        )
        say(
            f"submitted {submission.enqueued} job{'s' if submission.enqueued != 1 else ''} to {farm.public_broker}"
            f" ({submission.attached} already there); rerun without --detach to follow them and collect the outputs"
        )
        return EXIT_OK
    summary = run_until_interrupted(
        run_on_farm(
            jobs,
            farm,
            options=backend_options(args),
            out_dir=out_dir,
            recipe_name=recipe_name,
            force=args.force,
            progress_mode=progress_mode(args),
            verbose=args.verbose,
            notify=notify,
        )
    )
    return int(summary.exit_code)


def _list_jobs(
    jobs: Sequence[Job], spending: dict[Path, str], *, as_json: bool, overrides: dict[str, Any]
) -> None:
    """--dry-run: the --set overrides, then each job's input, images, steps (a prompt with what the local
    interpreter understood of it), export, planned length and what it would pay.

    With --json, one line per job, each naming the overrides that shaped it.
    """
    from joypix_recipes.cli.understood import planned_seconds, understood
    from joypix_recipes.job.actions import Prompt
    from joypix_recipes.job.export import fps_label

    if overrides and not as_json:
        shown = ", ".join(f"{path}={json.dumps(value, ensure_ascii=False)}" for path, value in overrides.items())
        say(f"overrides: {shown}")
    for job in jobs:
        spends = spending.get(job.output)
        read = understood(job)
        length = planned_seconds(job)
        if as_json:
            extra = {**({"spending": spends} if spends else {}), **({"overrides": overrides} if overrides else {})}
            say_json({**job.to_dict(), "understood": read, "length_s": round(length, 3), **extra})
            continue
        say(f"{job.label} -> {job.output}")
        if job.input.images:
            names = ", ".join(image.name for image in job.input.images)
            say(f"  images ({len(job.input.images)}): {names}")
        for step, words in zip(job.steps, read, strict=True):
            body = json.dumps(next(iter(_step_body(step).values())), ensure_ascii=False)
            say(f"  {step.name}: {body}")
            if isinstance(step.action, Prompt) and words is not None:
                say(f"  understood: {'; '.join(words)}")
        export = job.export
        width, height = export.size
        say(
            f"  export: {export.format} {export.quality} {export.aspect} {export.resolution}"
            f" ({width}x{height}) {fps_label(export.fps)} fps, backend {job.backend}"
        )
        say(f"  length: {length:.1f} s")
        if spends:
            say(f"  credits: {spends}")
    if not as_json:
        say(f"{len(jobs)} job{'s' if len(jobs) != 1 else ''} planned")


def _step_body(step: PlannedStep) -> dict[str, Any]:
    body = step.to_dict()
    body.pop("name", None)
    return dict(body)
