"""One attempt at one job: what each kind of error means, cancellation recorded then passed on, replies kept once."""

from __future__ import annotations

import asyncio

import pytest

from joypix_recipes.backends.contract import JobReporter, Ledger
from joypix_recipes.errors import JobError, NoCreditsError
from joypix_recipes.run.attempt import INTERRUPTED, Attempt, Failure, attempt_job

BUG = "internal error in the test; please report it"
PASSWORD_URL = "https://user:hunter2-password@example.com/api"


class Told:
    """A JobReporter that keeps what it was told, in order."""

    identity = "identity"
    input_hash = "hash"

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def stage(self, text: str) -> None:
        self.events.append(("stage", text))

    def record(self, ledger: Ledger) -> None:
        self.events.append(("record", f"{ledger.session_id}/{ledger.render_id}"))

    def warn(self, message: str) -> None:
        self.events.append(("warn", message))

    def reply(self, text: str) -> None:
        self.events.append(("reply", text))


async def _never_cancelled(attempt: Attempt[str]) -> None:
    raise AssertionError("not cancelled")


def _attempt(fail_with: BaseException | None) -> Attempt[str]:
    async def work(reporter: JobReporter) -> str:
        reporter.reply("Done! I zoomed in.")
        if fail_with is not None:
            raise fail_with
        return "made"

    return asyncio.run(attempt_job(work, Told(), internal_error=BUG, on_cancel=_never_cancelled))


def test_every_event_reaches_the_reporter_and_each_reply_and_warning_is_kept_once() -> None:
    told = Told()

    async def work(reporter: JobReporter) -> str:
        assert (reporter.identity, reporter.input_hash) == ("identity", "hash")
        reporter.stage("step 1/2: animate")
        reporter.reply("Done! I zoomed in.")
        reporter.record(Ledger("session"))
        reporter.warn("the session was lost; replaying 1 step")
        reporter.reply("Done! I added a title.")
        return "made"

    attempt = asyncio.run(attempt_job(work, told, internal_error=BUG, on_cancel=_never_cancelled))
    assert attempt.result == "made"
    assert attempt.replies == ("Done! I zoomed in.", "Done! I added a title.")
    assert attempt.warnings == ("the session was lost; replaying 1 step",)
    assert told.events == [
        ("stage", "step 1/2: animate"),
        ("reply", "Done! I zoomed in."),
        ("record", "session/None"),
        ("warn", "the session was lost; replaying 1 step"),
        ("reply", "Done! I added a title."),
    ]


def test_a_job_error_fails_the_job_with_its_message_and_keeps_what_was_said_before() -> None:
    attempt = _attempt(JobError(f"photo.jpg: the service at {PASSWORD_URL} refused it"))
    assert attempt.result == Failure("photo.jpg: the service at https://<redacted>@example.com/api refused it")
    assert attempt.replies == ("Done! I zoomed in.",)


def test_a_run_error_fails_the_job_and_stops_the_run() -> None:
    attempt = _attempt(NoCreditsError("no credits left; top up and run again"))
    assert attempt.result == Failure("no credits left; top up and run again", stops_run=True)


def test_a_bug_fails_with_the_callers_message_and_keeps_only_a_redacted_traceback() -> None:
    attempt = _attempt(ZeroDivisionError(f"while talking to {PASSWORD_URL}"))
    assert isinstance(attempt.result, Failure)
    assert (attempt.result.message, attempt.result.stops_run) == (BUG, False)
    detail = attempt.result.detail or ""
    assert "ZeroDivisionError" in detail and "Traceback" in detail and "hunter2" not in detail


def test_a_cancelled_attempt_is_recorded_as_interrupted_before_the_cancellation_goes_on() -> None:
    recorded: list[Attempt[str]] = []

    async def record(attempt: Attempt[str]) -> None:
        recorded.append(attempt)

    async def main() -> None:
        waiting = asyncio.Event()

        async def work(reporter: JobReporter) -> str:
            reporter.reply("Done! I zoomed in.")
            waiting.set()
            await asyncio.Event().wait()
            return "never"

        task = asyncio.create_task(attempt_job(work, Told(), internal_error=BUG, on_cancel=record))
        await waiting.wait()
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())
    (attempt,) = recorded
    assert attempt.result == Failure(INTERRUPTED) and attempt.replies == ("Done! I zoomed in.",)
