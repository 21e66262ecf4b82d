"""A recipe that only gains steps at the end continues its live cloud session: it pays for the new steps only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.recipes import write_photo_batch
from helpers.runs import events_of, run_joypix
from helpers.video import probe

from joypix_recipes.emulator import Emulator, Knobs

HEAD = """\
version: 1
name: iterate
backend: nemo
inputs: ["photos/*.jpg"]
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
steps:
"""
ZOOM = "  - animate: {motion: zoom-in, duration: 1}\n"
TITLE = "  - text: {content: Hi, position: top}\n"
FADE = "  - fade: {in: 0.2}\n"


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(Knobs(stub_render=True, no_text_ratio=0.0, heartbeat_interval=0.05), workdir=tmp_path / "emulator") as emulator:
        yield emulator


def joypix(cloud: Emulator, recipe: Path, *extra: str) -> list[dict[str, Any]]:
    env = {"JOYPIX_HOME": str(recipe.parent / "home"), "JOYPIX_POLL_INTERVAL": "0.05"}
    result = run_joypix(["run", str(recipe), "--json", "--base-url", cloud.base_url, *extra], env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return events_of(result.stdout)


def paid(cloud: Emulator) -> tuple[int, int, int]:
    """Sessions opened, turns taken and renders charged, as the emulator counted them."""
    counters = cloud.state.counters
    return counters.sessions_created, counters.turns, counters.renders_started


def spending(cloud: Emulator, recipe: Path) -> str:
    (job,) = joypix(cloud, recipe, "--dry-run")
    return str(job["spending"])


def test_an_appended_step_costs_one_turn_and_one_render_in_the_same_session(cloud: Emulator, tmp_path: Path) -> None:
    recipe = write_photo_batch(tmp_path, HEAD + ZOOM + TITLE, [(200, 60, 60)], (320, 240))
    assert spending(cloud, recipe) == "pays 2 turn(s) and 1 render"
    joypix(cloud, recipe)
    assert paid(cloud) == (1, 2, 1)
    first_clip = (tmp_path / "out" / "p0.mp4").read_bytes()

    recipe.write_text(HEAD + ZOOM + TITLE + FADE)
    (session,) = cloud.state.sessions
    assert spending(cloud, recipe) == f"2 step(s) already in session {session}; pays 1 turn(s) and 1 render"
    events = joypix(cloud, recipe)
    assert paid(cloud) == (1, 3, 2)
    assert cloud.state.counters.edits_applied == {session: 3}
    (done,) = [event for event in events if event["event"] == "job_done"]
    assert (tmp_path / "out" / "p0.mp4").read_bytes() != first_clip  # a new clip, of the longer timeline
    assert probe(Path(done["output"]))["size"] == (480, 480)


def test_any_other_change_starts_a_fresh_session(cloud: Emulator, tmp_path: Path) -> None:
    recipe = write_photo_batch(tmp_path, HEAD + ZOOM + TITLE, [(60, 200, 60)], (320, 240))
    joypix(cloud, recipe)
    recipe.write_text(HEAD + TITLE + ZOOM)  # the same steps in another order
    assert spending(cloud, recipe) == "pays 2 turn(s) and 1 render (earlier steps changed: a fresh session)"
    joypix(cloud, recipe)
    recipe.write_text((HEAD + TITLE + ZOOM).replace('"1:1"', '"4:5"'))
    assert spending(cloud, recipe) == "pays 2 turn(s) and 1 render (the input or the frame changed: a fresh session)"
    joypix(cloud, recipe)
    assert paid(cloud) == (3, 6, 3)


def test_force_ignores_what_was_paid(cloud: Emulator, tmp_path: Path) -> None:
    recipe = write_photo_batch(tmp_path, HEAD + ZOOM, [(60, 60, 200)], (320, 240))
    joypix(cloud, recipe)
    (job,) = joypix(cloud, recipe, "--dry-run", "--force")
    assert job["spending"] == "pays 1 turn(s) and 1 render"
    joypix(cloud, recipe, "--force")
    assert paid(cloud) == (2, 2, 2)
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["jobs"][0]["status"] == "done"
