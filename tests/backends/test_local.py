"""The local backend: job -> draft -> MP4 in worker processes, failures confined to their job, prompt handling."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import pytest
from helpers.audio import write_wav
from helpers.images import write_image
from helpers.runs import partials_under
from helpers.video import probe
from helpers.waiting import wait_until_async

from joypix_recipes import errors
from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.backends.local import LocalBackend
from joypix_recipes.backends.registry import BACKENDS
from joypix_recipes.errors import (
    ImageError,
    InterpretError,
    JobError,
    MediaError,
    RenderError,
)
from joypix_recipes.job.actions import Animate, Audio, Prompt, Text
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.timeline.draft import Draft

from .conftest import MakeBackend, RecordingReporter, make_job


def test_registry_builds_a_local_backend_with_one_worker_per_core() -> None:
    backend = BACKENDS["local"](BackendOptions())
    assert isinstance(backend, LocalBackend) and backend.name == "local"
    assert backend.default_concurrency == (os.cpu_count() or 1)
    assert LocalBackend(BackendOptions(workers=3)).default_concurrency == 3


def test_job_without_animate_gets_default_motion_for_five_seconds(tmp_path: Path) -> None:
    job = make_job(write_image(tmp_path / "photo.jpg"), export=ExportSettings(resolution="480p", aspect="1:1", fps=24))
    backend = LocalBackend(BackendOptions(workers=1))
    try:
        result = asyncio.run(backend.run_job(job, RecordingReporter()))
    finally:
        asyncio.run(backend.aclose())
    assert probe(result.output) == {
        "codec": "h264", "size": (480, 480), "pix_fmt": "yuv420p", "frames": 120, "fps": Fraction(24), "audio": 0,
    }  # fmt: skip
    assert result.summary == "Timeline (1 track): 1. Video: photo.jpg (0-5s)"
    assert Draft.from_json(result.draft_json).video[0].motion == "zoom-in"


def test_vertical_480p_is_480_by_854(tmp_path: Path, make_backend: MakeBackend) -> None:
    job = make_job(
        write_image(tmp_path / "photo.jpg"), [Animate(duration=0.5)], export=ExportSettings(resolution="480p", fps=24)
    )
    result = asyncio.run(make_backend("local").run_job(job, RecordingReporter()))
    assert probe(result.output) == {
        "codec": "h264", "size": (480, 854), "pix_fmt": "yuv420p", "frames": 12, "fps": Fraction(24), "audio": 0,
    }  # fmt: skip


def test_prompt_steps_are_interpreted_into_the_draft(tmp_path: Path, make_backend: MakeBackend) -> None:
    image = write_image(tmp_path / "photo.jpg")
    job = make_job(
        image,
        [Prompt('Animate this image into a smooth 1-second clip with a slow pan left and the title "Hi" at the top')],
    )
    reporter = RecordingReporter()
    result = asyncio.run(make_backend("local").run_job(job, reporter))
    assert result.summary == 'Timeline (2 tracks): 1. Video: photo.jpg (0-1s) 2. Title: "Hi" (0-1s)'
    assert probe(result.output)["frames"] == 24
    assert reporter.stages == ["building the timeline", "step 1/1: prompt 1", "rendering"]


def test_video_carries_the_identity_it_was_handed_and_recipe_name(tmp_path: Path, make_backend: MakeBackend) -> None:
    job = make_job(write_image(tmp_path / "photo.jpg"), [Animate(duration=0.5)])
    asyncio.run(make_backend("local").run_job(job, RecordingReporter(identity="handed0identity")))
    with av.open(str(job.output)) as container:
        metadata = dict(container.metadata)
    assert metadata.get("comment") == "joypix job handed0identity"
    assert metadata.get("title") == "test recipe"


def test_bad_image_fails_its_job_while_the_next_job_succeeds(tmp_path: Path, make_backend: MakeBackend) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)  # a PNG header and nothing after it
    good = make_job(write_image(tmp_path / "good.jpg"), [Animate(duration=0.5)])
    backend = make_backend("local")

    async def both() -> tuple[object, object]:
        return await asyncio.gather(
            backend.run_job(make_job(broken, [Animate(duration=0.5)]), RecordingReporter()),
            backend.run_job(good, RecordingReporter()),
            return_exceptions=True,
        )

    failure, success = asyncio.run(both())
    assert type(failure) is ImageError and "broken.png" in str(failure)
    assert not isinstance(success, BaseException) and probe(good.output)["frames"] == 12


def test_unknown_phrase_fails_the_job_naming_step_words_and_vocabulary(
    tmp_path: Path, make_backend: MakeBackend
) -> None:
    job = make_job(write_image(tmp_path / "photo.jpg"), [Prompt("zoom in and add explosions")])
    with pytest.raises(InterpretError) as caught:
        asyncio.run(make_backend("local").run_job(job, RecordingReporter()))
    message = str(caught.value)
    assert '"prompt 1"' in message and '"explosions"' in message and "Ken Burns" in message
    assert "unknown_phrases: warn" in message and "\n" not in message
    assert not job.output.exists()


def test_unknown_phrase_only_warns_when_the_recipe_says_so(tmp_path: Path, make_backend: MakeBackend) -> None:
    job = make_job(
        write_image(tmp_path / "photo.jpg"), [Prompt("1-second zoom in with explosions")], unknown_phrases="warn"
    )
    reporter = RecordingReporter()
    result = asyncio.run(make_backend("local").run_job(job, reporter))
    assert len(reporter.warnings) == 1 and '"explosions"' in reporter.warnings[0]
    assert probe(result.output)["frames"] == 24


def test_url_input_asks_for_a_file_or_the_cloud_backend(tmp_path: Path) -> None:
    job = make_job(tmp_path / "remote.jpg", url="https://example.com/remote.jpg")
    with pytest.raises(JobError, match="--backend nemo"):
        asyncio.run(LocalBackend(BackendOptions()).run_job(job, RecordingReporter()))


def test_impossible_structured_step_fails_naming_the_step(tmp_path: Path) -> None:
    job = make_job(write_image(tmp_path / "photo.jpg"), [Text("late", start=3.0, end=1.0)])
    with pytest.raises(JobError, match='step "text 1"'):
        asyncio.run(LocalBackend(BackendOptions()).run_job(job, RecordingReporter()))


def test_missing_audio_file_is_a_media_error_naming_file_and_step(tmp_path: Path) -> None:
    job = make_job(write_image(tmp_path / "photo.jpg"), [Audio(file="nowhere.mp3")])
    with pytest.raises(MediaError, match=r'nowhere\.mp3.*step "audio 1"'):
        asyncio.run(LocalBackend(BackendOptions()).run_job(job, RecordingReporter()))


def test_audio_named_in_a_prompt_is_found_beside_the_recipe(tmp_path: Path, make_backend: MakeBackend) -> None:
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    write_wav(recipes / "tune.wav")
    image = write_image(tmp_path / "photo.jpg")
    job = make_job(
        image, [Prompt('a 1-second clip, add background music "tune.wav" at 50%')], recipe_path=recipes / "r.yaml"
    )
    result = asyncio.run(make_backend("local").run_job(job, RecordingReporter()))
    assert Draft.from_json(result.draft_json).audio[0].src == str((recipes / "tune.wav").resolve())
    with av.open(str(result.output)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"


@pytest.mark.parametrize(
    "error_type", [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, JobError)]
)
def test_job_errors_cross_the_process_boundary_unchanged(error_type: type[JobError]) -> None:
    copy = pickle.loads(pickle.dumps(error_type("photo.jpg: something is wrong")))
    assert type(copy) is error_type and str(copy) == "photo.jpg: something is wrong"


def test_cancelled_job_leaves_no_output_and_no_partial_file(tmp_path: Path) -> None:
    job = make_job(write_image(tmp_path / "photo.jpg"), [Animate(duration=30.0)])
    backend = LocalBackend(BackendOptions(workers=1))

    async def cancel_mid_render() -> None:
        task = asyncio.create_task(backend.run_job(job, RecordingReporter()))
        # Until the worker has started writing.
        await wait_until_async(lambda: job.output.parent.exists() and any(job.output.parent.iterdir()), 10, "the render never started")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await backend.aclose()

    asyncio.run(cancel_mid_render())
    assert list(job.output.parent.iterdir()) == []


def test_a_worker_killed_twice_fails_its_job_and_the_next_job_gets_a_fresh_pool(tmp_path: Path) -> None:
    long_job = make_job(write_image(tmp_path / "long.jpg"), [Animate(duration=30.0)])
    short_job = make_job(write_image(tmp_path / "short.jpg"), [Animate(duration=0.5)])
    backend = LocalBackend(BackendOptions(workers=1))

    async def partial_file_other_than(seen: set[str]) -> str:
        def new_partials() -> set[str]:
            return {path.name for path in partials_under(long_job.output.parent)} - seen

        return (await wait_until_async(new_partials, 20, "the render never started writing")).pop()

    async def kill_mid_render_twice() -> object:
        task = asyncio.create_task(backend.run_job(long_job, RecordingReporter()))
        first = await partial_file_other_than(set())
        for worker in multiprocessing.active_children():
            worker.kill()
        await partial_file_other_than({first})  # one death is retried on a fresh pool
        for worker in multiprocessing.active_children():
            worker.kill()
        with pytest.raises(RenderError, match="long.jpg: the render worker stopped unexpectedly"):
            await task
        try:
            return await backend.run_job(short_job, RecordingReporter())
        finally:
            await backend.aclose()

    asyncio.run(kill_mid_render_twice())
    assert probe(short_job.output)["frames"] == 12
    assert sorted(path.name for path in short_job.output.parent.iterdir()) == ["short.jpg", "short.mp4"]


_GATED_RENDER = """
import asyncio, sys
from pathlib import Path
from helpers.images import write_image
from helpers.jobs import make_job
from joypix_recipes.backends import local
from joypix_recipes.backends.contract import BackendOptions
from joypix_recipes.job.actions import Animate
from joypix_recipes.job.export import ExportSettings
from backends.conftest import RecordingReporter

