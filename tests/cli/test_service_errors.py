"""Plain mistakes about the service, the broker and the storage: a clear line and the documented exit code,
never an internal error, and never a password or token on the way."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from helpers.recipes import write_photo_batch
from helpers.runs import run_joypix

from joypix_recipes.emulator import Emulator

SECRET = "hunter2-query-secret"

LOCAL = """\
version: 1
name: local
inputs: ["photos/*.jpg"]
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {resolution: 480p, aspect: "1:1", fps: 24, quality: low}
"""


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _joypix(args: list[str], tmp_path: Path, timeout: float = 60) -> tuple[int, str, str]:
    result = run_joypix(args, tmp_path, env={"JOYPIX_HOME": str(tmp_path / "home")}, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("broker", "says"),
    [
        (f"redis://:{SECRET}@[::1:6379/7", "not a valid Redis URL"),
        (f"redis://:{SECRET}@127.0.0.1:6379/0?socket_timeout=abc", "socket_timeout"),
        (f"redis://:{SECRET}@127.0.0.1:6379/notanumber", "'notanumber' is not a number"),
        (f"redis://127.0.0.1:6379/0?password={SECRET}&colour=blue", "unknown option colour"),
        (f"http://127.0.0.1:6379/0?password={SECRET}", "redis:// URL"),
    ],
)
@pytest.mark.parametrize("command", ["doctor", "worker"])
def test_a_malformed_broker_url_is_a_usage_error_with_its_password_redacted(
    tmp_path: Path, broker: str, says: str, command: str
) -> None:
    code, stdout, stderr = _joypix([command, "--broker", broker, "--storage", (tmp_path / "s").as_uri()], tmp_path)
    assert code == 2, stderr
    assert says in stderr and "--broker" in stderr
    assert len(stderr.strip().splitlines()) == 1 and "internal error" not in stderr
    assert SECRET not in stdout + stderr
    assert not (tmp_path / "home" / "crashes").exists()


def test_an_unsupported_storage_scheme_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = _joypix(
        ["worker", "--broker", f"redis://127.0.0.1:{_closed_port()}/0", "--storage", f"ftp://u:{SECRET}@example.com/x"],
        tmp_path,
    )
    assert code == 2 and "--storage ftp://<redacted>@example.com/x" in stderr and "s3://" in stderr
    assert SECRET not in stderr and len(stderr.strip().splitlines()) == 1


def test_doctor_redacts_a_password_in_the_broker_query_and_fails_when_nothing_answers(tmp_path: Path) -> None:
    broker = f"redis://127.0.0.1:{_closed_port()}/0?password={SECRET}"
    code, stdout, stderr = _joypix(
        ["doctor", "--broker", broker, "--storage", (tmp_path / "s").as_uri(),
         "--base-url", f"http://127.0.0.1:{_closed_port()}"],
        tmp_path,
    )
    assert code == 1, stderr
    assert "password=<redacted>" in stdout and "cannot reach the broker" in stdout
    assert "does not answer" in stdout
    assert SECRET not in stdout + stderr


def test_doctor_exits_0_when_the_service_answers(tmp_path: Path, emulator: Emulator) -> None:
    code, stdout, stderr = _joypix(["doctor", "--base-url", emulator.base_url], tmp_path)
    assert code == 0, stdout + stderr
    assert "answers (HTTP" in stdout


def test_doctor_exits_1_when_the_base_url_does_not_answer(tmp_path: Path) -> None:
    code, stdout, _ = _joypix(["doctor", "--base-url", f"http://127.0.0.1:{_closed_port()}"], tmp_path)
    assert code == 1 and "does not answer" in stdout


def test_a_failing_notify_url_never_shows_its_token(tmp_path: Path) -> None:
    recipe = write_photo_batch(tmp_path / "batch", LOCAL, [(200, 90, 40)], (160, 120))
    hook = f"http://127.0.0.1:{_closed_port()}/hook?token={SECRET}&event=done"
    code, stdout, stderr = _joypix(["run", str(recipe), "--notify", hook, "-v"], tmp_path, timeout=120)
    assert code == 0, stderr
    assert "notification to" in stderr and "token=<redacted>" in stderr
    assert SECRET not in stdout + stderr


def test_credits_with_the_service_down_fails_within_a_second_or_two(tmp_path: Path) -> None:
    # The same command's start-up and refusal on a bad flag, so a busy machine's slow start is not counted.
    started = time.monotonic()
    _joypix(["credits", "--base-url", "not a url"], tmp_path)
    startup = time.monotonic() - started
    started = time.monotonic()
    code, _, stderr = _joypix(["credits", "--base-url", f"http://127.0.0.1:{_closed_port()}"], tmp_path)
    elapsed = time.monotonic() - started
    assert code == 1 and "connection refused" in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert elapsed - startup < 3.0  # the retries with backoff took 12 s


def test_status_of_a_session_the_service_never_had_says_it_is_unknown(tmp_path: Path, emulator: Emulator) -> None:
    code, _, stderr = _joypix(["status", "nosuch", "--base-url", emulator.base_url], tmp_path)
    assert code == 1, stderr
    assert "does not know a session nosuch" in stderr and "no longer exists" not in stderr


def test_a_session_id_that_would_change_the_request_path_is_a_usage_error(tmp_path: Path, emulator: Emulator) -> None:
    code, _, stderr = _joypix(["status", "../credits", "--base-url", emulator.base_url], tmp_path)
    assert code == 2 and "is not a session id" in stderr
