"""A run's record beside its outputs: ``manifest.json`` for machines and a self-contained ``report.html``.

Both describe every clip in the folder: runs into one folder accumulate, each clip naming the run
that made it, and a clip whose file is gone is dropped. The page is the packaged template
``templates/report.html``, rendered with autoescaping. It embeds poster thumbnails as data URIs and
links outputs by relative path, so it opens offline in any browser and can be moved with the folder.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from joypix_recipes import __version__
from joypix_recipes.atomic import atomic_write_text
from joypix_recipes.backends.contract import REPORT_THUMBNAIL_SIZE
from joypix_recipes.errors import JoypixError
from joypix_recipes.job.actions import action_to_dict
from joypix_recipes.job.model import PlannedStep
from joypix_recipes.run.clip import ClipFacts, human_bytes, read_clip_facts
from joypix_recipes.run.outcome import JobOutcome, RunSummary
from joypix_recipes.run.progress import job_name
from joypix_recipes.run.provenance import RunStamp, new_run_stamp

MANIFEST_NAME = "manifest.json"
REPORT_NAME = "report.html"
THUMBNAIL_SIZE = REPORT_THUMBNAIL_SIZE


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
    summary: RunSummary,
    out_dir: Path,
    recipe_name: str,
    thumbnails: Mapping[Path, str | None] | None = None,
    clip_facts: Mapping[Path, ClipFacts | None] | None = None,
) -> tuple[Path, Path]:
    """Write ``manifest.json`` and ``report.html`` into ``out_dir``; returns their paths.

    Both describe every clip in the folder: this run's jobs, then what earlier runs made that is still there.
    ``thumbnails`` holds posters' thumbnails already made (``thumbnail_data_uri``), ``clip_facts`` the facts of
    outputs already read (``read_clip_facts``); the others are made or read here.
    """
    out_dir = Path(out_dir)
    manifest_path = out_dir / MANIFEST_NAME
    report_path = out_dir / REPORT_NAME
    manifest = build_manifest(
        summary, recipe_name, out_dir, earlier=read_manifest_entries(manifest_path), clip_facts=clip_facts
    )
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(report_path, render_report(manifest, out_dir, thumbnails))
    return manifest_path, report_path


def read_manifest_entries(manifest_path: Path) -> list[dict[str, Any]]:
    """The clip entries of the manifest joypix wrote at ``manifest_path`` before; none when there is none to read."""
    try:
        data = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    jobs = data.get("jobs") if isinstance(data, dict) else None
    if not isinstance(jobs, list):
        return []
    return [entry for entry in jobs if isinstance(entry, dict) and isinstance(entry.get("output"), str)]


def build_manifest(
    summary: RunSummary,
    recipe_name: str,
    out_dir: Path,
    earlier: Sequence[Mapping[str, Any]] = (),
    run: RunStamp | None = None,
    clip_facts: Mapping[Path, ClipFacts | None] | None = None,
) -> dict[str, Any]:
    """The manifest as plain JSON data: this run (its counts, stop reason and exit code), then every clip of
    the folder, each with its hashes, steps, result and the run that made it."""
    run = run or new_run_stamp(outcome.started_at for outcome in summary.outcomes if outcome.started_at is not None)
    current = [_manifest_entry(outcome, run, out_dir, clip_facts or {}) for outcome in summary.outcomes]
    entries = merge_entries([_relocated(entry, out_dir) for entry in earlier], current)
    runs = {entry["run"]["id"]: entry["run"] for entry in entries if isinstance(entry.get("run"), dict)}
    return {
        "joypix_version": __version__,
        "recipe": recipe_name,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run": run.to_dict(),
        "counts": summary.counts(),
        "stopped_reason": summary.stopped_reason,
        "exit_code": summary.exit_code,
        "overrides": dict(_overrides.get() or {}),
        "runs": sorted(runs.values(), key=lambda stamp: str(stamp.get("time", ""))),
        "jobs": entries,
    }


def merge_entries(earlier: Sequence[Mapping[str, Any]], current: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """This run's entries, then each earlier entry for an output this run did not touch, keyed by output path.

    An earlier clip whose file is gone is dropped. An earlier failure stays until a run makes that output,
    so a later run of another recipe into the folder does not hide it. A clip this run skipped keeps the
    run that made it.
    """
    before = {str(entry["output"]): entry for entry in earlier}
    merged: list[dict[str, Any]] = []
    for entry in current:
        previous = before.pop(entry["output"], None)
        if (
            entry["status"] == "skipped"
            and previous is not None
            and previous.get("identity") == entry["identity"]
            and isinstance(previous.get("run"), dict)
        ):
            entry = {**entry, "run": previous["run"]}
        merged.append(entry)
    for output, kept in before.items():
        if kept.get("status") in ("done", "skipped") and not Path(output).is_file():
            continue
        merged.append(dict(kept))
    return merged


def _relocated(entry: Mapping[str, Any], out_dir: Path) -> dict[str, Any]:
    """An earlier entry with its paths re-read from where they are in the folder, should the folder have moved."""
    moved = dict(entry)
    for absolute, relative in (("output", "file"), ("poster", "poster_file")):
        if isinstance(entry.get(relative), str):
            moved[absolute] = str((out_dir / str(entry[relative])).resolve())
    return moved


def _manifest_entry(
    outcome: JobOutcome, run: RunStamp, out_dir: Path, known: Mapping[Path, ClipFacts | None]
) -> dict[str, Any]:
    job = outcome.job
    facts = None
    if outcome.status in ("done", "skipped"):
        output = outcome.output
        facts = known[output] if output is not None and output in known else read_clip_facts(output)
    return {
        "identity": outcome.identity,
        "label": job.label,
        "name": job_name(job),
        "recipe": job.recipe_name,
        "input": job.input.display if job.input.path is None else str(job.input.path.resolve()),
        **({"images": [str(image.resolve()) for image in job.input.images]} if job.input.images else {}),
        **({"row": job.input.row} if job.input.row else {}),
        "input_hash": outcome.input_hash,
        "variant": job.variant,
        "steps": [step.to_dict() for step in job.steps],
        "export": job.export.to_dict(),
        "backend": job.backend,
        "output": str(job.output.resolve()),
        "file": _relative(job.output, out_dir),
        "poster": str(outcome.poster.resolve()) if outcome.poster else None,
        **({"poster_file": _relative(outcome.poster, out_dir)} if outcome.poster else {}),
        "status": outcome.status,
        "error": outcome.error,
        "duration_s": round(outcome.duration_s, 3),
        "clip": facts.to_dict() if facts is not None else None,
        "run": run.to_dict(),
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
    return jpeg_data_uri(buffer.getvalue())


def jpeg_data_uri(jpeg: bytes) -> str:
    """A JPEG as a ``data:`` URI, as the report inlines its thumbnails."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


