"""A run's record beside its outputs: ``manifest.json`` for machines and a self-contained ``report.html``.

The page is the packaged template ``templates/report.html``, rendered with autoescaping. It embeds
poster thumbnails as data URIs and links outputs by relative path, so it opens
offline in any browser and can be moved together with the folder.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from joypix_recipes import __version__
from joypix_recipes.atomic import atomic_write_text
from joypix_recipes.job.actions import action_to_dict
from joypix_recipes.job.model import PlannedStep
from joypix_recipes.run.outcome import JobOutcome, RunSummary

MANIFEST_NAME = "manifest.json"
REPORT_NAME = "report.html"
THUMBNAIL_SIZE = (360, 360)


GENERATOR = "joypix"


_overrides: ContextVar[Mapping[str, Any] | None] = ContextVar("joypix_run_overrides", default=None)


@contextmanager
def recording_overrides(overrides: Mapping[str, Any]) -> Iterator[None]:
    """Manifests written inside record ``overrides`` (the --set settings the run's recipe was changed by).

    The manifest is written deep in the run, which knows jobs, not recipes; the command line says this once.
    """
    token = _overrides.set(dict(overrides))
    try:
        yield
    finally:
        _overrides.reset(token)


def foreign_run_files(out_dir: Path) -> list[Path]:
    """manifest.json or report.html files in ``out_dir`` that joypix did not write (and must not replace)."""
    foreign = []
    manifest, report = Path(out_dir) / MANIFEST_NAME, Path(out_dir) / REPORT_NAME
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            ours = isinstance(data, dict) and "joypix_version" in data
        except (OSError, ValueError):
            ours = False
        if not ours:
            foreign.append(manifest)
    if report.exists():
        try:
            head = report.read_bytes()[:4096]
        except OSError:
            head = b""
        if f'<meta name="generator" content="{GENERATOR}'.encode() not in head and b"joypix run report" not in head:
            foreign.append(report)
    return foreign


def write_run_outputs(
    summary: RunSummary, out_dir: Path, recipe_name: str, thumbnails: Mapping[Path, str | None] | None = None
) -> tuple[Path, Path]:
    """Write ``manifest.json`` and ``report.html`` into ``out_dir``; returns their paths.

    ``thumbnails`` holds posters' thumbnails already made (``thumbnail_data_uri``); the others are made here.
    """
    out_dir = Path(out_dir)
    manifest = build_manifest(summary, recipe_name)
    manifest_path = out_dir / MANIFEST_NAME
    report_path = out_dir / REPORT_NAME
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(report_path, render_report(summary, recipe_name, out_dir, thumbnails))
    return manifest_path, report_path


def build_manifest(summary: RunSummary, recipe_name: str) -> dict[str, Any]:
    """The manifest as plain JSON data: the run, then every job with its hashes, steps and result."""
    return {
        "joypix_version": __version__,
        "recipe": recipe_name,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "counts": summary.counts(),
        "stopped_reason": summary.stopped_reason,
        "exit_code": summary.exit_code,
        "overrides": dict(_overrides.get() or {}),
        "jobs": [_manifest_entry(outcome) for outcome in summary.outcomes],
    }


def _manifest_entry(outcome: JobOutcome) -> dict[str, Any]:
    job = outcome.job
    return {
        "identity": outcome.identity,
        "label": job.label,
        "input": job.input.display if job.input.path is None else str(job.input.path.resolve()),
        **({"images": [str(image.resolve()) for image in job.input.images]} if job.input.images else {}),
        "input_hash": outcome.input_hash,
        "variant": job.variant,
        "steps": [step.to_dict() for step in job.steps],
        "export": job.export.to_dict(),
        "backend": job.backend,
        "output": str(job.output.resolve()),
        "poster": str(outcome.poster.resolve()) if outcome.poster else None,
        "status": outcome.status,
        "error": outcome.error,
        "duration_s": round(outcome.duration_s, 3),
        "summary": outcome.summary,
        "warnings": list(outcome.warnings),
        "replies": list(outcome.replies),
    }


MAX_STEP_TEXT = 600
"""A step's line in the report is cut here: a subtitles file's hundred thousand cues are in the manifest."""


def describe_step(step: PlannedStep, backend: str = "local") -> str:
    """A step as one line: the prompt text sent to the cloud agent, or a structured step's settings."""
    if backend == "nemo":
        from joypix_recipes.backends.prompts import prompt_for

        return _cut(prompt_for(step.action))
    ((kind, body),) = action_to_dict(step.action).items()
    if kind == "prompt":
        return _cut(str(body))
    settings = ", ".join(_setting(key, value) for key, value in body.items() if value not in (None, ""))
    return _cut(f"{kind}: {settings}")


def _setting(key: str, value: Any) -> str:
    if isinstance(value, list) and len(value) > 3:
        return f"{len(value):,} {key}"
    return f"{key} {value}"


def _cut(text: str) -> str:
    if len(text) <= MAX_STEP_TEXT:
        return text
    return f"{text[:MAX_STEP_TEXT]}... ({len(text):,} characters in all)"


def thumbnail_data_uri(poster: Path | None) -> str | None:
    """A small JPEG of the poster as a ``data:`` URI, or None when there is no readable poster."""
    if poster is None:
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(poster) as image:
            image.draft("RGB", THUMBNAIL_SIZE)  # a JPEG decodes at a half or a quarter when that is still big enough
            image.thumbnail(THUMBNAIL_SIZE)
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="JPEG", quality=80)
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def render_report(
    summary: RunSummary, recipe_name: str, out_dir: Path, thumbnails: Mapping[Path, str | None] | None = None
) -> str:
    """The whole report.html as text: no scripts, no network, posters inline."""
    counts = summary.counts()
    total_time = sum(outcome.duration_s for outcome in summary.outcomes)
    tally = " · ".join(f"{count} {status}" for status, count in counts.items() if count) or "no jobs"
    return _report_template().render(
        recipe=recipe_name,
        tally=tally,
        total=f"{total_time:.1f} s of job time",
        written=time.strftime("%Y-%m-%d %H:%M:%S"),
        stopped_reason=summary.stopped_reason,
        cards=[_card(outcome, out_dir, thumbnails or {}) for outcome in summary.outcomes],
    )


@functools.cache
def _report_template() -> jinja2.Template:
    # Autoescape: every value in the page is text from file names, recipes, errors or the service.
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("joypix_recipes", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment.get_template(REPORT_NAME)


@dataclass(frozen=True)
class _Card:
    """What one job's card in the report shows."""

    status: str
    label: str
    relative: str
    timing: str
    thumbnail: str | None
    steps: tuple[tuple[str, str], ...]
    summary: str
    error: str | None
    warnings: tuple[str, ...]
    replies: tuple[str, ...]


def _card(outcome: JobOutcome, out_dir: Path, thumbnails: Mapping[Path, str | None]) -> _Card:
    job = outcome.job
    shown = outcome.status in ("done", "skipped")
    poster = outcome.poster
    return _Card(
        status=outcome.status,
        label=job.label,
        relative=_relative(job.output, out_dir),
        timing="skipped (already done)" if outcome.status == "skipped" else f"{outcome.duration_s:.1f} s",
        thumbnail=(thumbnails[poster] if poster is not None and poster in thumbnails else thumbnail_data_uri(poster))
        if shown
        else None,
        steps=tuple((step.name, describe_step(step, job.backend)) for step in job.steps),
        summary=outcome.summary,
        error=outcome.error,
        warnings=outcome.warnings,
        replies=outcome.replies,
    )


def _relative(path: Path, out_dir: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()
    except ValueError:
        return path.resolve().as_posix()
