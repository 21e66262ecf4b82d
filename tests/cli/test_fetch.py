"""``joypix fetch RENDER_ID``: a finished render downloaded by id, checked by decoding, and nothing paid."""

from __future__ import annotations

from pathlib import Path

from helpers.recipes import write_photo_batch
from helpers.runs import run_joypix
from helpers.video import probe

from joypix_recipes.emulator import Emulator, Knobs
from joypix_recipes.run.journal import Journal

RECIPE = """\
version: 1
name: fetched
backend: nemo
inputs: ["photos/*.jpg"]
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {aspect: "1:1", resolution: 480p, fps: 24, quality: low}
"""


def test_a_render_made_elsewhere_is_fetched_by_id_through_an_expired_first_link(tmp_path: Path) -> None:
    recipe = write_photo_batch(tmp_path, RECIPE, [(90, 140, 200)], (320, 240))
    env = {"JOYPIX_HOME": str(tmp_path / "home"), "JOYPIX_POLL_INTERVAL": "0.05"}
    knobs = Knobs(stub_render=True, no_text_ratio=0.0, heartbeat_interval=0.05)
    with Emulator(knobs, workdir=tmp_path / "emulator") as cloud:
        made = run_joypix(["run", str(recipe), "--base-url", cloud.base_url], env=env)
        assert made.returncode == 0, made.stderr
        with Journal.open(tmp_path / "out") as journal:
            ledger = journal.ledger(tmp_path / "out" / "p0.mp4")
        assert ledger is not None and ledger.render_id is not None

        cloud.state.knobs.expire_first_link = True  # links handed out from now on: the first one of the render is refused
        target = tmp_path / "elsewhere" / "clip.mp4"
        target.parent.mkdir()
        fetched = run_joypix(["fetch", ledger.render_id, "--out", str(target), "--base-url", cloud.base_url], env=env)
        assert fetched.returncode == 0, fetched.stderr
        assert fetched.stdout.strip() == f"saved {target} (480x480, 1.0 s)"
        assert probe(target)["size"] == (480, 480)
        assert cloud.state.counters.renders_started == 1 and cloud.state.counters.turns == 1
        assert cloud.state.counters.links_refused == 1
        assert [path.name for path in target.parent.iterdir()] == ["clip.mp4"]

        unknown = run_joypix(["fetch", "render_0_missing", "--base-url", cloud.base_url], tmp_path, env=env)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "error: the service has no render render_0_missing; check the id"
    assert not (tmp_path / "render_0_missing.mp4").exists()