local._RENDER_MODULE = "gated_preload"  # the fork server waits in this import until the loop opens the gate

async def main(folder: Path) -> None:
    job = make_job(write_image(folder / "photo.jpg"), [Animate(duration=0.5)], export=ExportSettings(resolution="480p", aspect="1:1", fps=24))
    backend = local.LocalBackend(BackendOptions(workers=1))
    render = asyncio.create_task(backend.run_job(job, RecordingReporter()))
    await asyncio.sleep(0.5)  # the job is under way: its worker is starting
    (folder / "gate-open").touch()
    await render
    await backend.aclose()

if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
"""

_GATED_PRELOAD = """
import time
from pathlib import Path
_GATE = Path(__file__).parent / "gate-open"
_deadline = time.monotonic() + 20
while not _GATE.exists() and time.monotonic() < _deadline:
    time.sleep(0.05)
if not _GATE.exists():
    (_GATE.parent / "gate-never-opened").touch()
"""


def test_the_event_loop_keeps_running_while_the_first_render_worker_starts(tmp_path: Path) -> None:
    # A worker's start waits for the fork server to import the renderer; here that import waits for a file
    # that only the event loop creates, so a loop blocked by the start would keep the gate shut.
    (tmp_path / "gated_preload.py").write_text(_GATED_PRELOAD)
    script = tmp_path / "gated_render.py"
    script.write_text(_GATED_RENDER)
    tests_folder = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(tests_folder), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "gate-never-opened").exists()
    assert probe(tmp_path / "out" / "photo.mp4")["frames"] == 12
