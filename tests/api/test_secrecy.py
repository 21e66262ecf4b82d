"""The token never shows: not in logs (even at DEBUG), exceptions, stdout or stderr; the filter redacts anyway."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from joypix_recipes.api.auth import Credentials
from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.emulator import Emulator
from joypix_recipes.errors import JoypixError
from joypix_recipes.redact import LOGGER_NAME, install_redaction, redact

from .conftest import run, session_with_image


def test_token_never_appears_in_debug_logs_errors_or_output(
    emulator: Emulator,
    settings: ClientSettings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.state.knobs.export_blocked = True
    emulator.state.knobs.drop_stream_next = 1
    errors: list[JoypixError] = []

    async def session(client: NemoClient) -> None:
        created = await session_with_image(client, tmp_path)
        try:  # the stream drops mid-step: the step is reported in doubt, never re-sent
            await client.turn(created.session_id, "Animate this image into a smooth 1-second video clip.")
        except JoypixError as error:
            errors.append(error)
        draft = (await client.state(created.session_id)).draft
        assert draft is not None
        try:
            await client.start_render(created.session_id, draft)
        except JoypixError as error:
            errors.append(error)
        emulator.state.knobs.expire_token_after_calls = 0
        emulator.state.tokens.clear()
        try:
            await client.state("sess_unknown")
        except JoypixError as error:
            errors.append(error)

    run(session, settings)
    tokens = [r.headers["authorization"].removeprefix("Bearer ") for r in emulator.state.requests.api if "authorization" in r.headers]
    assert tokens and errors
    captured = capsys.readouterr()
    for token in set(tokens):
        assert token not in caplog.text
        assert token not in captured.out and token not in captured.err
        for error in errors:
            assert token not in str(error) and token not in repr(error)


def test_redacting_filter_scrubs_bearer_tokens_from_any_record(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    # Each logger by name: a command run in-process earlier may have set their levels.
    for name in (LOGGER_NAME, "httpx", "aiohttp.client"):
        caplog.set_level(logging.DEBUG, logger=name)
    logging.getLogger(LOGGER_NAME).debug("sent headers %s", {"Authorization": "Bearer abc.DEF-123_xyz"})
    logging.getLogger("httpx").info("Authorization: bearer s3cr3t-token-value")
    logging.getLogger("aiohttp.client").warning("request headers: Authorization: Bearer aio-s3cr3t-value")
    assert "abc.DEF-123_xyz" not in caplog.text and "s3cr3t-token-value" not in caplog.text
    assert "aio-s3cr3t-value" not in caplog.text
    assert caplog.text.count("<redacted>") == 3


def test_redact_removes_remembered_tokens_anywhere() -> None:
    from joypix_recipes.redact import remember_secret

    remember_secret("nemo_remembered_secret_value")
    assert redact("the service said nemo_remembered_secret_value is bad") == "the service said <redacted> is bad"


def test_credentials_repr_hides_the_token() -> None:
    credentials = Credentials("nemo_visible_if_buggy", "client", "anonymous", None)
    assert "nemo_visible_if_buggy" not in repr(credentials)
