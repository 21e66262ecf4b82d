"""Uploads: multipart files streamed to disk, URL uploads, type sniffing and the size limit."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.images import image_bytes
from helpers.servers import serving_folder

from joypix_recipes.emulator import Emulator
from joypix_recipes.timeline.draft import Draft

from .conftest import SKILL_HEADERS, Client, wav_bytes


def _stored(emulator: Emulator) -> list[Path]:
    folder = emulator.state.uploads_dir
    return sorted(folder.iterdir()) if folder.exists() else []


def test_image_upload_is_stored_and_becomes_the_first_video_clip(client: Client, emulator: Emulator) -> None:
    data = image_bytes()
    reply = client.upload("beach.png", data)
    info = reply.json()["data"]
    assert reply.json()["code"] == 0
    assert info["name"] == "beach.png" and info["type"] == "image" and info["size"] == len(data)
    assert info["media_id"].startswith("media_")
    (stored,) = _stored(emulator)
    assert stored.read_bytes() == data and stored.suffix == ".png"
    draft = Draft.from_json(client.state()["data"]["draft"])
    assert [(clip.src, clip.label) for clip in draft.video] == [(info["media_id"], "beach.png")]
    assert client.state()["data"]["video_infos"] == [info]
    assert emulator.state.counters.uploads == 1


@pytest.mark.parametrize(
    ("name", "kind", "data"),
    [
        ("shot.jpg", "image", image_bytes(fmt="JPEG")),
        ("shot.webp", "image", image_bytes(fmt="WEBP")),
        ("anim.gif", "image", image_bytes(fmt="GIF")),
        ("tune.wav", "audio", wav_bytes()),
        ("tune.mp3", "audio", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64),
        ("clip.mp4", "video", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64),
        ("clip.mov", "video", b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 64),
        ("photo.heic", "image", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64),
    ],
)
def test_accepted_types_are_recognised_by_name_and_content(client: Client, name: str, kind: str, data: bytes) -> None:
    reply = client.upload(name, data).json()
    assert (reply["code"], reply["data"]["type"]) == (0, kind)


def test_non_image_uploads_do_not_join_the_video_track(client: Client) -> None:
    client.upload("tune.wav", wav_bytes())
    assert client.state()["data"]["draft"]["t"] == []


@pytest.mark.parametrize(
    ("name", "data"),
    [("notes.txt", b"hello"), ("fake.png", b"GIF89a" + b"\x00" * 32), ("noext", image_bytes()), ("x.png", b"")],
)
def test_unsupported_or_mislabelled_files_are_code_4001_and_not_kept(
    client: Client, emulator: Emulator, name: str, data: bytes
) -> None:
    reply = client.upload(name, data).json()
    assert reply["code"] == 4001 and "jpg, png" in reply["message"]
    assert _stored(emulator) == []


def test_upload_over_the_size_limit_is_code_4002_and_leaves_no_file(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.max_upload_bytes = 100_000
    data = image_bytes() + b"\x00" * 150_000
    reply = client.upload("big.png", data).json()
    assert reply["code"] == 4002 and "compress" in reply["message"]
    assert _stored(emulator) == []
    assert client.upload("small.png", image_bytes()).json()["code"] == 0


def test_chunked_upload_is_refused_once_it_passes_the_limit(client: Client, emulator: Emulator) -> None:
    emulator.state.knobs.max_upload_bytes = 100_000
    boundary = "b0undary"
    sent: list[int] = []

    def body() -> Iterator[bytes]:
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n').encode()
        yield image_bytes()
        for _ in range(40):
            sent.append(1)
            yield b"\x00" * 50_000
        yield f"\r\n--{boundary}--\r\n".encode()

    reply = client.call(
        "POST",
        f"/api/upload-video/nemo_agent/me/{client.session_id}",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert reply.json()["code"] == 4002
    assert _stored(emulator) == []


def test_declared_oversize_upload_is_refused_before_its_body_is_sent(client: Client, emulator: Emulator) -> None:
    host, port = emulator.base_url.removeprefix("http://").split(":")
    request = (
        f"POST /api/upload-video/nemo_agent/me/{client.session_id} HTTP/1.1\r\n"
        f"Host: {host}\r\nAuthorization: Bearer {client.token}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in SKILL_HEADERS.items())
        + 
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {300 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(request.encode())  # headers only: 300 MB promised, none sent
        reply = b""
        while b'"code"' not in reply or not reply.rstrip().endswith(b"}"):
            chunk = raw.recv(65536)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"code":4002' in reply.replace(b" ", b"")
    assert _stored(emulator) == []


def test_upload_to_an_unknown_session_is_code_1002(client: Client) -> None:
    client.session_id = "sess_gone"
    assert client.upload("a.png", image_bytes()).json()["code"] == 1002


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    """A plain HTTP server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    with serving_folder(root) as url:
        yield url


def test_url_upload_fetches_the_file_under_the_same_rules(client: Client, emulator: Emulator, file_server: str, tmp_path: Path) -> None:
    data = image_bytes()
    (tmp_path / "www" / "remote.png").write_bytes(data)
    (tmp_path / "www" / "remote.txt").write_bytes(b"text")
    path = f"/api/upload-video/nemo_agent/me/{client.session_id}"
    reply = client.call("POST", path, json={"url": f"{file_server}/remote.png"}).json()
    assert reply["code"] == 0 and reply["data"]["name"] == "remote.png" and reply["data"]["size"] == len(data)
    assert client.call("POST", path, json={"url": f"{file_server}/remote.txt"}).json()["code"] == 4001
    assert client.call("POST", path, json={"url": f"{file_server}/missing.png"}).json()["code"] == 4001
    assert len(_stored(emulator)) == 1
