"""`watch` end to end through the real runner and journal: exactly once, duplicates, failures, restarts.

A quick fake backend (injected through the registry mapping) stands in where the render does not matter.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.images import write_image
from helpers.repo import REPO
from helpers.waiting import wait_until
from PIL import Image
from watchdog.observers.api import BaseObserver

from joypix_recipes.atomic import atomic_write_bytes
from joypix_recipes.backends.contract import BackendOptions, JobReporter, JobResult, Ledger
from joypix_recipes.errors import ImageError
from joypix_recipes.job.model import Job
from joypix_recipes.run.progress import Progress
from joypix_recipes.watch import WatchConfig, load_watch_file, observer_factory, watch
from joypix_recipes.watch.hotfolder import FileEvent

TESTS = REPO / "tests"  # where the helpers package and this test module are imported from
SETTLE = 0.2

RECIPE = """\
version: 1
name: hot
steps:
  - animate: {motion: zoom-in, duration: 1}
export:
  resolution: 480p
  aspect: "1:1"
  fps: 24
"""


def _serving(config: WatchConfig, stop: asyncio.Event, **injected: Any) -> asyncio.Task[int]:
    """The watcher serving ``config`` in the background until ``stop`` is set, quietly, with what a test injects."""
    return asyncio.create_task(
        watch(config, once=False, progress_mode="quiet", verbose=False, stop=stop, progress=Progress(), **injected)
    )


# Observers must stop promptly: a shorter wait than the suite-wide check allows.
pytestmark = pytest.mark.thread_grace(2.0)


class QuickBackend:
    """Writes a small fake MP4 per job after ``delay`` seconds; logs every job it finished to ``log``."""

    name = "quick"

    def __init__(self, delay: float = 0.0, log: Path | None = None) -> None:
        self.delay = delay
        self.log = log
        self.jobs: list[Job] = []
        self.started = asyncio.Event()

    @property
    def default_concurrency(self) -> int:
        return 4

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        assert job.input.path is not None
        data = job.input.path.read_bytes()
        if not data.startswith(b"\x89PNG"):
            raise ImageError(f"{job.input.name}: not an image; only PNG files are accepted here")
        try:
            Image.open(io.BytesIO(data)).load()
        except OSError as error:
            raise ImageError(f"{job.input.name}: the image is truncated") from error
        reporter.stage("rendering")
        self.started.set()
        await asyncio.sleep(self.delay)
        atomic_write_bytes(job.output, b"MP4" + hashlib.sha256(data).digest())
        self.jobs.append(job)
        if self.log is not None:
            with self.log.open("a") as handle:
                handle.write(f"{job.input.name}\n")
        return JobResult(output=job.output, poster=None, summary="fake", duration_s=self.delay)

    async def aclose(self) -> None:
        pass


def png(path: Path, seed: int) -> bytes:
    """A tiny real PNG whose content depends on ``seed``."""
    return write_image(path, (16, 16), seed).read_bytes()


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "in"
        self.folder.mkdir()
        self.recipe = root / "hot.yaml"
        self.recipe.write_text(RECIPE)
        self.out = root / "out"
        self.backend = QuickBackend()

    def config(self, **overrides: object) -> WatchConfig:
        return WatchConfig.from_args(
            self.folder, self.recipe, out_dir=self.out, backend="quick", settle_seconds=SETTLE, **overrides
        )  # type: ignore[arg-type]

    def backends(self) -> dict[str, Callable[[BackendOptions], QuickBackend]]:
        return {"quick": lambda options: self.backend}

    def run_once(self) -> int:
        return asyncio.run(
            watch(
                self.config(),
                once=True,
                progress_mode="quiet",
                verbose=False,
                backends=self.backends(),
                progress=Progress(),
            )
        )

    def listing(self, sub: str) -> list[str]:
        folder = self.folder / sub
        return sorted(path.name for path in folder.iterdir()) if folder.exists() else []

    def outputs(self) -> list[str]:
        return sorted(path.name for path in self.out.glob("*.mp4"))

    def journal_rows(self) -> list[tuple[str, str]]:
        with sqlite3.connect(self.out / ".joypix" / "journal.sqlite") as connection:
            return sorted(connection.execute("SELECT identity, state FROM jobs").fetchall())


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


def test_once_renders_each_image_once_and_a_copy_is_a_duplicate(setup: Setup) -> None:
    for index in range(5):
        png(setup.folder / f"photo{index}.png", index)
    (setup.folder / "copy.png").write_bytes((setup.folder / "photo0.png").read_bytes())
    assert setup.run_once() == 0
    assert len(setup.backend.jobs) == 5
    # Whichever of the two identical files came first is rendered; the other is the duplicate.
    rendered, twin = ("copy", "photo0") if "copy.mp4" in setup.outputs() else ("photo0", "copy")
    assert setup.outputs() == sorted([f"{rendered}.mp4"] + [f"photo{index}.mp4" for index in range(1, 5)])
    assert setup.listing("done") == sorted(
        ["copy.png", f"{twin}.png.duplicate.txt"] + [f"photo{index}.png" for index in range(5)]
    )
    assert f"{rendered}.mp4" in (setup.folder / "done" / f"{twin}.png.duplicate.txt").read_text()
    rows = setup.journal_rows()
    assert len(rows) == 5 and {state for _, state in rows} == {"done"}
    assert (setup.out / "manifest.json").exists() and (setup.out / "report.html").exists()


def test_failed_image_goes_to_failed_with_the_reason_and_the_rest_are_done(setup: Setup) -> None:
    png(setup.folder / "good.png", 1)
    (setup.folder / "notes.png").write_bytes(b"this is text, not a picture")
    assert setup.run_once() == 1
    assert setup.listing("done") == ["good.png"]
    assert setup.listing("failed") == ["notes.png", "notes.png.error.txt"]
    reason = (setup.folder / "failed" / "notes.png.error.txt").read_text()
    assert "notes.png" in reason and "Traceback" not in reason


def test_image_dropped_again_after_it_was_done_is_not_rendered_again(setup: Setup) -> None:
    data = png(setup.folder / "photo.png", 3)
    assert setup.run_once() == 0
    (setup.folder / "photo.png").write_bytes(data)  # as if the move to done/ never happened (restart)
    (setup.folder / "renamed.png").write_bytes(data)
    assert setup.run_once() == 0
    assert len(setup.backend.jobs) == 1
    assert setup.outputs() == ["photo.mp4"]
    assert setup.listing("done") == ["photo-2.png", "photo.png", "renamed.png", "renamed.png.duplicate.txt"]
    assert len(setup.journal_rows()) == 1


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_watching_takes_new_images_until_stopped(setup: Setup, polling: bool) -> None:
    setup.backend.delay = 0.05

    async def main() -> int:
        stop, watching = asyncio.Event(), asyncio.Event()
        events: asyncio.Queue[FileEvent] = asyncio.Queue()
        config = setup.config(polling=polling)
        make_observer = observer_factory(polling, SETTLE)

        def observers() -> BaseObserver:
            # Asked for on the event loop, which then starts the observer before it next yields.
            watching.set()
            return make_observer()

        task = _serving(config, stop, backends=setup.backends(), observers=observers, on_event=events.put_nowait)
        await asyncio.wait_for(watching.wait(), 10)
        for index in range(6):
            png(setup.folder / f"new{index}.png", 40 + index)
        (setup.folder / "twin.png").write_bytes((setup.folder / "new0.png").read_bytes())
        finished = 0
        async with asyncio.timeout(10):
            while finished < 7:
                finished += (await events.get()).status in ("done", "duplicate")
        stop.set()
        return await asyncio.wait_for(task, 10)

    assert asyncio.run(main()) == 0
    assert len(setup.backend.jobs) == 6
    outputs = setup.outputs()
    twin = "new0" if "twin.mp4" in outputs else "twin"
    assert outputs == sorted(f"{name}.mp4" for name in {"twin", "new0"} - {twin} | {f"new{i}" for i in range(1, 6)})
    assert f"{twin}.png.duplicate.txt" in setup.listing("done")


WORKER = """\
import asyncio, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from joypix_recipes.run.progress import Progress
from joypix_recipes.watch import WatchConfig, watch
from watch.test_service import QuickBackend

