"""What the command prints and where: lines for people and JSON for machines on stdout, messages and
log lines on stderr (tokens redacted), and standard streams whose reader may go away without stopping the work.

The commands print only through ``say``, ``say_json`` and ``complain`` (``complain_json`` under ``--json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from joypix_recipes.printable import printable

_LOG_HANDLER = "joypix-cli"


def say(text: str = "") -> None:
    """A line of the command's result on stdout, names' control characters escaped."""
    print(printable(text, keep_lines=True), flush=True)


def say_json(data: Any) -> None:
    """One JSON Lines record on stdout."""
    print(json.dumps(data, ensure_ascii=False), flush=True)  # JSON escapes what it must; more would corrupt it


def complain_json(message: str, exit_code: int, problems: Sequence[str] = (), **details: str | None) -> None:
    """An error for machines (``--json``): one JSON object on stderr, secrets redacted; a recipe's
    every problem under ``problems``, and any other ``details`` (a crash log's path) under their names."""
    from joypix_recipes.redact import redact

    record: dict[str, Any] = {"error": redact(message), "exit_code": exit_code}
    if problems:
        record["problems"] = [redact(problem) for problem in problems]
    record.update({name: redact(value) for name, value in details.items() if value is not None})
    print(json.dumps(record, ensure_ascii=False), file=sys.stderr, flush=True)


def complain(text: str) -> None:
    """A message for people on stderr: secrets redacted, names' control characters escaped."""
    from joypix_recipes.redact import redact

    print(printable(redact(text), keep_lines=True), file=sys.stderr, flush=True)


class _ReaderMayLeave:
    """A standard stream whose reader may go away (``| head``, a full disk): output stops, the work goes on.

    Output is a view of the work: a run whose stdout closes still finishes its jobs and its journal.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return int(self._stream.write(text))
            except OSError:
                self._leave()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except OSError:
                self._leave()

    def _leave(self) -> None:
        self.gone = True
        # Python flushes the stream again at exit; pointed at /dev/null, that flush has nowhere to fail.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def forgiving_standard_streams() -> Iterator[None]:
    """stdout and stderr that stop quietly when their reader leaves, for the span of one command."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ReaderMayLeave(sys.stdout), _ReaderMayLeave(sys.stderr)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        sys.stdout, sys.stderr = saved


class _CurrentStderr:
    """Writes to whatever sys.stderr is now (it may be swapped after logging is set up)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(args: argparse.Namespace) -> None:
    """Log lines go to stderr, tokens redacted; the hot folder's file events are shown by default."""
    import logging

    from joypix_recipes.redact import TokenRedactingFilter

    root = logging.getLogger()
    if not any(h.get_name() == _LOG_HANDLER for h in root.handlers):  # main() may run more than once
        handler = logging.StreamHandler(_CurrentStderr())
        handler.set_name(_LOG_HANDLER)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.addFilter(TokenRedactingFilter())
        root.addHandler(handler)
    verbosity = int(getattr(args, "verbose", 0) or 0)  # -v shows each job's detail, -vv debug logging too
    debugging = args.debug or verbosity >= 2
    root.setLevel(logging.DEBUG if debugging else logging.INFO if verbosity else logging.WARNING)
    if args.command == "watch" and not getattr(args, "quiet", False) and not getattr(args, "json", False):
        logging.getLogger("joypix_recipes.watch").setLevel(logging.INFO)
    if args.command == "worker":
        logging.getLogger("joypix_recipes.cluster").setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "aiohttp", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(root.level, logging.WARNING))
