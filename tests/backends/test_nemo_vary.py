"""The cloud backend against the emulator's ``--vary`` shapes: every clip made, and nothing paid twice.

Each seed gives each session its own undocumented shapes (upload replies without the id or with it
elsewhere, unknown keys everywhere, segment keys of the service's own, unfamiliar render status words,
silences without heartbeats, an error frame after an edit). Outcomes and spending are asserted from
what the emulator received, never from what the client says it did.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import av
import pytest
from helpers.audio import write_wav
from helpers.images import write_image

from joypix_recipes.backends.contract import BackendOptions, JobResult
from joypix_recipes.backends.nemo import NemoBackend
from joypix_recipes.cli.main import main
from joypix_recipes.emulator import Emulator, Knobs
from joypix_recipes.errors import AgentRefusedError, JoypixError
from joypix_recipes.job.actions import Animate, Audio, Fade, Prompt, Text
from joypix_recipes.job.model import Job

from .conftest import RecordingReporter, make_job

SEEDS = [101, 202, 303, 404, 505]
POLL_S = 0.05


def _knobs(seed: int) -> Knobs:
    return Knobs(vary=seed, vary_silence=0.2, stub_render=True, heartbeat_interval=0.05, render_latency=0.3)


def _jobs(tmp_path: Path) -> list[Job]:
    tone = write_wav(tmp_path / "tone.wav")
    first, second = write_image(tmp_path / "a.jpg", seed=1), write_image(tmp_path / "b.png", seed=2)
    return [
        make_job(first, [Animate(motion="zoom-in", duration=1.0), Text("Hi", position="top")], output=tmp_path / "out" / "a.mp4"),
        make_job(second, [Prompt("animate this image into a 1-second clip with a slow pan to the left"), Fade(0.2, 0.2)],
                 output=tmp_path / "out" / "b.mp4"),
        make_job(first, [Animate(duration=1.0), Audio(file=str(tone), volume=0.5)], output=tmp_path / "out" / "c.mp4"),
    ]  # fmt: skip


def _run_all(emulator: Emulator, jobs: list[Job], home: Path) -> list[JobResult | JoypixError]:
    options = BackendOptions(base_url=emulator.base_url, poll_interval=POLL_S, home=home, language="en")

    async def main_loop() -> list[JobResult | JoypixError]:
        backend = NemoBackend(options)
        try:
            return list(await asyncio.gather(*(backend.run_job(job, RecordingReporter()) for job in jobs), return_exceptions=True))  # type: ignore[arg-type]
        finally:
            await backend.aclose()

    return asyncio.run(main_loop())


def _assert_paid_once(emulator: Emulator, *, jobs: int, steps: int, uploads: int) -> None:
    counters = emulator.state.counters
    assert counters.turns_posted == counters.turns == steps, "every step reached the agent exactly once"
    assert counters.renders_posted == counters.renders_started == jobs, "one render per job"
    assert counters.uploads == uploads
    assert counters.tokens_issued == 1
    assert counters.drafts_altered == 0, "drafts went back to the service untouched"
    assert emulator.state.violations == []
    gaps = [b - a for times in emulator.state.poll_times.values() for a, b in zip(times, times[1:])]
    assert all(gap >= POLL_S * 0.95 for gap in gaps), "never polled faster than the interval"


@pytest.mark.parametrize("seed", SEEDS)
def test_every_clip_is_made_and_nothing_is_paid_twice_under_varied_shapes(seed: int, tmp_path: Path) -> None:
    jobs = _jobs(tmp_path)
    with Emulator(_knobs(seed), workdir=tmp_path / "emulator") as emulator:
        results = _run_all(emulator, jobs, tmp_path / "home")
        assert all(isinstance(result, JobResult) for result in results), results
        _assert_paid_once(emulator, jobs=3, steps=6, uploads=4)
    for job in jobs:
        with av.open(str(job.output)) as container:
            frame = next(container.decode(video=0))
            assert (frame.width, frame.height) == (480, 480), "the frame asked for in words and output settings"
        assert job.output.with_suffix(".jpg").is_file()


def test_the_seeds_exercise_every_undocumented_shape() -> None:
    from joypix_recipes.emulator.variation import draw

    drawn = [draw(seed, ordinal) for seed in SEEDS for ordinal in range(3)]
    assert {v.upload for v in drawn} >= {"absent", "nested", "renamed", "listed"}
    assert {v.segment_keys for v in drawn} == {"ours", "own"}
    assert {v.done_word for v in drawn} - {"completed"} and {v.running_words[0] for v in drawn} - {"queued"}
    assert any(v.silent_thinking for v in drawn) and any(v.error_frame_after_edit for v in drawn)
    assert any(v.names_user for v in drawn) and any(v.extra_keys for v in drawn)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_a_refused_step_fails_its_job_clearly_after_one_turn(seed: int, tmp_path: Path) -> None:
    image = write_image(tmp_path / "a.jpg")
    refused = make_job(image, [Animate(duration=1.0), Prompt("add forbidden-content here")], output=tmp_path / "out" / "x.mp4")
    with Emulator(_knobs(seed), workdir=tmp_path / "emulator") as emulator:
        (result,) = _run_all(emulator, [refused], tmp_path / "home")
        assert isinstance(result, AgentRefusedError)
        assert str(result).startswith("the agent refused: This request was blocked by the safety filter.")
        assert emulator.state.counters.turns_posted == 2 and emulator.state.counters.refusals == 1
        assert emulator.state.counters.renders_posted == 0
    assert not refused.output.exists()


RECIPE = """\
version: 1
name: varied
backend: nemo
inputs: ["photos/*.png"]
steps:
  - animate: {motion: zoom-in, duration: 1}
  - text: {content: "Sale", position: top}
export: {aspect: "16:9", resolution: 480p, fps: 24, quality: low}
"""



@pytest.mark.usefixtures("logging_restored")
def test_joypix_run_makes_the_clips_against_a_varied_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "photos").mkdir()
    for index in range(3):
        write_image(tmp_path / "photos" / f"p{index}.png", seed=index)
    recipe = tmp_path / "varied.yaml"
    recipe.write_text(RECIPE)
    monkeypatch.setenv("JOYPIX_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    with Emulator(_knobs(SEEDS[0]), workdir=tmp_path / "emulator") as emulator:
        args = ["run", str(recipe), "--backend", "nemo", "--base-url", emulator.base_url, "--poll-interval", str(POLL_S)]
        code = main([*args, "--out", str(tmp_path / "out"), "--json"])
        _assert_paid_once(emulator, jobs=3, steps=6, uploads=3)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert code == 0, events
    for index in range(3):
        with av.open(str(tmp_path / "out" / f"p{index}.mp4")) as container:
            frame = next(container.decode(video=0))
            assert (frame.width, frame.height) == (854, 480)
