"""``joypix farm status`` and a worker's Prometheus metrics, against a real Redis, worker and emulator."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from helpers.waiting import wait_until

from cluster.conftest import Farm, environment, finish, free_port, write_batch
from cluster.test_faults import CLOUD_RECIPE

pytestmark = pytest.mark.timeout(120)


def status(farm: Farm, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "farm", "status", "--broker", farm.redis.url, *extra],
        env=environment(), capture_output=True, text=True, timeout=60,
    )


def status_json(farm: Farm) -> dict[str, Any]:
    """What ``farm status --json`` prints, read in this process (the command is a thin print of it)."""
    from joypix_recipes.cluster.settings import ClusterSettings
    from joypix_recipes.cluster.status import read_status

    return read_status(ClusterSettings(farm.redis.url)).to_json()


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        return str(answer.read().decode())


def test_status_shows_the_worker_its_job_in_flight_then_what_finished_and_failed_and_metrics_count_them(
    farm: Farm, tmp_path: Path
) -> None:
    from joypix_recipes.emulator import Emulator, Knobs

    port = free_port()
    knobs = Knobs(render_latency=3.0, stub_render=True, no_text_ratio=0.0, heartbeat_interval=0.2)
    cloud = {"JOYPIX_HOME": str(tmp_path / "home"), "JOYPIX_POLL_INTERVAL": "0.1"}
    with Emulator(knobs=knobs, workdir=tmp_path / "emulator") as emulator:
        worker = farm.worker("--metrics-port", str(port), env=cloud)
        submitter = farm.run(write_batch(tmp_path / "a", count=1, recipe=CLOUD_RECIPE), tmp_path / "out", "--base-url",
                             emulator.base_url)
        wait_until(lambda: any(record.get("render_id") for record in farm.records().values()), 60, "no render started")
        # A worker tells what it holds with each heartbeat (a third of the timeout, 0.5 s here): a job that
        # reached its render quickly shows at the next one. The render itself takes 3 s.
        wait_until(lambda: status_json(farm)["in_flight"], 5, "the rendering job never showed in flight")
        running = status_json(farm)
        (seen,) = running["workers"]
        assert (seen["host"], seen["pid"], seen["alive"]) == (socket.gethostname(), worker.pid, True)
        assert seen["heartbeat_age_s"] < 5
        assert running["in_flight"] == list(farm.records()) and seen["jobs"] == running["in_flight"]
        assert {queue["name"]: queue["held"] for queue in running["queues"]} == {"local": 0, "nemo": 1}
        assert 'dramatiq_messages_inprogress{actor_name="joypix_job",queue_name="nemo"} 1.0' in metrics(port)
        assert finish(submitter)[0] == 0

        emulator.state.knobs.export_blocked = True
        code, _, stderr = finish(farm.run(write_batch(tmp_path / "b", count=1, recipe=CLOUD_RECIPE.replace("zoom-in", "zoom-out")),
                                          tmp_path / "out-b", "--base-url", emulator.base_url))
        assert code == 1, stderr
    # Likewise the job it just let go leaves the status at the next heartbeat.
    wait_until(lambda: not status_json(farm)["in_flight"], 5, "the finished job stayed in flight past a heartbeat")
    after = status_json(farm)
    assert (after["done"], after["failed"], after["in_flight"]) == (1, 1, [])
    (failure,) = after["recent_failures"]
    assert failure["job"] == "p0.jpg" and failure["error"] and failure["worker"].endswith(seen["name"].rsplit(":", 1)[-1])
    scraped = metrics(port)
    assert 'dramatiq_messages_total{actor_name="joypix_job",queue_name="nemo"} 2.0' in scraped
    assert 'dramatiq_messages_inprogress{actor_name="joypix_job",queue_name="nemo"} 0.0' in scraped

    printed = status(farm, "--json")
    assert printed.returncode == 0 and json.loads(printed.stdout) == {**after, "workers": json.loads(printed.stdout)["workers"]}
    text = status(farm)
    assert text.returncode == 0, text.stderr
    assert "queue    nemo: 0 ready, 0 delayed, 0 held by workers" in text.stdout
    assert f"pid {worker.pid}: live" in text.stdout and "1 done, 1 failed" in text.stdout
    assert "password" not in text.stdout

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert status_json(farm)["workers"] == []  # a worker that stops cleanly is gone at once


def test_status_without_a_broker_is_a_usage_error_and_an_unreachable_one_one_line() -> None:
    missing = subprocess.run([sys.executable, "-m", "joypix_recipes", "farm", "status"], env=environment(),
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "needs --broker" in missing.stderr
    down = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "farm", "status", "--broker", f"redis://:secret@127.0.0.1:{free_port()}/0"],
        env=environment(), capture_output=True, text=True, timeout=60,
    )
    assert down.returncode == 1 and down.stderr.startswith("error: cannot reach the broker")
    assert len(down.stderr.strip().splitlines()) == 1 and "secret" not in down.stderr
