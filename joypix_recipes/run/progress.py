"""What a run shows while it goes: a live display on a terminal, plain lines, JSON Lines, or failures only.

The runner reports events here and nowhere else; results go to stdout, human progress to stderr.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Self

from joypix_recipes.printable import printable
from joypix_recipes.run.clip import read_clip_facts

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from joypix_recipes.job.model import Job
    from joypix_recipes.run.outcome import JobOutcome, RunSummary

PROGRESS_MODES: tuple[str, ...] = ("auto", "plain", "json", "quiet")

STILL_WORKING_AFTER_S = 20.0
"""A stage older than this is marked "still working", so a long cloud turn does not look hung."""


class Progress:
    """Receives run events; this base shows nothing. Methods are called on the event loop thread."""

    verbose: bool = False

    def run_started(self, total: int) -> None:
        """``total`` more jobs begin (once per batch; a hot folder calls it as images arrive)."""

    def job_started(self, job: Job, identity: str) -> None:
        """A job got a slot and is running."""

    def job_stage(self, job: Job, text: str) -> None:
        """A running job entered a new stage."""

    def job_warning(self, job: Job, message: str) -> None:
        """Something worth knowing that does not fail the job."""

    def job_reply(self, job: Job, text: str) -> None:
        """A text reply from the editing agent."""

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        """A job ended: done, skipped, failed or cancelled; ``detail`` is a traceback for -v."""

    def run_stopped(self, reason: str) -> None:
        """No new jobs will start, for this reason."""

    def run_finished(self, summary: RunSummary, manifest: Path | None = None, report: Path | None = None) -> None:
        """The batch is over; where its manifest and report were written."""

    def close(self) -> None:
        """Stop any live display."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ForwardingProgress(Progress):
    """Passes every event to an inner display; a subclass adds what it does beside showing them."""

    def __init__(self, inner: Progress) -> None:
        self.inner = inner
        self.verbose = inner.verbose

    def run_started(self, total: int) -> None:
        self.inner.run_started(total)

    def job_started(self, job: Job, identity: str) -> None:
        self.inner.job_started(job, identity)

    def job_stage(self, job: Job, text: str) -> None:
        self.inner.job_stage(job, text)

    def job_warning(self, job: Job, message: str) -> None:
        self.inner.job_warning(job, message)

    def job_reply(self, job: Job, text: str) -> None:
        self.inner.job_reply(job, text)

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        self.inner.job_finished(outcome, detail)

    def run_stopped(self, reason: str) -> None:
        self.inner.run_stopped(reason)

    def run_finished(self, summary: RunSummary, manifest: Path | None = None, report: Path | None = None) -> None:
        self.inner.run_finished(summary, manifest, report)

    def close(self) -> None:
        self.inner.close()


