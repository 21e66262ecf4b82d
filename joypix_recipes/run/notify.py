"""Notifications: a JSON event per finished job and one per run, POSTed to webhooks or piped to a program.

Events go through a bounded queue to one background thread, so a slow or dead endpoint never slows
the batch; a full queue drops the event (and says so) rather than block. At the end the run waits at
most ``drain_s`` (one request timeout by default) for what is queued: once the run is closing, no
attempt may outlast that deadline, and what is still queued then is dropped with a warning.
With ``JOYPIX_NOTIFY_SECRET`` set, each POST carries ``X-Joypix-Signature: sha256=HEX``, the
HMAC-SHA256 of the exact body under that secret. Failures are logged (URL passwords and the secret
redacted) and never change the run's outcome.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from joypix_recipes.job.model import Job
from joypix_recipes.redact import install_redaction, redact, remember_secret, url_without_credentials
from joypix_recipes.run.outcome import JobOutcome, RunSummary
from joypix_recipes.run.progress import ForwardingProgress, Progress

SECRET_VARIABLE = "JOYPIX_NOTIFY_SECRET"
SIGNATURE_HEADER = "X-Joypix-Signature"
EVENT_HEADER = "X-Joypix-Event"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotifyTarget:
    """Where events go: a URL to POST to, or a program (argv) that reads one event as JSON on stdin."""

    url: str | None = None
    command: tuple[str, ...] | None = None

    def describe(self) -> str:
        """How logs name this target: the URL without user-info, or the program's name."""
        if self.url is not None:
            return redact(url_without_credentials(self.url))  # a query may carry a token too
        return Path(self.command[0]).name if self.command else "command"


@dataclass(frozen=True)
class NotifySettings:
    """Targets and the limits that keep a bad endpoint from holding up a run."""

    targets: tuple[NotifyTarget, ...]
    secret: str | None = None
    timeout_s: float = 5.0
    attempts: int = 3
    backoff_s: float = 0.5
    drain_s: float | None = None  # None: one request timeout
    queue_size: int = 1000
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, targets: Sequence[NotifyTarget]) -> NotifySettings:
        """Settings with the signing secret taken from ``JOYPIX_NOTIFY_SECRET`` (if set)."""
        secret = os.environ.get(SECRET_VARIABLE) or None
        if secret:
            remember_secret(secret)
        return cls(tuple(targets), secret=secret)


@dataclass(frozen=True)
class Subscription:
    """Targets that hear of a recipe's run: every job and the run's end, or, with ``recipe_path``, only
    that recipe's jobs (a watcher serves several recipes through one display and never ends a run of one)."""

    settings: NotifySettings
    recipe_name: str
    recipe_path: Path | None = None


def notify_settings(urls: Sequence[str], commands: Sequence[Sequence[str]]) -> NotifySettings | None:
    """Targets for these URLs and commands, signed with the secret from the environment; None when there are none."""
    targets = [NotifyTarget(url=url) for url in urls]
    targets += [NotifyTarget(command=tuple(command)) for command in commands]
    return NotifySettings.from_environment(targets) if targets else None


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def job_event(outcome: JobOutcome, recipe_name: str) -> dict[str, Any]:
    """The event for one finished job."""
    job: Job = outcome.job
    return {
        "event": "job.finished",
        "recipe": recipe_name,
        "identity": outcome.identity,
        "input": str(job.input.path if job.input.path is not None else job.input.url),
        "variant": job.variant,
        "status": outcome.status,
        "output": str(outcome.output) if outcome.output is not None else None,
        "error": outcome.error,
        "duration_s": round(outcome.duration_s, 3),
    }


def run_event(summary: RunSummary, recipe_name: str, duration_s: float) -> dict[str, Any]:
    """The event for a finished run: its status, counts and how long it took."""
    return {
        "event": "run.finished",
        "recipe": recipe_name,
        "status": "ok" if summary.exit_code == 0 else "failed",
        "stopped_reason": summary.stopped_reason,
        "counts": summary.counts(),
        "duration_s": round(duration_s, 3),
    }


_STOP = object()


