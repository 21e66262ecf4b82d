"""The error boundary around one command, and the exit codes it maps to.

A JoypixError becomes its message and its exit code; Ctrl-C (or SIGTERM, SIGHUP) exits 130; anything unexpected exits 3
with its traceback kept in a private crash log whose path is printed, never shown to the user. Under ``--json`` each
of these is one JSON object on stderr instead: ``{"error", "exit_code"}``, with ``problems`` for a recipe and
``crash_log`` for a bug.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from joypix_recipes import __version__
from joypix_recipes.cli.signals import owned_signals
from joypix_recipes.cli.streams import complain, complain_json
from joypix_recipes.errors import JoypixError, RecipeError

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace], int]
"""A command: the parsed arguments in, the exit code out."""


def run_command(handler: Command, args: argparse.Namespace) -> int:
    """The error boundary around one command: its exit code, whatever it raises.

    The command owns its stop signals whatever it inherited: Ctrl-C, SIGTERM and SIGHUP exit 130.
    """
    as_json = bool(getattr(args, "json", False))
    try:
        with owned_signals():
            return handler(args)
    except KeyboardInterrupt:
        if as_json:
            complain_json("interrupted", EXIT_INTERRUPTED)
        else:
            complain("interrupted")
        return EXIT_INTERRUPTED
    except RecipeError as error:
        problems = [str(problem) for problem in error.problems]
        if as_json:
            complain_json(problems[0] if problems else str(error), error.exit_code, problems=problems)
        else:
            for problem in problems:
                complain(problem)
        return error.exit_code
    except JoypixError as error:
        if as_json:
            complain_json(str(error), error.exit_code)
        else:
            complain(f"error: {error}")
        return error.exit_code
    except Exception:  # noqa: BLE001 - the boundary: any bug becomes exit 3 without a traceback
        _report_bug(debug=bool(args.debug or os.environ.get("JOYPIX_DEBUG")), as_json=as_json)
        return EXIT_BUG


def _report_bug(*, debug: bool, as_json: bool) -> None:
    """Say that the exception being handled is a bug: its traceback with --debug, else where its crash log is."""
    import traceback

    details = traceback.format_exc()
    kind = sys.exc_info()[0]
    name = kind.__name__ if kind else "error"
    if debug:
        if as_json:  # asked for: the traceback, still inside the one object a machine reads
            complain_json(f"joypix: internal error ({name}); please report it", EXIT_BUG, traceback=details)
        else:
            traceback.print_exc()
        return
    crash_log = _write_crash_log(details)
    where = f"the details are in {crash_log}" if crash_log else "rerun with --debug to see the details"
    message = f"joypix: internal error ({name}); {where}; please report it"
    if as_json:
        complain_json(message, EXIT_BUG, crash_log=str(crash_log) if crash_log else None)
    else:
        complain(message)


def _write_crash_log(details: str) -> Path | None:
    """Keep a bug's traceback in the state folder's ``crashes`` (``~/.local/state/joypix/crashes`` on Linux,
    JOYPIX_HOME/crashes when that is set), redacted and private; None if nowhere is writable.

    Rerunning with --debug after a two-hour cloud batch is costly: the first failure must be enough.
    """
    import tempfile
    import time

    from joypix_recipes.api.home import default_state, ensure_home
    from joypix_recipes.redact import redact

    text = redact(f"joypix {__version__}\ncommand: joypix {' '.join(sys.argv[1:])}\n\n{details}")
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"

    def state_crashes() -> Path:
        return ensure_home(default_state()) / "crashes"

    def temporary() -> Path:
        return Path(tempfile.gettempdir())

    for folder in (state_crashes, temporary):
        try:
            target = folder()
            target.mkdir(mode=0o700, exist_ok=True)
            handle = os.open(target / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(handle, "w", encoding="utf-8") as log:
                log.write(text)
            return target / name
        except (OSError, JoypixError):
            continue
    return None