def open_progress(mode: str, verbose: bool, *, out: IO[str] | None = None, err: IO[str] | None = None) -> Progress:
    """The progress display for ``mode``: auto (rich on a terminal, plain otherwise), plain, json or quiet."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if mode == "json":
        return JsonProgress(out, verbose)
    if mode == "quiet":
        return QuietProgress(err, verbose)
    if mode == "auto" and err.isatty():
        return LiveProgress(out, err, verbose)
    if mode in ("auto", "plain"):
        return PlainProgress(out, err, verbose)
    from joypix_recipes.errors import UsageError

    raise UsageError(f"unknown progress mode '{mode}'; use one of: {', '.join(PROGRESS_MODES)}")


def _seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}m {seconds:02d}s"


def _counts(summary: RunSummary) -> str:
    counts = summary.counts()
    parts = [f"{counts[status]} {status}" for status in ("done", "skipped", "failed", "cancelled") if counts[status]]
    return ", ".join(parts) or "no jobs"


def job_name(job: Job) -> str:
    """The job as its lines name it: the input, then what tells it apart from its input's other jobs
    (``photo.jpg [variant square, row JP-100]``); control characters escaped."""
    parts = [f"variant {job.variant}" if job.variant else "", f"row {job.input.row}" if job.input.row else ""]
    shown = ", ".join(part for part in parts if part)
    name = printable(job.input.name)
    return f"{name} [{printable(shown)}]" if shown else name


def _result_line(outcome: JobOutcome) -> str:
    name = job_name(outcome.job)
    if outcome.status == "done":
        return f"done     {name} -> {outcome.output}  rendered in {_seconds(outcome.duration_s)}{_clip(outcome)}"
    if outcome.status == "skipped":
        return f"skipped  {name} -> {outcome.output}  already done{_clip(outcome)}"
    if outcome.status == "cancelled":
        return f"stopped  {name}: {outcome.error or 'interrupted'}"
    return f"failed   {name}: {outcome.error}"


def _clip(outcome: JobOutcome) -> str:
    """`` · 5.0 s clip`` from the file, or nothing when it cannot be read (a render elsewhere not yet collected)."""
    facts = read_clip_facts(outcome.output)
    return f" · {facts.length_s:.1f} s clip" if facts is not None else ""


def _print(stream: IO[str], text: str, lock: threading.Lock, *, escape: bool = True) -> None:
    """One line for people (names' control characters escaped) or, ``escape`` False, for machines."""
    with lock:
        stream.write((printable(text, keep_lines=True) if escape else text) + "\n")
        stream.flush()


class PlainProgress(Progress):
    """One line per event, for logs and pipes: results to stdout, the rest to stderr."""

    def __init__(self, out: IO[str], err: IO[str], verbose: bool) -> None:
        self.out, self.err, self.verbose = out, err, verbose
        self._lock = threading.Lock()
        self._total = 0
        self._started = 0

    def run_started(self, total: int) -> None:
        self._total += total  # a hot folder adds jobs as images arrive

    def job_started(self, job: Job, identity: str) -> None:
        self._started += 1
        _print(self.err, f"start    {job_name(job)} ({self._started}/{self._total})", self._lock)

    def job_stage(self, job: Job, text: str) -> None:
        if self.verbose:
            _print(self.err, f"         {job_name(job)}: {text}", self._lock)

    def job_warning(self, job: Job, message: str) -> None:
        _print(self.err, f"warning  {job_name(job)}: {message}", self._lock)

    def job_reply(self, job: Job, text: str) -> None:
        if self.verbose:
            _print(self.err, f"agent    {job_name(job)}: {text}", self._lock)

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        _print(self.out, _result_line(outcome), self._lock)
        if detail and self.verbose:
            _print(self.err, detail.rstrip(), self._lock)

    def run_stopped(self, reason: str) -> None:
        _print(self.err, f"stopping: {reason}", self._lock)

    def run_finished(self, summary: RunSummary, manifest: Path | None = None, report: Path | None = None) -> None:
        line = _counts(summary)
        if report is not None:
            line += f"; report: {report}"
        _print(self.out, line, self._lock)


class QuietProgress(Progress):
    """Only failures, on stderr."""

    def __init__(self, err: IO[str], verbose: bool) -> None:
        self.err, self.verbose = err, verbose
        self._lock = threading.Lock()

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        if outcome.status == "failed":
            _print(self.err, _result_line(outcome), self._lock)
            if detail and self.verbose:
                _print(self.err, detail.rstrip(), self._lock)

    def run_stopped(self, reason: str) -> None:
        _print(self.err, f"stopping: {reason}", self._lock)


class JsonProgress(Progress):
    """JSON Lines on stdout: one object per event with an ``event`` key; paths absolute."""

    def __init__(self, out: IO[str], verbose: bool) -> None:
        self.out, self.verbose = out, verbose
        self._lock = threading.Lock()

    def _emit(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "time": round(time.time(), 3), **fields}, ensure_ascii=False)
        _print(self.out, line, self._lock, escape=False)  # JSON escapes what it must; more would corrupt it

    def run_started(self, total: int) -> None:
        self._emit("run_started", total=total)

    def job_started(self, job: Job, identity: str) -> None:
        self._emit("job_started", **_job_fields(job), identity=identity)

    def job_stage(self, job: Job, text: str) -> None:
        self._emit("job_stage", **_job_fields(job), stage=text)

    def job_warning(self, job: Job, message: str) -> None:
        self._emit("job_warning", **_job_fields(job), message=message)

    def job_reply(self, job: Job, text: str) -> None:
        self._emit("job_reply", **_job_fields(job), text=text)

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        fields: dict[str, Any] = {**_job_fields(outcome.job), "identity": outcome.identity}
        if outcome.status in ("done", "skipped"):
            fields["poster"] = str(outcome.poster.resolve()) if outcome.poster else None
            facts = read_clip_facts(outcome.output)
            fields["clip"] = facts.to_dict() if facts is not None else None
        else:
            fields["error"] = outcome.error
        if outcome.status != "skipped":
            fields["duration_s"] = round(outcome.duration_s, 3)
        self._emit(f"job_{outcome.status}", **fields)

    def run_stopped(self, reason: str) -> None:
        self._emit("run_stopped", reason=reason)

    def run_finished(self, summary: RunSummary, manifest: Path | None = None, report: Path | None = None) -> None:
        self._emit(
            "run_finished",
            **summary.counts(),
            stopped_reason=summary.stopped_reason,
            exit_code=summary.exit_code,
            manifest=str(manifest.resolve()) if manifest else None,
            report=str(report.resolve()) if report else None,
        )


