"""`joypix worker` owns its stop signals: started with them ignored or blocked (a script's background job,
nohup, a supervisor's mask), SIGTERM still stops it gracefully (0), Ctrl-C and a hang-up hand jobs back (130)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from helpers.processes import inherit_deaf_signals
from helpers.waiting import wait_until

from cluster.conftest import Farm

EXPECTED = {signal.SIGTERM: 0, signal.SIGINT: 130, signal.SIGHUP: 130}


@pytest.mark.parametrize("stop", list(EXPECTED), ids=[stop.name for stop in EXPECTED])
def test_worker_started_with_stop_signals_ignored_and_blocked_still_stops_on_each(farm: Farm, stop: signal.Signals) -> None:
    log = farm.root / "worker.log"
    with log.open("w") as written:
        worker = subprocess.Popen(
            [sys.executable, "-m", "joypix_recipes", "worker", "--broker", farm.redis.url, "--threads", "1"],
            stdout=written, stderr=subprocess.STDOUT, text=True, env=farm.env, start_new_session=True,
            preexec_fn=inherit_deaf_signals(),
        )
    farm.workers.append(worker)  # the farm kills it if it does not stop
    wait_until(lambda: "worker " in log.read_text(), 30, "the worker never started serving", process=worker)

    worker.send_signal(stop)

    assert worker.wait(30) == EXPECTED[stop], log.read_text()
    assert "Traceback" not in log.read_text()
