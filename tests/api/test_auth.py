"""Where the token comes from: NEMO_TOKEN, a cached anonymous token (0600), renewal on 1001, 400."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from joypix_recipes.api.auth import TOKEN_FILE, describe_token
from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.emulator import Emulator
from joypix_recipes.errors import AuthError

from .conftest import Proxy, api_requests, fast_settings, run


def _credits(client: NemoClient) -> object:
    return client.credits()


def test_anonymous_token_is_cached_in_a_0600_file_and_reused(emulator: Emulator, settings: ClientSettings) -> None:
    run(_credits, settings)
    run(_credits, settings)
    cache = settings.home / TOKEN_FILE
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert emulator.state.counters.tokens_issued == 1
    assert len(api_requests(emulator, "POST", "/api/auth/anonymous-token")) == 1
    assert "expires" in describe_token(settings.home, settings.base_url)


def test_anonymous_token_request_carries_a_uuid_client_id_kept_with_the_token(
    emulator: Emulator, settings: ClientSettings
) -> None:
    run(_credits, settings)
    (token_request,) = api_requests(emulator, "POST", "/api/auth/anonymous-token")
    client_id = token_request.headers["x-client-id"]
    assert len(client_id) == 36 and client_id.count("-") == 4
    (credits_request,) = api_requests(emulator, "GET", "/api/credits")
    assert credits_request.headers["x-client-id"] == client_id


def test_nemo_token_from_the_environment_is_used_and_nothing_is_cached(
    emulator: Emulator, settings: ClientSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = emulator.state.issue_token().token
    monkeypatch.setenv("NEMO_TOKEN", token)
    run(_credits, settings)
    assert api_requests(emulator, "POST", "/api/auth/anonymous-token") == []
    (request,) = api_requests(emulator, "GET", "/api/credits")
    assert request.headers["authorization"] == f"Bearer {token}"
    assert not (settings.home / TOKEN_FILE).exists()
    assert describe_token(settings.home, settings.base_url).startswith("NEMO_TOKEN")


def test_refused_environment_token_raises_auth_error_without_the_token(
    emulator: Emulator, settings: ClientSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEMO_TOKEN", "nemo_not-a-real-token-123456")
    with pytest.raises(AuthError) as caught:
        run(_credits, settings)
    assert "NEMO_TOKEN" in str(caught.value)
    assert "nemo_not-a-real-token-123456" not in str(caught.value)


def test_expired_token_1001_renews_once_with_a_fresh_client_id_and_retries(emulator: Emulator, settings: ClientSettings) -> None:
    emulator.state.knobs.expire_token_after_calls = 2

    async def three_calls(client: NemoClient) -> list[int]:
        return [(await client.credits()).available for _ in range(3)]

    assert run(three_calls, settings) == [100, 100, 100]
    token_requests = api_requests(emulator, "POST", "/api/auth/anonymous-token")
    assert len(token_requests) == 2
    assert token_requests[0].headers["x-client-id"] != token_requests[1].headers["x-client-id"]
    credits = api_requests(emulator, "GET", "/api/credits")
    assert [r.status for r in credits] == [200, 200, 200, 200]  # 1001 rides on HTTP 200
    assert len({r.headers["authorization"] for r in credits}) == 2


def test_cached_token_refused_with_1001_is_renewed_and_the_cache_rewritten(
    emulator: Emulator, settings: ClientSettings
) -> None:
    run(_credits, settings)
    first = (settings.home / TOKEN_FILE).read_text()
    emulator.state.tokens.clear()  # the service forgot every token
    run(_credits, settings)
    assert (settings.home / TOKEN_FILE).read_text() != first
    assert emulator.state.counters.tokens_issued == 2


def test_missing_client_id_400_gets_a_fresh_client_id_and_retries(proxy: Proxy, emulator: Emulator, tmp_path: Path) -> None:
    proxy.strip_header_once[("POST", "/api/auth/anonymous-token")] = "X-Client-Id"
    settings = fast_settings(proxy.url, tmp_path / "home")
    run(_credits, settings)
    token_requests = api_requests(emulator, "POST", "/api/auth/anonymous-token")
    assert [r.status for r in token_requests] == [400, 200]
    assert "x-client-id" not in token_requests[0].headers
    assert emulator.state.counters.tokens_issued == 1