def _job_fields(job: Job) -> dict[str, Any]:
    return {
        "job": job.label,
        "input": job.input.display if job.input.path is None else str(job.input.path.resolve()),
        "variant": job.variant,
        **({"row": job.input.row} if job.input.row else {}),
        "output": str(job.output.resolve()),
    }


@dataclass
class _Running:
    label: str
    stage: str
    since: float


class LiveProgress(Progress):
    """A rich live panel on the terminal (stderr): counts, each running job's stage, elapsed time."""

    def __init__(self, out: IO[str], err: IO[str], verbose: bool, clock: Callable[[], float] = time.monotonic) -> None:
        from rich.console import Console

        self.verbose = verbose
        self._clock = clock
        self._console: Console = Console(file=err, highlight=False)
        self._out = out
        self._running: dict[tuple[str, str], _Running] = {}
        self._counts = {"done": 0, "skipped": 0, "failed": 0, "cancelled": 0}
        self._total = 0
        self._began = clock()
        self._live: Live | None = None

    def run_started(self, total: int) -> None:
        self._total += total
        self._start_live()

    def job_started(self, job: Job, identity: str) -> None:
        self._running[_key(job)] = _Running(job_name(job), "starting", self._clock())
        self._start_live()  # the hot folder submits jobs without a batch

    def _start_live(self) -> None:
        from rich.live import Live

        if self._live is None:
            self._live = Live(get_renderable=self.render, console=self._console, refresh_per_second=4, transient=True)
            self._live.start()

    def job_stage(self, job: Job, text: str) -> None:
        self._running[_key(job)] = _Running(job_name(job), text, self._clock())

    def job_warning(self, job: Job, message: str) -> None:
        self._console.print(f"[yellow]warning[/]  {_escape(job_name(job))}: {_escape(message)}")

    def job_reply(self, job: Job, text: str) -> None:
        if self.verbose:
            self._console.print(f"[dim]agent    {_escape(job_name(job))}: {_escape(text)}[/]")

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        self._running.pop(_key(outcome.job), None)
        self._counts[outcome.status] += 1
        style = {"done": "green", "skipped": "dim", "failed": "red", "cancelled": "yellow"}[outcome.status]
        if outcome.status != "skipped" or self.verbose:
            self._console.print(f"[{style}]{_escape(_result_line(outcome))}[/]")
        if detail and self.verbose:
            self._console.print(_escape(detail.rstrip()))

    def run_stopped(self, reason: str) -> None:
        self._console.print(f"[red]stopping:[/] {_escape(reason)}")

    def run_finished(self, summary: RunSummary, manifest: Path | None = None, report: Path | None = None) -> None:
        self.close()
        line = f"{_counts(summary)} in {_seconds(self._clock() - self._began)}"
        if report is not None:
            line += f"; report: {report}"
        self._out.write(printable(line) + "\n")
        self._out.flush()

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def render(self) -> RenderableType:
        """The live panel: a counts line, then one row per running job."""
        from rich.table import Table

        now = self._clock()
        counts = self._counts
        finished = sum(counts.values())
        table = Table.grid(padding=(0, 2))
        total = max(self._total, finished + len(self._running))
        table.add_row(
            f"[bold]{finished}/{total}[/] finished",
            f"[green]{counts['done']} done[/]  [red]{counts['failed']} failed[/]  "
            f"{counts['skipped']} skipped  [cyan]{len(self._running)} running[/]",
            _seconds(now - self._began),
        )
        shown = list(self._running.values())[:_MAX_ROWS]
        for running in shown:
            in_stage = now - running.since
            note = f"  [yellow]still working ({_seconds(in_stage)})[/]" if in_stage > STILL_WORKING_AFTER_S else ""
            table.add_row(f"  {_escape(running.label)}", f"{_escape(running.stage)}{note}", _seconds(in_stage))
        if len(self._running) > len(shown):
            table.add_row(f"  ... and {len(self._running) - len(shown)} more", "", "")
        return table


_MAX_ROWS = 12


def _key(job: Job) -> tuple[str, str]:
    return (job.label, str(job.output))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(printable(text, keep_lines=True))
