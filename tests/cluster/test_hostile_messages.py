"""Whatever lands on the queue, a real `joypix worker` stays inside its storage, logs one line per bad
message, never retries it, and goes on to do good jobs afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.jobs import make_job
from helpers.waiting import wait_until

from cluster.conftest import Farm, finish, write_batch
from cluster.test_farm import done_lines
from joypix_recipes.cluster.broker import ACTOR_NAME, job_message, make_broker
from joypix_recipes.cluster.settings import ClusterSettings
from joypix_recipes.cluster.storage import Storage
from joypix_recipes.job.actions import Animate
from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.model import hash_file

pytestmark = pytest.mark.timeout(150)

SMALL = ExportSettings(resolution="480p", aspect="1:1", fps=24, quality="low")


def _good_payload(farm: Farm, photo: Path, identity: str) -> dict[str, Any]:
    """A message as a submitter would send it, for a photo staged in the farm's storage."""
    key = Storage(farm.storage_url).stage_input(photo, hash_file(photo))
    job = make_job(photo, [Animate(duration=1)], output=photo.parent / "out" / "evil.mp4", export=SMALL)
    return {
        "identity": identity, "submission": "s1", "job": job.to_dict(), "input_key": key,
        "storage_url": farm.storage_url, "input_hash": hash_file(photo),
    }


def _hostile_payloads(farm: Farm, photo: Path) -> list[object]:
    good = _good_payload(farm, photo, "0" * 32)
    renamed = json.loads(json.dumps(good))
    renamed["job"]["output"] = str(photo.parent / "..")
    input_named = json.loads(json.dumps(good))
    input_named["job"]["input"]["name"] = "../../../evil.jpg"
    grouped = json.loads(json.dumps(good))
    grouped["job"]["input"]["images"] = [str(photo)]
    return [
        {**good, "identity": "../../escaped"},
        {**good, "identity": "../../escaped", "input_key": "inputs/../../../../../../../../etc/passwd"},
        {**good, "input_key": "/etc/passwd"},
        {**good, "attachment_keys": {"/music/bed.wav": "inputs/../../../etc/passwd"}},
        {**grouped, "input_key": None, "image_keys": ["inputs/../../../etc/passwd"]},
        renamed,
        input_named,
        {**good, "input_key": None},  # a local file path and no key: the worker's own /path would be read
        {key: value for key, value in good.items() if key != "identity"},
        {**good, "identity": 5},
        {**good, "job": "not a job"},
        {**good, "job": {"input": {}}},
        {**good, "image_keys": "inputs/x"},
        "just a string",
    ]


def test_hostile_and_garbage_messages_are_dropped_in_one_line_each_and_good_jobs_still_run(
    farm: Farm, tmp_path: Path
) -> None:
    recipe = write_batch(tmp_path / "batch", count=1)
    photo = next((tmp_path / "batch" / "photos").glob("*.jpg"))
    broker = make_broker(ClusterSettings(farm.redis.url))
    payloads = _hostile_payloads(farm, photo)
    for payload in payloads:
        broker.enqueue(job_message("local", payload))  # type: ignore[arg-type]
    broker.enqueue(job_message("local", {}).copy(args=()))
    broker.enqueue(job_message("local", {}).copy(args=("a", "b"), kwargs={"x": 1}))
    broker.enqueue(job_message("local", {}).copy(actor_name="someone_else"))
    client = farm.redis.client()
    raw = {"raw-undecodable": b"\xff\xfe not json", "raw-json-list": b"[1, 2]", "raw-other-queue": json.dumps(
        {"queue_name": "nemo", "actor_name": ACTOR_NAME, "args": [{}], "kwargs": {}, "options": {}}
    ).encode()}
    for message_id, body in raw.items():
        client.hset("joypix:local.msgs", message_id, body)
        client.rpush("joypix:local", message_id)
    broker.close()
    bad = len(payloads) + 3 + len(raw)

    worker = farm.worker()
    wait_until(lambda: not client.llen("joypix:local") and not client.hlen("joypix:local.msgs"), 60, "bad messages stayed")
    code, events, stderr = finish(farm.run(recipe, tmp_path / "out"))

    assert code == 0, stderr
    assert [Path(event["output"]).name for event in events if event["event"] == "job_done"] == ["p0.mp4"]
    assert worker.poll() is None
    log = (farm.root / "worker0.log").read_text()
    assert "Traceback" not in log, log
    dropped = [line for line in log.splitlines() if "dropping" in line]
    assert len(dropped) == bad, log
    assert all("not a job" in line or "is not" in line or "has no" in line or "are not" in line for line in dropped)
    assert len(done_lines(farm)) == 1
    assert list(tmp_path.rglob("evil*")) == [] and list(tmp_path.rglob("escaped")) == []
    assert sorted(path.name for path in (farm.storage / "outputs").rglob("*") if path.is_file()) == ["p0.jpg", "p0.mp4"]
    assert not any(b"root:" in path.read_bytes() for path in farm.storage.rglob("*") if path.is_file())
    assert not client.keys("joypix:job:*escaped*") and not client.llen("joypix:local.XQ")
