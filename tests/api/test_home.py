"""The home folder: where it is by default, and files in it that several processes change at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.home import default_home, last_session, read_json
from joypix_recipes.emulator import Emulator

from .conftest import fast_settings, run

_BUMP = """
import sys
from pathlib import Path
from joypix_recipes.api.home import update_private_json

def bump(data):
    data["count"] = int(data.get("count", 0)) + 1
    data[sys.argv[2]] = True

for _ in range(int(sys.argv[3])):
    update_private_json(Path(sys.argv[1]), bump)
"""


def test_processes_sharing_a_home_lose_none_of_their_updates(tmp_path: Path) -> None:
    path = tmp_path / "home" / "shared.json"
    writers = [
        subprocess.Popen([sys.executable, "-c", _BUMP, str(path), f"writer{n}", "40"], stderr=subprocess.PIPE)
        for n in range(4)
    ]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors.decode()
    data = read_json(path)
    assert data["count"] == 160
    assert all(data[f"writer{n}"] for n in range(4))
    assert oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.skipif(sys.platform != "linux", reason="the folder existing users have on Linux")
def test_default_home_on_linux_is_the_config_folder_existing_users_have(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JOYPIX_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_home() == tmp_path / ".config" / "joypix"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_home() == tmp_path / "xdg" / "joypix"


def test_many_sessions_opened_at_once_leave_the_newest_as_the_last_session(emulator: Emulator, tmp_path: Path) -> None:
    settings = fast_settings(emulator.base_url, tmp_path / "home")

    async def open_sessions(client: NemoClient) -> list[str]:
        opened: list[str] = []  # in the order the service answered

        async def open_one() -> None:
            opened.append((await client.create_session()).session_id)

        for _ in range(3):
            await asyncio.gather(*(open_one() for _ in range(10)))
        return opened

    opened = run(open_sessions, settings)  # the client is closed when this returns
    assert last_session(settings.home, settings.base_url) == opened[-1]