_STATUS_ORDER = {"failed": 0, "cancelled": 1, "done": 2, "skipped": 2}


def render_report(
    manifest: Mapping[str, Any], out_dir: Path, thumbnails: Mapping[Path, str | None] | None = None
) -> str:
    """The whole report.html as text: failures first, posters inline, no network; a small inline script filters."""
    entries: list[Mapping[str, Any]] = list(manifest["jobs"])
    counts: dict[str, int] = {}
    for entry in entries:
        counts[str(entry.get("status"))] = counts.get(str(entry.get("status")), 0) + 1
    tally = " · ".join(f"{count} {status}" for status, count in counts.items() if count) or "no clips"
    runs = manifest.get("runs") or []
    ordered = sorted(entries, key=lambda entry: _STATUS_ORDER.get(str(entry.get("status")), 0))
    made = {
        poster.resolve(): thumbnail for poster, thumbnail in (thumbnails or {}).items()
    }  # the manifest's paths are resolved
    cards = [_card(entry, out_dir, made) for entry in ordered]
    return _report_template().render(
        recipe=manifest["recipe"],
        tally=tally,
        runs=f"{len(runs)} run{'s' if len(runs) != 1 else ''}",
        written=time.strftime("%Y-%m-%d %H:%M:%S"),
        stopped_reason=manifest.get("stopped_reason"),
        cards=cards,
        variants=sorted({card.variant for card in cards}),
        statuses=[status for status in _STATUS_ORDER if any(card.status == status for card in cards)],
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


# A browser's <video> plays neither of these; an <img> animates them.
ANIMATED_IMAGE_SUFFIXES = frozenset({".gif", ".webp"})


@dataclass(frozen=True)
class _Card:
    """What one clip's card in the report shows."""

    status: str
    name: str
    variant: str
    relative: str
    timing: str
    facts: str
    run: str
    thumbnail: str | None
    still_image: bool
    steps: tuple[tuple[str, str], ...]
    summary: str
    error: str | None
    warnings: tuple[str, ...]
    replies: tuple[str, ...]


def _card(entry: Mapping[str, Any], out_dir: Path, thumbnails: Mapping[Path, str | None]) -> _Card:
    status = str(entry.get("status", ""))
    shown = status in ("done", "skipped")
    run = entry.get("run") if isinstance(entry.get("run"), dict) else {}
    poster = Path(str(entry["poster"])) if entry.get("poster") else None
    return _Card(
        status=status,
        name=str(entry.get("name") or entry.get("label") or Path(str(entry["output"])).name),
        variant=str(entry.get("variant") or "none"),
        relative=_relative(Path(str(entry["output"])), out_dir),
        timing="skipped (already done)"
        if status == "skipped"
        else f"rendered in {float(entry.get('duration_s') or 0):.1f} s",
        facts=_facts(entry.get("clip")) if shown else "",
        run=f"run {run.get('id', '?')} at {str(run.get('time', '?')).replace('T', ' ')[:19]}" if run else "",
        thumbnail=(thumbnails[poster] if poster in thumbnails else thumbnail_data_uri(poster))
        if shown and poster is not None
        else None,
        still_image=Path(str(entry["output"])).suffix.lower() in ANIMATED_IMAGE_SUFFIXES,
        steps=tuple(_step_line(step, str(entry.get("backend", "local"))) for step in entry.get("steps") or ()),
        summary=str(entry.get("summary") or ""),
        error=str(entry["error"]) if entry.get("error") else None,
        warnings=tuple(str(text) for text in entry.get("warnings") or ()),
        replies=tuple(str(text) for text in entry.get("replies") or ()),
    )


def _facts(clip: Any) -> str:
    """``5.0 s clip · 1080x1920 · 1.4 MB``, or a note that the file could not be read."""
    if not isinstance(clip, dict):
        return "clip not readable"
    return (
        f"{float(clip['length_s']):.1f} s clip · {clip['width']}x{clip['height']} · {human_bytes(int(clip['bytes']))}"
    )


def _step_line(data: Mapping[str, Any], backend: str) -> tuple[str, str]:
    try:
        step = PlannedStep.from_dict(dict(data))
    except (JoypixError, KeyError, TypeError, ValueError):  # a manifest from another version: show it as it is
        return str(data.get("name", "")), _cut(json.dumps(data, ensure_ascii=False))
    return step.name, describe_step(step, backend)


def _relative(path: Path, out_dir: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), out_dir.resolve())).as_posix()
    except ValueError:
        return path.resolve().as_posix()
