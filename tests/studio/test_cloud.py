"""A cloud recipe in the studio: its drafts are made here and ask the service nothing; its finals, started from
the page, are rendered (and paid) on the service the command names, once."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from helpers.images import write_image
from helpers.waiting import wait_until

from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.emulator import Emulator
from joypix_recipes.studio import Studio

from .conftest import all_ready, write_recipe

CLOUD = """
version: 1
backend: nemo
inputs: [a.jpg]
steps:
  - prompt: animate this image into a smooth 1-second clip with a slow zoom in
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
"""


def test_a_cloud_recipe_drafts_for_free_and_renders_its_finals_on_the_service_once(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOYPIX_HOME", str(tmp_path / "home"))
    folder = tmp_path / "project"
    write_image(folder / "a.jpg", (320, 480))
    options = BackendOptions(base_url=emulator.base_url, poll_interval=0.05)
    with Studio(write_recipe(folder, CLOUD), options=options) as studio:
        wait_until(lambda: all_ready(studio), 60, "the draft was not rendered")
        assert emulator.state.requests.all() == []
        assert studio.service is not None and studio.service.state.snapshot()["backend"] == "nemo"
        with httpx.Client(timeout=10) as http:
            started = http.post(f"{studio.base_url}/api/render", params={"token": studio.token},
                                headers={"Origin": studio.base_url}, json={})
        assert started.status_code == 202
        wait_until(lambda: not studio.service.state.render.running, 60, "the final render did not end")  # type: ignore[union-attr]
        (final,) = studio.service.state.render.finals
        assert final.status == "done" and final.url == "/files/a.mp4", final
    assert emulator.paid().renders == 1
    assert (studio.out_dir / "a.mp4").is_file() and (studio.out_dir / "previews" / "a.mp4").is_file()
