"""Settings from options, environment and defaults; platform and language detection; GUI wording."""

from __future__ import annotations

from pathlib import Path

import pytest

from joypix_recipes.api import endpoints
from joypix_recipes.api.home import (
    default_home,
    last_session,
    record_session,
    write_private_json,
)
from joypix_recipes.api.settings import (
    RetryPolicy,
    detect_language,
    detect_platform,
    resolve_settings,
)
from joypix_recipes.api.wording import translate_reply
from joypix_recipes.errors import UsageError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JOYPIX_BASE_URL", "JOYPIX_POLL_INTERVAL", "JOYPIX_HOME", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_documented_production_url_and_30_second_polls(tmp_path: Path) -> None:
    settings = resolve_settings(home=tmp_path)
    assert settings.base_url == "https://mega-api-prod.nemovideo.ai"
    assert settings.poll_interval_s == 30.0
    assert settings.stream_read_timeout_s == 15 * 60, "a turn may stay silent for 15 minutes"
    assert settings.turn_deadline_s >= 15 * 60


def test_environment_overrides_defaults_and_options_override_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOYPIX_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("JOYPIX_POLL_INTERVAL", "2.5")
    from_env = resolve_settings(home=tmp_path)
    assert (from_env.base_url, from_env.poll_interval_s) == ("http://127.0.0.1:9", 2.5)
    explicit = resolve_settings(base_url="http://127.0.0.1:10", poll_interval=0.1, home=tmp_path)
    assert (explicit.base_url, explicit.poll_interval_s) == ("http://127.0.0.1:10", 0.1)


def test_bad_poll_interval_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOYPIX_POLL_INTERVAL", "soon")
    with pytest.raises(UsageError, match="JOYPIX_POLL_INTERVAL=soon"):
        resolve_settings()


def test_joypix_home_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JOYPIX_HOME", str(tmp_path / "h"))
    assert default_home() == tmp_path / "h"


def test_platform_is_detected_from_the_install_path() -> None:
    assert detect_platform("/home/u/.clawhub/skills/joypix_recipes") == "clawhub"
    assert detect_platform("/Users/u/.cursor/extensions/joypix_recipes") == "cursor"
    assert detect_platform("/usr/lib/python3/site-packages/joypix_recipes") == "unknown"


def test_language_comes_from_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert detect_language() == "zh"
    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")  # LC_ALL wins over LANG, as in POSIX
    assert detect_language() == "fr"
    monkeypatch.setenv("LC_ALL", "C")  # "C" says nothing about the language: fall through to LANG
    assert detect_language() == "zh"


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(attempts=8, base_delay_s=1.0, max_delay_s=4.0)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)):
        for _ in range(20):
            assert ceiling / 2 <= policy.delay(attempt) <= ceiling


def test_private_files_are_0600_and_the_last_session_is_remembered(tmp_path: Path) -> None:
    write_private_json(tmp_path / "x.json", {"a": 1})
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o600
    record_session(tmp_path, "http://a", "sess_1", "bind_1")
    record_session(tmp_path, "http://b", "sess_2", None)
    assert last_session(tmp_path, "http://a") == "sess_1"
    assert last_session(tmp_path, "http://c") is None


def test_registration_link_carries_the_bind_id() -> None:
    assert endpoints.register_url("bind_42").endswith("?bind=bind_42")
    assert "?" not in endpoints.register_url(None)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Done! Click Export to download your video.", "Done! joypix exports and downloads the video after the last step."),
        ("You can preview in timeline.", "You can see the timeline summary."),
        ("Open the timeline to check it.", "check the session state (joypix status) to check it."),
        ("完成！点击导出。", "完成！joypix exports and downloads the video after the last step。"),
        ("Drag and drop the clip to reorder.", "describe in a step how to move the clip to reorder."),
    ],
)
def test_gui_wording_is_translated_for_a_batch_run(reply: str, expected: str) -> None:
    assert translate_reply(reply) == expected
