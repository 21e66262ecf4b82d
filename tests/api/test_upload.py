"""Uploading a local file: a small one is read whole in a worker thread, a large one streamed from disk;
the service receives the same bytes either way."""

from __future__ import annotations

from pathlib import Path

import pytest

import joypix_recipes.api.client as client_module
from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.emulator import Emulator

from .conftest import image_file, run


@pytest.mark.parametrize("held_in_memory", [True, False])
def test_an_upload_arrives_whole_whether_held_in_memory_or_streamed(
    emulator: Emulator, settings: ClientSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held_in_memory: bool
) -> None:
    photo = image_file(tmp_path, size=(320, 240))
    if not held_in_memory:
        monkeypatch.setattr(client_module, "IN_MEMORY_UPLOAD_BYTES", 16)
    size, held = client_module._size_and_bytes(photo)
    assert size == photo.stat().st_size and (held == photo.read_bytes() if held_in_memory else held is None)

    async def upload(client: NemoClient) -> str:
        session = await client.create_session()
        return (await client.upload_file(session.session_id, photo)).name

    assert run(upload, settings) == photo.name
    (stored,) = emulator.state.media.values()
    assert stored.path.read_bytes() == photo.read_bytes()
