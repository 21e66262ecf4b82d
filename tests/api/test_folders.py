"""The client's folders on Linux: tokens in the config folder, the last session record in the state folder,
caches in the cache folder; JOYPIX_HOME, or a home given in code, holds all of them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from joypix_recipes.api.auth import TOKEN_FILE
from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.home import (
    LAST_SESSION_FILE,
    default_cache,
    default_home,
    default_state,
    last_session,
    record_session,
    write_private_json,
)
from joypix_recipes.emulator import Emulator

from .conftest import FAST_RETRY, run

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the XDG folders are Linux's")


@pytest.fixture
def desktop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """HOME in ``tmp_path``, no XDG variables, no JOYPIX_HOME: the user's home folder."""
    for name in ("JOYPIX_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "NEMO_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    user = tmp_path / "user"
    monkeypatch.setenv("HOME", str(user))
    return user


def test_the_three_folders_default_to_the_xdg_ones(desktop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_home() == desktop / ".config" / "joypix"
    assert default_state() == desktop / ".local" / "state" / "joypix"
    assert default_cache() == desktop / ".cache" / "joypix"
    monkeypatch.setenv("XDG_STATE_HOME", str(desktop / "s"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(desktop / "c"))
    assert (default_state(), default_cache()) == (desktop / "s" / "joypix", desktop / "c" / "joypix")


def test_joypix_home_holds_all_three(desktop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOYPIX_HOME", str(desktop / "one"))
    assert default_home() == default_state() == default_cache() == desktop / "one"


def _open_a_session(emulator: Emulator) -> tuple[str, NemoClient]:
    from joypix_recipes.api.settings import resolve_settings

    settings = resolve_settings(base_url=emulator.base_url, poll_interval=0.05, language="en", retry=FAST_RETRY)

    async def open_one(client: NemoClient) -> tuple[str, NemoClient]:
        return (await client.create_session()).session_id, client

    result: tuple[str, NemoClient] = run(open_one, settings)
    return result


def test_a_session_keeps_its_token_in_config_and_its_record_in_state(desktop: Path, emulator: Emulator) -> None:
    session_id, client = _open_a_session(emulator)
    config, state = desktop / ".config" / "joypix", desktop / ".local" / "state" / "joypix"
    assert (config / TOKEN_FILE).exists() and not (config / LAST_SESSION_FILE).exists()
    assert not (state / TOKEN_FILE).exists()
    assert oct((state / LAST_SESSION_FILE).stat().st_mode & 0o777) == "0o600"
    assert oct(state.stat().st_mode & 0o777) == "0o700"
    assert last_session(client.settings.state_folder, emulator.base_url) == session_id


def test_joypix_home_keeps_the_session_record_beside_the_token(
    desktop: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOYPIX_HOME", str(desktop / "one"))
    session_id, _ = _open_a_session(emulator)
    assert last_session(desktop / "one", emulator.base_url) == session_id
    assert not (desktop / ".local").exists() and not (desktop / ".config").exists()


def test_a_record_left_in_the_config_folder_by_an_earlier_version_is_read_until_a_newer_one_is_kept(
    tmp_path: Path,
) -> None:
    config, state = tmp_path / "config", tmp_path / "state"
    write_private_json(config / LAST_SESSION_FILE, {"http://a": {"session_id": "old_a"}, "http://b": {"session_id": "old_b"}})
    assert last_session(state, "http://a", legacy=config) == "old_a"
    record_session(state, "http://a", "new_a", None)
    assert last_session(state, "http://a", legacy=config) == "new_a"
    assert last_session(state, "http://b", legacy=config) == "old_b"
    assert last_session(state, "http://b") is None
    assert (config / LAST_SESSION_FILE).exists()  # read, never moved: an older joypix on this machine still finds it


def test_a_state_folder_that_cannot_be_written_does_not_fail_the_session(
    desktop: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = desktop / "blocked"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the state folder would be")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocked))
    session_id, _ = _open_a_session(emulator)
    assert session_id
    assert (desktop / ".config" / "joypix" / TOKEN_FILE).exists()