class Notifier:
    """Delivers events from a bounded queue on one background thread."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        install_redaction()  # httpx logs each request's URL, user-info and all
        self._queue: queue.Queue[object] = queue.Queue(maxsize=settings.queue_size)
        self._abandon = threading.Event()
        self._deadline: float | None = None
        self._client = httpx.Client(timeout=settings.timeout_s, follow_redirects=False)
        self._thread = threading.Thread(target=self._deliver_all, name="joypix-notify", daemon=True)
        self._thread.start()

    def send(self, event: dict[str, Any]) -> None:
        """Queue an event; never blocks (a full queue drops it, with a warning)."""
        try:
            self._queue.put_nowait({**self.settings.extra, **event})
        except queue.Full:
            log.warning("notification queue is full; dropped a %s event", event.get("event"))

    @property
    def drain_s(self) -> float:
        """How long the end of a run may wait for notifications."""
        return self.settings.timeout_s if self.settings.drain_s is None else self.settings.drain_s

    def close(self) -> None:
        """Wait at most ``drain_s`` for queued events, then give up on the rest (a bounded wait)."""
        deadline = self._deadline = time.monotonic() + self.drain_s
        while True:
            try:
                self._queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
                break
            except queue.Full:
                self._abandon.set()
                break
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            self._abandon.set()
            log.warning("notifications still pending after %gs; not waiting for them", self.drain_s)
            self._thread.join(self.settings.timeout_s)  # a safety net: no attempt outlasts the deadline
        self._client.close()

    def _deliver_all(self) -> None:
        while True:
            event = self._queue.get()
            if event is _STOP:
                return
            if self._abandon.is_set():
                continue  # drain without sending: the run has stopped waiting
            assert isinstance(event, dict)
            body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            for target in self.settings.targets:
                try:
                    self._deliver(target, str(event.get("event")), body)
                except Exception as error:  # a notification must never take the run down with it
                    log.warning(redact(f"notification to {target.describe()} failed: {error}"))

    def _deliver(self, target: NotifyTarget, name: str, body: bytes) -> None:
        last = ""
        for attempt in range(self.settings.attempts):
            if attempt and self._abandon.wait(self.settings.backoff_s * 2 ** (attempt - 1)):
                break
            retry, last = (
                self._post(target.url, name, body) if target.url is not None else self._run(target.command or (), body)
            )
            if not retry:
                if last:
                    log.warning(redact(f"notification to {target.describe()} failed: {last}"))
                return
        log.warning(
            redact(f"notification to {target.describe()} failed after {self.settings.attempts} attempts: {last}")
        )

    def _timeout(self) -> float:
        """One attempt's time limit; once the run is closing, never past its deadline."""
        if self._deadline is None:
            return self.settings.timeout_s
        return max(0.05, min(self.settings.timeout_s, self._deadline - time.monotonic()))

    def _post(self, url: str, name: str, body: bytes) -> tuple[bool, str]:
        """(worth retrying, what went wrong or "")."""
        headers = {"Content-Type": "application/json", EVENT_HEADER: name}
        if self.settings.secret:
            headers[SIGNATURE_HEADER] = sign(body, self.settings.secret)
        try:
            response = self._client.post(url, content=body, headers=headers, timeout=self._timeout())
        except httpx.TimeoutException:
            return True, f"no answer within {self.settings.timeout_s:g}s"
        except httpx.TransportError as error:
            return True, type(error).__name__
        if response.status_code >= 500:
            return True, f"HTTP {response.status_code}"
        if response.status_code >= 400:
            return False, f"HTTP {response.status_code}"
        return False, ""

    def _run(self, command: Sequence[str], body: bytes) -> tuple[bool, str]:
        """(worth retrying, what went wrong or ""): run the program in a session of its own, then end that session.

        Whatever the program started in the background (``sleep 30 &``) is killed when it exits or
        times out: a notification must not leave processes behind the run. Its output is not read, so a
        background child holding the program's stdout open cannot keep the run waiting.
        """
        try:
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as error:
            return False, f"cannot start {command[0] if command else 'the program'} ({error.strerror or error})"
        try:
            process.communicate(body, timeout=self._timeout())
        except subprocess.TimeoutExpired:
            return True, f"the program did not finish within {self.settings.timeout_s:g}s"
        finally:
            _end_session(process)
        if process.returncode != 0:
            return False, f"the program exited with status {process.returncode}"
        return False, ""


def _end_session(process: subprocess.Popen[bytes]) -> None:
    """Kill every process left in the program's session (its group), then the program itself if it still runs."""
    # The group outlives its leader while any member lives, so its id cannot be reused while one is left.
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    process.kill()
    process.wait()


class NotifyingProgress(ForwardingProgress):
    """A progress display that also sends each finished job and the finished run to a Notifier.

    With ``recipe_path``, only that recipe's jobs are sent and no run event: a watcher serves several
    recipes through one display, each with its own targets, and never finishes a run of one recipe.
    """

    def __init__(self, inner: Progress, notifier: Notifier, recipe_name: str, *, recipe_path: Path | None = None) -> None:
        super().__init__(inner)
        self.notifier = notifier
        self.recipe_name = recipe_name
        self.recipe_path = recipe_path
        self.started = time.monotonic()

    def job_finished(self, outcome: JobOutcome, detail: str | None = None) -> None:
        super().job_finished(outcome, detail)
        if self.recipe_path is None or outcome.job.recipe_path == self.recipe_path:
            self.notifier.send(job_event(outcome, self.recipe_name))

    def run_finished(self, summary: RunSummary, manifest: Path | None = None, report: Path | None = None) -> None:
        super().run_finished(summary, manifest, report)
        if self.recipe_path is None:
            self.notifier.send(run_event(summary, self.recipe_name, time.monotonic() - self.started))
