"""The studio serves the recipe's own drafts and outputs by their exact names, and no other file: no `..`,
encoded or not, no absolute path, no link out of the output folder, no file it did not make."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.images import write_image
from helpers.waiting import wait_until

from joypix_recipes.studio import Studio

from .conftest import all_ready, write_recipe

SECRET = "the recipe's neighbour, not for the page"


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    folder = tmp_path / "project"
    write_image(folder / "a.jpg", (320, 480))
    (folder / "secret.txt").write_text(SECRET, encoding="utf-8")
    with Studio(write_recipe(folder)) as running:
        wait_until(lambda: all_ready(running), 60, "the drafts were not rendered")
        yield running


def _get(studio: Studio, target: str) -> tuple[int, bytes]:
    """GET ``target`` exactly as written (an HTTP client would tidy its dots away); status and body."""
    request = (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{studio.port}\r\n"
        f"Cookie: joypix_studio_{studio.port}={studio.token}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", studio.port), timeout=10) as connection:
        connection.sendall(request.encode("latin-1"))
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


TRAVERSALS = (
    "/files/../recipe.yaml",
    "/files/../secret.txt",
    "/files/previews/../../secret.txt",
    "/files/%2e%2e/secret.txt",
    "/files/%2E%2E%2Fsecret.txt",
    "/files/previews/%2e%2e/%2e%2e/secret.txt",
    "/files/..%5csecret.txt",
    "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd",
    "/files/previews/./a-plain.mp4",
    "/files/previews//a-plain.mp4",
    "/files/.joypix/lock",
    "/files/previews/.joypix/lock",
    "/static/../recipe.yaml",
    "/static/%2e%2e%2frecipe.yaml",
    "/../secret.txt",
)


def test_the_drafts_are_served_and_no_path_reaches_another_file(studio: Studio) -> None:
    status, body = _get(studio, "/files/previews/a-plain.mp4")
    assert status == 200 and body[4:8] == b"ftyp"
    assert body == (studio.out_dir / "previews" / "a-plain.mp4").read_bytes()
    status, body = _get(studio, "/files/previews/a-plain.jpg")  # its poster, which the card shows before it plays
    assert status == 200 and body[:2] == b"\xff\xd8"
    assert studio.service is not None
    assert studio.service.state.cards["previews/a-plain.mp4"].poster == (
        f"/files/previews/a-plain.jpg?v={studio.service.state.cards['previews/a-plain.mp4'].identity}"
    )
    for target in TRAVERSALS:
        status, body = _get(studio, target)
        assert status in (400, 404), (target, status)
        assert SECRET.encode() not in body and b"root:" not in body and b"version: 1" not in body, target


def test_a_file_it_did_not_make_or_a_link_out_is_not_served_even_in_the_output_folder(studio: Studio) -> None:
    (studio.out_dir / "notes.txt").write_text(SECRET, encoding="utf-8")
    assert _get(studio, "/files/notes.txt")[0] == 404
    report = studio.out_dir / "report.html"
    assert not report.exists()  # no final render yet: the name may be served, but nothing is there
    os.symlink(studio.recipe.parent / "secret.txt", report)
    status, body = _get(studio, "/files/report.html")
    assert status == 404 and SECRET.encode() not in body
    # The same link inside the folder (to a draft) is followed: only leaving the folder is refused.
    report.unlink()
    os.symlink(studio.out_dir / "previews" / "a-plain.mp4", report)
    assert _get(studio, "/files/report.html")[0] == 200
