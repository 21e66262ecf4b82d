"""The farm over S3-compatible storage: moto's standalone server on 127.0.0.1 stands in for S3 (or MinIO, Ceph)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.waiting import wait_until

from cluster.conftest import Farm, finish, free_port, write_batch
from joypix_recipes.emulator import Emulator

pytestmark = pytest.mark.timeout(150)

TWO_VARIANTS = """\
version: 1
name: farm-s3
inputs: ["photos/*.jpg"]
steps:
  - animate: {motion: zoom-in, duration: 1}
export: {resolution: 480p, fps: 24, quality: low}
variants:
  - name: square
    export: {aspect: "1:1"}
  - name: tall
    export: {aspect: "4:5"}
"""


@pytest.fixture
def s3(farm: Farm) -> Iterator[dict[str, str]]:
    """A moto server with an empty bucket ``farm``; returns the environment that points clients at it."""
    pytest.importorskip("s3fs")
    server = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    port = free_port()
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        wait_until(lambda: _bucket(env) is not None, 30, "moto_server did not start")
        farm.env = {**farm.env, **env}
        yield env
    finally:
        process.terminate()
        process.wait(10)


def _bucket(env: dict[str, str]) -> Any:
    import boto3
    import botocore.exceptions

    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    try:
        client.create_bucket(Bucket="farm")
    except botocore.exceptions.EndpointConnectionError:
        return None
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return client


def test_jobs_travel_through_s3_and_each_photo_is_uploaded_once(farm: Farm, s3: dict[str, str], tmp_path: Path) -> None:
    recipe = write_batch(tmp_path / "batch", count=2, recipe=TWO_VARIANTS)
    farm.worker("--storage", "s3://farm/jobs")
    process = subprocess.Popen(
        [sys.executable, "-m", "joypix_recipes", "run", str(recipe), "--out", str(tmp_path / "out"), "--json",
         "--broker", farm.redis.url, "--storage", "s3://farm/jobs"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=farm.env,
    )
    code, events, stderr = finish(process)
    assert code == 0, stderr
    assert {Path(event["output"]).name for event in events if event["event"] == "job_done"} == {
        "p0-square.mp4", "p0-tall.mp4", "p1-square.mp4", "p1-tall.mp4"
    }
    keys = [item["Key"] for item in _bucket(s3).list_objects_v2(Bucket="farm")["Contents"]]
    assert len([key for key in keys if key.startswith("jobs/inputs/")]) == 2
    assert len([key for key in keys if key.startswith("jobs/outputs/") and key.endswith(".mp4")]) == 4
    assert not [key for key in keys if ".partial" in key]


def test_doctor_checks_the_broker_and_the_storage(farm: Farm, s3: dict[str, str], emulator: Emulator) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "doctor", "--broker", farm.redis.url, "--storage", "s3://farm/jobs",
         "--base-url", emulator.base_url],
        env=farm.env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines() if line.startswith(("broker", "storage")))
    assert rows["broker"].strip().endswith("ms)") and "answers" in rows["broker"]
    assert rows["storage"].strip() == "s3://farm/jobs: writable"

    missing = subprocess.run(
        [sys.executable, "-m", "joypix_recipes", "doctor", "--broker", f"redis://127.0.0.1:{free_port()}/0",
         "--storage", "s3://no-such-bucket/jobs", "--base-url", "http://127.0.0.1:9"],
        env=farm.env, capture_output=True, text=True, timeout=60,
    )
    assert missing.returncode == 1, missing.stderr
    assert "cannot reach the broker" in missing.stdout
    assert "cannot write" in missing.stdout and "no-such-bucket" in missing.stdout
