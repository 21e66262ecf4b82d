"""Processes a test started and what is left of them: the members of a session, signals set up as a parent would."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path


def session_members(session: int) -> list[int]:
    """The live (not zombie) processes of ``session``: a run's workers, fork server and helpers included."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended while we looked
        state, session_id = fields[0], int(fields[3])
        if session_id == session and state not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def command_lines(pids: list[int]) -> list[str]:
    """What each of ``pids`` runs, for a failure message."""
    lines = []
    for pid in pids:
        try:
            lines.append(f"{pid}: " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return lines


def inherit_deaf_signals() -> Callable[[], None]:
    """A ``preexec_fn`` giving the child what a script's background job under ``nohup`` and a strict
    supervisor would: SIGINT and SIGHUP ignored, SIGTERM blocked."""

    def prepare() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    return prepare
