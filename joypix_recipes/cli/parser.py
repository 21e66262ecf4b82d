"""The whole command line as argparse sees it: one subparser per command, flags shared by several,
and ``--var KEY=VALUE`` pairs read into a mapping."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from joypix_recipes import __version__
from joypix_recipes.backends.registry import BACKENDS
from joypix_recipes.errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; ``args.command`` names the command to run."""
    parser = argparse.ArgumentParser(
        prog="joypix",
        description="Turn still images into short video clips from YAML recipes.",
    )
    parser.add_argument("--version", action="version", version=f"joypix {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = commands.add_parser("validate", help="check recipes; errors as FILE:LINE:COL")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--var", action="append", default=[], metavar="KEY=VALUE", help="a variable --var will give at run time")

    schema = commands.add_parser("schema", help="print the recipe JSON Schema")
    schema.add_argument("--watch-file", action="store_true", help="print the watch-file schema instead")

    init = commands.add_parser("init", help="write a commented starter recipe")
    init.add_argument("name", nargs="?", help="file name (default: recipe.yaml)")

    run = commands.add_parser("run", help="run a recipe over its inputs and variants")
    run.add_argument("recipe", metavar="FILE")
    run.add_argument("--dry-run", action="store_true", help="list the planned jobs and stop")
    run.add_argument("--input", action="append", metavar="PATH", help="replace the recipe's inputs (file, folder or glob); repeatable")
    run.add_argument("--group", action="store_true", help="make one clip of each --input's images (a folder, a glob)")
    run.add_argument("--var", action="append", default=[], metavar="KEY=VALUE", help="override a recipe variable; repeatable")
    run.add_argument("--out", metavar="DIR", help="output folder (default: out/ beside the recipe)")
    run.add_argument("--backend", choices=list(BACKENDS), help="override the recipe's backend")
    run.add_argument("--concurrency", type=int, metavar="N", help="jobs at once (default: per backend)")
    run.add_argument("--force", action="store_true", help="rerun jobs that are already done")
    run.add_argument("--notify", action="append", default=[], metavar="URL", help="POST a JSON event per finished job and per run to URL (signed when JOYPIX_NOTIFY_SECRET is set); repeatable")
    _add_cloud_flags(run)
    _add_farm_flags(run)
    run.add_argument("--detach", action="store_true", help="with --broker: submit the jobs and return")
    _add_output_flags(run)

    credits = commands.add_parser("credits", help="show the cloud credit balance")
    _add_cloud_flags(credits)
    credits.add_argument("--json", action="store_true", help="print JSON")

    status = commands.add_parser("status", help="summarise a cloud session's timeline")
    status.add_argument("session", nargs="?", help="session id (default: the most recent one)")
    _add_cloud_flags(status)

    fetch = commands.add_parser(
        "fetch",
        help="download a cloud render by id (nothing is paid)",
        description="Download a finished cloud render by its id, waiting for it if it is still running. "
        "Nothing is posted or paid: a link that expired is refreshed by polling the render again.",
        epilog="examples:\n  joypix fetch render_1733590000000_ab12cd34\n"
        "  joypix fetch render_1733590000000_ab12cd34 --out clips/launch.mp4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fetch.add_argument("render_id", metavar="RENDER_ID", help="the render's id (joypix status, the journal, or the service)")
    fetch.add_argument("--out", metavar="FILE", help="where to save the MP4 (default: RENDER_ID.mp4 here)")
    _add_cloud_flags(fetch)

    doctor = commands.add_parser("doctor", help="check encoder, HEIC support, token and service")
    _add_cloud_flags(doctor)
    _add_farm_flags(doctor)

    emulator = commands.add_parser("emulator", help="serve a local imitation of the cloud API")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8765)
    emulator.add_argument("--download-port", type=int, default=None, help="port of the download origin (default: port + 1)")
    emulator.add_argument("--turn-latency", type=float, default=0.0, metavar="SECONDS")
    emulator.add_argument("--render-latency", type=float, default=0.0, metavar="SECONDS")
    emulator.add_argument("--credits", type=int, default=100)
    emulator.add_argument("--no-text-ratio", type=float, default=0.3, help="share of turns that reply with no text")
    emulator.add_argument("--export-blocked", action="store_true", help="answer every export with 402")
    emulator.add_argument(
        "--vary", type=int, default=None, metavar="SEED", help="give each session undocumented shapes of its own, drawn from SEED"
    )
    emulator.add_argument(
        "--hold-render-reply", type=float, default=0.0, metavar="SECONDS",
        help="take (and charge) each render POST, then hold its reply this long",
    )
    emulator.add_argument(
        "--expire-first-link", action="store_true", help="sign download links; each render's first link answers 403"
    )
    emulator.add_argument("--stall-turns", type=int, default=0, metavar="N", help="the next N turns stay silent but alive")
    emulator.add_argument("--stall-turn-seconds", type=float, default=30.0, metavar="SECONDS", help="how long a stalled turn stays silent")
    emulator.add_argument(
        "--knob", action="append", default=[], metavar="NAME=VALUE",
        help="set any fault knob (emulator/state.py Knobs), e.g. --knob ingest_delay_s=2; repeatable",
    )

    watch = commands.add_parser("watch", help="run a recipe on every image dropped into a folder")
    watch.add_argument("folder", nargs="?", metavar="DIR")
    watch.add_argument("--recipe", metavar="FILE")
    watch.add_argument("--config", metavar="WATCHFILE", help="a watch file mapping folders to recipes")
    watch.add_argument("--out", metavar="DIR", help="output folder (default: out/ beside the recipe)")
    watch.add_argument("--backend", choices=list(BACKENDS))
    watch.add_argument("--polling", action="store_true", help="poll the folder (network shares)")
    watch.add_argument("--settle", type=float, default=None, metavar="SECONDS", help="how long a file must stay unchanged")
    watch.add_argument("--once", action="store_true", help="process what is there and exit")
    _add_farm_flags(watch)
    _add_output_flags(watch)

    worker = commands.add_parser("worker", help="render jobs from a farm's queue (see docs/cluster.md)")
    _add_farm_flags(worker)
    worker.add_argument("--processes", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    worker.add_argument("--threads", type=int, default=None, metavar="N", help="jobs at once per process (default: one per core)")
    worker.add_argument("--queues", metavar="LIST", help="queues to serve, e.g. local or nemo (default: local,nemo)")
    worker.add_argument(
        "--heartbeat-timeout", type=float, default=None, metavar="SECONDS",
        help="how long a silent worker is taken for alive before its jobs go to another (default: $JOYPIX_HEARTBEAT_TIMEOUT or 60)",
    )
    worker.add_argument("-v", "--verbose", action="store_true", help="log every job")
    return parser


def parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    """``--var KEY=VALUE`` pairs as a mapping; raises UsageError for a pair that is no KEY=VALUE."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise UsageError(f"--var expects KEY=VALUE, got {pair!r}")
        values[name.strip()] = value
    return values


def _add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="JSON Lines on stdout, for machines")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only failures")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail about each job")


def _add_farm_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", metavar="URL", help="send jobs to a render farm: redis://HOST:6379/0 (default: $JOYPIX_BROKER)")
    parser.add_argument("--storage", metavar="URL", help="the farm's shared storage: file:///mnt/share/joypix or s3://bucket/prefix (default: $JOYPIX_STORAGE)")


def _add_cloud_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="cloud API origin (default: $JOYPIX_BASE_URL or the production service)")
    parser.add_argument(
        "--poll-interval",
        type=float,
        help="seconds between render status polls (default: $JOYPIX_POLL_INTERVAL or 30)",
    )
    parser.add_argument("--language", help="session language (default: from the locale)")
