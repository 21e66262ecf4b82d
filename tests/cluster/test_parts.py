"""The farm's parts on their own: settings from flags and environment, passwords kept out, atomic storage commits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cluster.conftest import RedisServer
from joypix_recipes.cluster.errors import StorageError
from joypix_recipes.cluster.ledger import Ledger, State
from joypix_recipes.cluster.settings import resolve_settings
from joypix_recipes.cluster.storage import Storage, input_key, output_key, temp_path
from joypix_recipes.errors import UsageError


def test_no_broker_anywhere_means_the_embedded_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOYPIX_BROKER", raising=False)
    assert resolve_settings(None) is None


def test_environment_stands_in_for_the_flags_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOYPIX_BROKER", "redis://env-host:6379/0")
    monkeypatch.setenv("JOYPIX_STORAGE", "file:///env/share")
    monkeypatch.setenv("JOYPIX_HEARTBEAT_TIMEOUT", "7")
    from_env = resolve_settings(None)
    assert from_env is not None
    assert (from_env.broker_url, from_env.storage_url, from_env.heartbeat_timeout_s) == (
        "redis://env-host:6379/0", "file:///env/share", 7.0,
    )
    flagged = resolve_settings("redis://flag-host:6379/1", "s3://bucket/prefix", 3.0)
    assert flagged is not None and (flagged.broker_url, flagged.storage_url, flagged.lease_s) == (
        "redis://flag-host:6379/1", "s3://bucket/prefix", 3.0,
    )


def test_a_broker_password_never_reaches_what_is_shown() -> None:
    settings = resolve_settings("redis://user:hunter2-secret@host:6380/0")
    assert settings is not None
    assert settings.public_broker == "redis://<redacted>@host:6380/0"
    with pytest.raises(UsageError) as error:
        resolve_settings("http://:hunter2-secret@host/")
    assert "hunter2-secret" not in str(error.value)


def test_a_bad_heartbeat_timeout_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOYPIX_HEARTBEAT_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="JOYPIX_HEARTBEAT_TIMEOUT"):
        resolve_settings("redis://host:6379/0")


def test_inputs_are_keyed_by_content_and_stored_once(tmp_path: Path) -> None:
    storage = Storage((tmp_path / "share").as_uri())
    photo = tmp_path / "Photo.JPG"
    photo.write_bytes(b"pixels")
    key = storage.stage_input(photo, "ab" * 32)
    assert key == input_key("ab" * 32, ".JPG") == f"inputs/ab/{'ab' * 32}.jpg"
    first = (tmp_path / "share" / key).stat().st_mtime_ns
    assert storage.stage_input(photo, "ab" * 32) == key
    assert (tmp_path / "share" / key).stat().st_mtime_ns == first


def test_a_failed_commit_leaves_no_file_under_the_final_name_or_a_temp_file(tmp_path: Path) -> None:
    share = tmp_path / "share"
    storage = Storage(share.as_uri())
    output = tmp_path / "clip.mp4"
    output.write_bytes(b"video")
    key = output_key("identity", "clip.mp4")
    (share / key).mkdir(parents=True)  # a folder in the way: the rename must fail
    with pytest.raises(StorageError) as error:
        storage.commit(output, key)
    assert "in the storage" in str(error.value)
    assert [path.name for path in (share / "outputs" / "identity").iterdir()] == ["clip.mp4"]
    assert (share / key).is_dir() and list((share / key).iterdir()) == []


def test_a_commit_publishes_the_whole_file(tmp_path: Path) -> None:
    share = tmp_path / "share"
    output = tmp_path / "clip.mp4"
    output.write_bytes(b"video" * 1000)
    Storage(share.as_uri()).commit(output, output_key("identity", "clip.mp4"))
    assert (share / "outputs" / "identity" / "clip.mp4").read_bytes() == b"video" * 1000
    assert [path.name for path in (share / "outputs" / "identity").iterdir()] == ["clip.mp4"]


def test_temp_names_are_hidden_and_carry_no_media_extension() -> None:
    temp = temp_path("/share/outputs/identity/clip.mp4")
    assert temp.startswith("/share/outputs/identity/.clip.mp4.") and temp.endswith(".partial")


def test_a_start_retried_after_its_reply_was_lost_is_counted_once_and_others_still_wait(redis_server: RedisServer) -> None:
    async def starts() -> list[tuple[str, State | None, str | None]]:
        ledger = Ledger(redis_server.url)
        try:
            await ledger.claim("job1", "submission1")
            outcomes = []
            for token in ("worker-a:1", "worker-a:1", "worker-b:1"):
                outcome, record = await ledger.start("job1", "submission1", token, 30.0, token.split(":")[0])
                outcomes.append((outcome, record.state if record else None, record.get("attempts") if record else None))
            return outcomes
        finally:
            await ledger.aclose()

    assert asyncio.run(starts()) == [
        ("started", State.RUNNING, "1"), ("started", State.RUNNING, "1"), ("leased", None, None),
    ]
    assert redis_server.client().hget("joypix:job:job1", "attempts") == "1"


def test_a_finished_record_expires_after_the_keeping_time_and_only_its_lease_holder_finishes_it(
    redis_server: RedisServer,
) -> None:
    async def finish() -> tuple[bool, bool]:
        ledger = Ledger(redis_server.url)
        try:
            await ledger.claim("job1", "submission1")
            await ledger.start("job1", "submission1", "worker-a:1", 30.0, "worker-a")
            stranger = await ledger.holder_write("job1", "worker-b:1", keep_s=3600.0, state=State.DONE.value)
            holder = await ledger.holder_write("job1", "worker-a:1", keep_s=3600.0, state=State.DONE.value, replies=["ok"])
            return stranger, holder
        finally:
            await ledger.aclose()

    assert asyncio.run(finish()) == (False, True)
    client = redis_server.client()
    assert client.hget("joypix:job:job1", "state") == "done" and client.hget("joypix:job:job1", "replies") == '["ok"]'
    assert 3590 < client.ttl("joypix:job:job1") <= 3600


def test_records_are_kept_thirty_days_unless_the_environment_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOYPIX_KEEP_DAYS", raising=False)
    default = resolve_settings("redis://host:6379/0")
    assert default is not None and default.keep_records_s == 30 * 86_400
    monkeypatch.setenv("JOYPIX_KEEP_DAYS", "0.5")
    half = resolve_settings("redis://host:6379/0")
    assert half is not None and half.keep_records_s == 43_200
    for bad in ("0", "soon"):
        monkeypatch.setenv("JOYPIX_KEEP_DAYS", bad)
        with pytest.raises(UsageError, match="JOYPIX_KEEP_DAYS"):
            resolve_settings("redis://host:6379/0")
