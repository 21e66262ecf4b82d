"""Fixtures for emulator tests: its knobs (the running emulator is the suite's), an authorised client, a short WAV, an SSE reader."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from joypix_recipes import __version__
from joypix_recipes.emulator import Emulator, Knobs

SKILL_HEADERS = {
    "X-Skill-Source": "image-to-video-joypix",
    "X-Skill-Version": __version__,
    "X-Skill-Platform": "unknown",
}


@pytest.fixture
def knobs() -> Knobs:
    """Fast knobs: no latency, every turn speaks (tests that want silence say so)."""
    return Knobs(no_text_ratio=0.0, heartbeat_interval=0.05)


@dataclass
class Client:
    """A thin test client: attribution headers on every call, a token once issued."""

    http: httpx.Client
    token: str | None = None
    session_id: str | None = None
    uploads: list[dict[str, Any]] = field(default_factory=list)

    def headers(self, auth: bool = True) -> dict[str, str]:
        headers = dict(SKILL_HEADERS)
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        extra = kwargs.pop("headers", {})
        return self.http.request(method, path, headers={**self.headers(auth), **extra}, **kwargs)

    def login(self, client_id: str = "client-1") -> str:
        reply = self.call("POST", "/api/auth/anonymous-token", auth=False, headers={"X-Client-Id": client_id})
        self.token = reply.json()["data"]["token"]
        return self.token

    def new_session(self) -> str:
        reply = self.call("POST", "/api/tasks/me/with-session/nemo_agent", json={"task_name": "project", "language": "en"})
        self.session_id = reply.json()["data"]["session_id"]
        return self.session_id

    def upload(self, name: str, data: bytes) -> httpx.Response:
        reply = self.call("POST", f"/api/upload-video/nemo_agent/me/{self.session_id}", files={"file": (name, data)})
        if reply.json()["code"] == 0:
            self.uploads.append(reply.json()["data"])
        return reply

    def state(self) -> dict[str, Any]:
        reply = self.call("GET", f"/api/state/nemo_agent/me/{self.session_id}/latest")
        body: dict[str, Any] = reply.json()
        return body

    def turn_request(self, text: str, session_id: str | None = None) -> dict[str, Any]:
        return {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": session_id or self.session_id,
            "new_message": {"role": "user", "parts": [{"text": text}]},
            "streaming": True,
        }

    def turn(self, text: str) -> SseTurn:
        """Run one turn to the end and parse its frames with a plain line reader."""
        headers = {**self.headers(), "Accept": "text/event-stream"}
        with self.http.stream("POST", "/run_sse", json=self.turn_request(text), headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            return parse_sse(response.iter_lines())


@dataclass
class SseTurn:
    """What a plain line reader saw in a turn's body."""

    events: list[dict[str, Any]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    empty_data: int = 0
    other_lines: list[str] = field(default_factory=list)

    def texts(self, partial: bool) -> list[str]:
        return [
            part["text"]
            for event in self.events
            if "content" in event and event.get("partial") is partial
            for part in event["content"]["parts"]
            if "text" in part
        ]

    def parts(self, key: str) -> list[dict[str, Any]]:
        return [part[key] for event in self.events if "content" in event for part in event["content"]["parts"] if key in part]


def parse_sse(lines: Iterator[str]) -> SseTurn:
    """Split a body into frames at blank lines; each frame must be one data line or one comment."""
    turn = SseTurn()
    for line in lines:
        if line == "":
            continue
        if line.startswith(":"):
            turn.comments.append(line[1:].strip())
        elif line.startswith("data:"):
            payload = line[5:].strip()
            if payload:
                turn.events.append(json.loads(payload))
            else:
                turn.empty_data += 1
        else:
            turn.other_lines.append(line)
    return turn


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Client]:
    """A logged-in client with one session."""
    with httpx.Client(base_url=emulator.base_url, timeout=10.0, trust_env=False) as http:
        test_client = Client(http)
        test_client.login()
        test_client.new_session()
        yield test_client


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A short silent mono WAV."""
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()