root = Path(sys.argv[1])
once = sys.argv[2] == "once"
polling = sys.argv[3] == "polling"
backend = QuickBackend(delay=0.25, log=root / "finished.log")
config = WatchConfig.from_args(root / "in", root / "hot.yaml", out_dir=root / "out", backend="quick", settle_seconds={settle},
                                polling=polling)
code = asyncio.run(watch(config, once=once, progress_mode="quiet", verbose=False,
                         backends={{"quick": lambda options: backend}}, progress=Progress()))
sys.exit(code)
"""


@pytest.mark.parametrize("observer", ["native", "polling"])
def test_sigkill_mid_batch_then_restart_renders_every_image_exactly_once(setup: Setup, observer: str) -> None:
    script = setup.root / "worker.py"
    script.write_text(WORKER.format(tests=str(TESTS), settle=SETTLE))
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    for index in range(12):
        png(setup.folder / f"batch{index:02d}.png", 100 + index)
    worker = subprocess.Popen([sys.executable, str(script), str(setup.root), "watch", observer], env=environment)
    try:
        wait_until(lambda: len(setup.listing("done")) >= 3, 20, "the watcher did not get going")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    done_before_kill = [name for name in setup.listing("done") if name.endswith(".png")]
    assert len(done_before_kill) < 12, "the kill came too late to test anything"

    rerun = subprocess.run(
        [sys.executable, str(script), str(setup.root), "once", observer], env=environment, timeout=60, check=False
    )
    assert rerun.returncode == 0
    names = [f"batch{index:02d}" for index in range(12)]
    assert setup.listing("done") == [f"{name}.png" for name in names]
    assert setup.outputs() == [f"{name}.mp4" for name in names]
    assert [path.name for path in setup.folder.iterdir() if path.is_file()] == []
    assert setup.listing("failed") == []
    rows = setup.journal_rows()
    assert len(rows) == 12 and {state for _, state in rows} == {"done"}
    assert not [path for path in setup.out.iterdir() if ".partial" in path.name]
    finished = (setup.root / "finished.log").read_text().split()
    # At most the jobs in flight at the kill (concurrency 4) ran twice; the ones moved to done/ never did.
    assert len(finished) <= 12 + 4
    assert sorted(set(finished)) == [f"{name}.png" for name in names]
    assert all(finished.count(name) == 1 for name in done_before_kill)


def test_real_local_backend_renders_a_dropped_photo_to_a_playable_clip(setup: Setup) -> None:
    import av

    write_image(setup.folder / "shop.jpg", (96, 64))
    (setup.folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    config = WatchConfig.from_args(setup.folder, setup.recipe, out_dir=setup.out, settle_seconds=SETTLE)
    code = asyncio.run(watch(config, once=True, progress_mode="quiet", verbose=False, progress=Progress()))
    assert code == 1
    assert setup.listing("done") == ["shop.jpg"]
    assert setup.listing("failed") == ["broken.jpg", "broken.jpg.error.txt"]
    assert "broken.jpg" in (setup.folder / "failed" / "broken.jpg.error.txt").read_text()
    with av.open(str(setup.out / "shop.mp4")) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert stream.codec_context.name == "h264"
    assert (frames[0].width, frames[0].height) == (480, 480)
    assert len(frames) == 24


def test_stop_while_a_job_runs_leaves_the_image_for_the_next_start(setup: Setup) -> None:
    setup.backend.delay = 30.0
    png(setup.folder / "long.png", 7)

    async def main() -> tuple[int, float]:
        stop = asyncio.Event()
        task = _serving(setup.config(), stop, backends=setup.backends())
        await asyncio.wait_for(setup.backend.started.wait(), 10)
        began = time.monotonic()
        stop.set()
        code = await asyncio.wait_for(task, 10)
        return code, time.monotonic() - began

    code, stopping = asyncio.run(main())
    assert code == 0 and stopping < 2.0
    assert (setup.folder / "long.png").exists() and setup.listing("done") == []
    assert setup.journal_rows()[0][1] == "cancelled"
    setup.backend.delay = 0.0
    assert setup.run_once() == 0
    assert setup.listing("done") == ["long.png"] and setup.outputs() == ["long.mp4"]


def test_watch_file_serves_several_flows_with_their_own_recipes_vars_and_outputs(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "people").mkdir()
    (tmp_path / "product.yaml").write_text(
        RECIPE.replace("  fps: 24\n", '  fps: 24\n  output: "{{ vars.brand }}-{{ input.stem }}.mp4"\n')
        + "vars: {brand: generic}\n"
    )
    (tmp_path / "portrait.yaml").write_text(RECIPE)
    (tmp_path / "watch.yaml").write_text(
        "version: 1\nsettle_seconds: 0.2\nflows:\n"
        "  - {folder: shop, recipe: product.yaml, out: clips/shop, patterns: ['*.png'], vars: {brand: Acme}}\n"
        "  - {folder: people, recipe: portrait.yaml, out: clips/people}\n"
    )
    png(tmp_path / "shop" / "mug.png", 1)
    (tmp_path / "shop" / "notes.txt").write_text("not for this flow")
    png(tmp_path / "people" / "anna.png", 2)
    backend = QuickBackend()  # standing in for the recipes' own backend, local
    config = load_watch_file(tmp_path / "watch.yaml")
    code = asyncio.run(
        watch(
            config,
            once=True,
            progress_mode="quiet",
            verbose=False,
            progress=Progress(),
            backends={"local": lambda options: backend},
        )
    )
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "clips" / "shop").glob("*.mp4")) == ["Acme-mug.mp4"]
    assert sorted(p.name for p in (tmp_path / "clips" / "people").glob("*.mp4")) == ["anna.mp4"]
    assert (tmp_path / "shop" / "notes.txt").exists()  # no flow takes it
    assert (tmp_path / "shop" / "done" / "mug.png").exists() and (tmp_path / "people" / "done" / "anna.png").exists()


def _serve_until(setup: Setup, settle: float, done: Callable[[], bool], act: Callable[[], None]) -> int:
    """Watch with the native observer, run ``act`` in a thread, stop once ``done()`` holds (or after 30 s)."""

    async def main() -> int:
        stop = asyncio.Event()
        config = WatchConfig.from_args(
            setup.folder, setup.recipe, out_dir=setup.out, backend="quick", settle_seconds=settle
        )
        task = _serving(config, stop, backends=setup.backends(), observers=observer_factory(False, settle))
        await asyncio.sleep(0.2)
        writer = asyncio.create_task(asyncio.to_thread(act))
        deadline = time.monotonic() + 30
        while not done() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await writer
        stop.set()
        return await asyncio.wait_for(task, 10)

    return asyncio.run(main())


def test_a_writer_pausing_longer_than_the_settle_time_gets_its_file_made_once_from_all_its_bytes(setup: Setup) -> None:
    data = png(setup.root / "source.png", 11)
    target = setup.folder / "slow.png"

    def write_in_two_chunks() -> None:
        with target.open("wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            time.sleep(3.0)  # three times the settle time
            handle.write(data[len(data) // 2 :])

    code = _serve_until(setup, 1.0, lambda: "slow.png" in setup.listing("done"), write_in_two_chunks)

    assert code == 0
    assert setup.listing("failed") == []
    assert (setup.folder / "done" / "slow.png").read_bytes() == data
    assert [job.input.name for job in setup.backend.jobs] == ["slow.png"]
    assert (setup.out / "slow.mp4").read_bytes() == b"MP4" + hashlib.sha256(data).digest()


def test_a_file_in_failed_that_changes_afterwards_goes_back_to_the_queue(setup: Setup) -> None:
    data = png(setup.root / "source.png", 12)
    target = setup.folder / "stalled.png"
    failed = setup.folder / "failed" / "stalled.png"

    def stall_until_failed_then_finish() -> None:
        with target.open("wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
            wait_until(failed.exists, 20, "the half-written file was never moved to failed/")
            handle.write(data[len(data) // 2 :])  # the open file now lives in failed/

    code = _serve_until(setup, 0.1, lambda: "stalled.png" in setup.listing("done"), stall_until_failed_then_finish)

    assert code == 1  # the first, truncated attempt failed
    assert setup.listing("failed") == []
    assert (setup.folder / "done" / "stalled.png").read_bytes() == data
    assert (setup.out / "stalled.mp4").read_bytes() == b"MP4" + hashlib.sha256(data).digest()


def test_a_hot_folder_notifies_the_recipes_targets_of_each_clip(setup: Setup) -> None:
    received = setup.root / "events.jsonl"
    append = "import sys; open(sys.argv[1], 'a', encoding='utf-8').write(sys.stdin.read() + chr(10))"
    setup.recipe.write_text(
        RECIPE + f"notify: {{command: {json.dumps([sys.executable, '-c', append, str(received)])}}}\n"
    )
    png(setup.folder / "good.png", 1)
    (setup.folder / "notes.png").write_bytes(b"this is text, not a picture")
    assert setup.run_once() == 1
    events = [json.loads(line) for line in received.read_text(encoding="utf-8").splitlines()]
    # One event per clip; a watcher never finishes a run, so there is no run event.
    assert sorted((event["event"], Path(event["input"]).name, event["status"]) for event in events) == [
        ("job.finished", "good.png", "done"),
        ("job.finished", "notes.png", "failed"),
    ]
    assert {event["recipe"] for event in events} == {"hot"}
