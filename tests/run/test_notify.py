"""Notifications: signed JSON events per job and per run, delivered in the background, never failing or slowing a run."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers.images import write_image
from helpers.jobs import jobs_in

from joypix_recipes.atomic import atomic_write_bytes
from joypix_recipes.backends.contract import BackendOptions, JobReporter, JobResult, Ledger
from joypix_recipes.cli.main import main
from joypix_recipes.errors import RenderError
from joypix_recipes.job.model import Job
from joypix_recipes.run.notify import SIGNATURE_HEADER, NotifySettings, NotifyTarget
from joypix_recipes.run.outcome import RunSummary
from joypix_recipes.run.session import run_jobs

SECRET = "notify-secret-5f2c9a"


class Hook(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that records each request and answers with the next queued status."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        self.attempts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


class _HookHandler(BaseHTTPRequestHandler):
    server: Hook

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.attempts += 1
        status = self.server.statuses.pop(0) if self.server.statuses else 204
        if status < 300:
            self.server.received.append((dict(self.headers.items()), body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung endpoint)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    listener.close()


class WriteOrFail:
    """Writes a tiny clip per job; a job whose input is named bad.jpg fails."""

    name = "write"
    default_concurrency = 2

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        if job.input.name == "bad.jpg":
            raise RenderError("the picture could not be decoded")
        atomic_write_bytes(job.output, b"clip")
        return JobResult(output=job.output, poster=None, summary="", duration_s=0.0)

    async def aclose(self) -> None:
        pass


def run_batch(tmp_path: Path, notify: NotifySettings | None, *names: str) -> tuple[RunSummary, float]:
    jobs = jobs_in(tmp_path, *names)
    started = time.monotonic()
    summary = asyncio.run(
        run_jobs(
            jobs, backend_name="write", options=BackendOptions(), out_dir=tmp_path / "out", recipe_name="promo",
            concurrency=None, force=True, progress_mode="quiet", verbose=False,
            backends={"write": lambda options: WriteOrFail()}, notify=notify,
        )
    )  # fmt: skip
    return summary, time.monotonic() - started


def test_each_job_and_the_run_are_posted_signed_with_the_secret(
    hook: Hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOYPIX_NOTIFY_SECRET", SECRET)
    summary, _ = run_batch(tmp_path, NotifySettings.from_environment([NotifyTarget(url=hook.url)]), "good", "bad")

    assert summary.exit_code == 1
    for headers, body in hook.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected)
        assert headers["Content-Type"] == "application/json"
    jobs = {event["input"]: event for event in hook.events() if event["event"] == "job.finished"}
    good, bad = jobs[str(tmp_path / "in" / "good.jpg")], jobs[str(tmp_path / "in" / "bad.jpg")]
    assert good["status"] == "done" and good["output"] == str(tmp_path / "out" / "good.mp4") and good["error"] is None
    assert bad["status"] == "failed" and "could not be decoded" in bad["error"] and bad["output"] is None
    assert len(good["identity"]) == 32 and good["variant"] is None and good["recipe"] == "promo"
    assert isinstance(good["duration_s"], float)
    (run,) = [event for event in hook.events() if event["event"] == "run.finished"]
    assert run["status"] == "failed" and run["counts"] == {"done": 1, "skipped": 0, "failed": 1, "cancelled": 0}
    assert hook.events()[-1] == run, "the run's event comes after its jobs'"


def test_unsigned_without_a_secret(hook: Hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOYPIX_NOTIFY_SECRET", raising=False)
    run_batch(tmp_path, NotifySettings.from_environment([NotifyTarget(url=hook.url)]), "good")
    assert hook.received and all(SIGNATURE_HEADER not in headers for headers, _ in hook.received)


def test_server_errors_are_retried_with_backoff(hook: Hook, tmp_path: Path) -> None:
    hook.statuses = [503, 502]  # the first event gets through on its third attempt
    settings = NotifySettings((NotifyTarget(url=hook.url),), attempts=3, backoff_s=0.05, timeout_s=2.0)
    run_batch(tmp_path, settings, "good")
    assert [event["event"] for event in hook.events()] == ["job.finished", "run.finished"]
    assert hook.attempts == 4


def test_a_client_error_is_not_retried(hook: Hook, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    hook.statuses = [404]
    settings = NotifySettings((NotifyTarget(url=hook.url),), attempts=3, backoff_s=0.05)
    with caplog.at_level(logging.WARNING, logger="joypix_recipes.run.notify"):
        run_batch(tmp_path, settings, "good")
    assert [event["event"] for event in hook.events()] == ["run.finished"] and hook.attempts == 2
    assert "HTTP 404" in caplog.text


def test_a_dead_endpoint_changes_neither_outcome_nor_duration_beyond_its_timeout(
    silent_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    baseline, plain_s = run_batch(tmp_path / "plain", None, "good", "bad")
    settings = NotifySettings((NotifyTarget(url=silent_url),), timeout_s=0.5, attempts=3, backoff_s=0.1)
    with caplog.at_level(logging.WARNING, logger="joypix_recipes.run.notify"):
        summary, notified_s = run_batch(tmp_path / "notified", settings, "good", "bad")

    assert summary.exit_code == baseline.exit_code == 1
    assert [o.status for o in summary.outcomes] == [o.status for o in baseline.outcomes]
    # Three attempts would add 1.5 s or more; one timeout plus a loaded machine stays well under that.
    assert notified_s - plain_s <= 0.5 + 0.6, (plain_s, notified_s)
    assert "notification" in caplog.text


def test_url_passwords_and_the_secret_never_reach_the_log(
    hook: Hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("JOYPIX_NOTIFY_SECRET", SECRET)
    hook.statuses = [500] * 6
    url = hook.url.replace("http://", "http://robot:hunter2-password@")
    settings = NotifySettings.from_environment([NotifyTarget(url=url)])
    with caplog.at_level(logging.DEBUG):
        run_batch(tmp_path, NotifySettings(settings.targets, settings.secret, attempts=2, backoff_s=0.01), "good")
    assert "failed after 2 attempts: HTTP 500" in caplog.text
    assert "hunter2-password" not in caplog.text and SECRET not in caplog.text


def test_a_command_gets_each_event_as_json_on_stdin(tmp_path: Path) -> None:
    received = tmp_path / "events.jsonl"
    append = "import sys; open(sys.argv[1], 'a', encoding='utf-8').write(sys.stdin.read() + '\\n')"
    settings = NotifySettings((NotifyTarget(command=(sys.executable, "-c", append, str(received))),))
    run_batch(tmp_path, settings, "good")
    events = [json.loads(line) for line in received.read_text(encoding="utf-8").splitlines()]
    assert [event["event"] for event in events] == ["job.finished", "run.finished"]
    assert events[0]["status"] == "done" and events[1]["status"] == "ok"


def test_joypix_run_notifies_the_recipe_command_and_each_notify_url(hook: Hook, tmp_path: Path) -> None:
    write_image(tmp_path / "photo.jpg", (64, 48))
    received = tmp_path / "events.jsonl"
    append = "import sys; open(sys.argv[1], 'a', encoding='utf-8').write(sys.stdin.read() + chr(10))"
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "version: 1\nname: r\ninputs: [photo.jpg]\nsteps:\n  - animate: {motion: none, duration: 0.2}\n"
        "export: {resolution: 480p, fps: 10}\n"
        f"notify: {{command: {json.dumps([sys.executable, '-c', append, str(received)])}}}\n",
        encoding="utf-8",
    )
    assert main(["run", str(recipe), "--notify", hook.url, "--out", str(tmp_path / "out"), "-q"]) == 0
    from_command = [json.loads(line)["event"] for line in received.read_text(encoding="utf-8").splitlines()]
    assert from_command == [event["event"] for event in hook.events()] == ["job.finished", "run.finished"]
    assert hook.events()[0]["output"] == str(tmp_path / "out" / "photo.mp4")


def test_a_notify_that_is_no_http_url_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("version: 1\nname: r\ninputs: [photo.jpg]\nsteps:\n  - prompt: zoom in\n", encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"")
    assert main(["run", str(recipe), "--notify", "ftp://example/x", "--out", str(tmp_path / "out")]) == 2
    assert "--notify needs an http:// or https:// URL" in capsys.readouterr().err
