"""The `joypix` command: argument parsing, one small function per command, and the error boundary.

This is the only module that prints results and errors. Heavy modules are imported inside the
commands that need them, so `joypix validate` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from joypix_recipes import __version__
from joypix_recipes.errors import JoypixError, RecipeError, UsageError
from joypix_recipes.printable import printable

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace], int]
_LOG_HANDLER = "joypix-cli"


def _print(text: str = "") -> None:
    print(printable(text, keep_lines=True), flush=True)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)  # JSON escapes what it must; more would corrupt it


def _error(text: str) -> None:
    """A message for people on stderr: secrets redacted, names' control characters escaped."""
    from joypix_recipes.redact import redact

    print(printable(redact(text), keep_lines=True), file=sys.stderr, flush=True)


def _parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise UsageError(f"--var expects KEY=VALUE, got {pair!r}")
        values[name.strip()] = value
    return values


def cmd_validate(args: argparse.Namespace) -> int:
    """Check recipes against the schema and the template rules; exit 2 if any is invalid, 1 if table rows cannot run."""
    from joypix_recipes.recipe.batch import load_batch

    promised = _parse_vars(args.var)
    failed = bad_rows = False
    for name in args.files:
        try:
            batch = load_batch(Path(name), var_overrides=promised)
        except RecipeError as error:
            failed = True
            for problem in error.problems:
                _error(str(problem))
            continue
        rows = batch.bad_table_rows()
        for row in rows:
            _error(f"{name}: cannot run {row}")
        bad_rows = bad_rows or bool(rows)
        _print(f"{name}: ok" if not rows else f"{name}: ok, but {len(rows)} table row(s) cannot run")
    return EXIT_USAGE if failed else EXIT_JOB_FAILED if bad_rows else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the recipe JSON Schema (or the watch-file schema)."""
    if args.watch_file:
        from joypix_recipes.watch.config import watch_schema_text

        sys.stdout.write(watch_schema_text())
    else:
        from joypix_recipes.recipe.schema import schema_text

        sys.stdout.write(schema_text())
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    """Write a commented starter recipe that editors can autocomplete from the schema."""
    from joypix_recipes.recipe import init_recipe_text

    name = args.name or "recipe"
    target = Path(name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    if target.exists():
        raise UsageError(f"{target} already exists; choose another name or remove it first")
    target.write_text(init_recipe_text(target.stem), encoding="utf-8")
    _print(f"wrote {target}; edit it, then run: joypix run {target}")
    return EXIT_OK


def _backend_options(args: argparse.Namespace) -> Any:
    from joypix_recipes.backends.contract import BackendOptions

    return BackendOptions(
        base_url=getattr(args, "base_url", None),
        poll_interval=getattr(args, "poll_interval", None),
        language=getattr(args, "language", None),
    )


def _progress_mode(args: argparse.Namespace) -> str:
    if args.json:
        return "json"
    if args.quiet:
        return "quiet"
    return "auto"


def cmd_run(args: argparse.Namespace) -> int:
    """Plan a recipe's jobs and run them (or list them with --dry-run)."""
    from joypix_recipes.recipe.batch import load_batch

    if args.group and not args.input:
        raise UsageError("--group makes one clip of each --input; give it --input FOLDER (or a glob)")
    recipe_path = Path(args.recipe)
    batch = load_batch(recipe_path, inputs=args.input, var_overrides=_parse_vars(args.var))
    for unused in batch.unused_vars():
        hint = f"did you mean {unused.closest}?" if unused.closest else f"its variables are: {', '.join(unused.used) or 'none'}"
        _error(f"warning: --var {unused.name} is not used by {recipe_path.name}; {hint}")
    out_dir = Path(args.out).resolve() if args.out else recipe_path.resolve().parent / "out"
    plan = batch.plan(out_dir=out_dir, backend=args.backend, group=args.group)
    jobs, rejected, recipe = plan.jobs, plan.rejected, batch.recipe
    for warning in plan.warnings:
        _error(f"warning: {warning}")
    for reason in rejected:
        _error(f"failed   {reason}")
    if args.dry_run:
        _print_plan(jobs, as_json=args.json)
        return EXIT_JOB_FAILED if rejected else EXIT_OK
    if not jobs:
        if rejected:
            return EXIT_JOB_FAILED
        _error(f"{recipe_path}: no inputs to run; add `inputs:` to the recipe or pass --input PATH")
        return EXIT_USAGE
    notify = _notify_settings(args.notify, recipe.notify_urls, recipe.notify_commands)
    farm = _farm_settings(args)
    if farm is not None:
        return _run_on_farm(args, farm, jobs, out_dir, recipe.name, notify)
    from joypix_recipes.run.session import run_jobs

    summary = _run_until_interrupted(
        run_jobs(
            jobs,
            backend_name=jobs[0].backend,
            options=_backend_options(args),
            out_dir=out_dir,
            recipe_name=recipe.name,
            concurrency=args.concurrency,
            force=args.force,
            progress_mode=_progress_mode(args),
            verbose=args.verbose,
            notify=notify,
        )
    )
    return max(int(summary.exit_code), EXIT_JOB_FAILED if rejected else EXIT_OK)


def _notify_settings(urls: Sequence[str], recipe_urls: Sequence[str], commands: Sequence[Sequence[str]]) -> Any:
    """Where `joypix run` sends its events: --notify URLs, then the recipe's own targets; None for nowhere."""
    from joypix_recipes.run.notify import notify_settings

    for url in urls:
        if not url.lower().startswith(("http://", "https://")):
            raise UsageError(f"--notify needs an http:// or https:// URL, not '{url}'")
    return notify_settings((*urls, *recipe_urls), commands)


def _farm_settings(args: argparse.Namespace) -> Any:
    """The farm's settings from --broker/--storage or JOYPIX_BROKER/JOYPIX_STORAGE; None runs locally."""
    if not getattr(args, "broker", None) and not os.environ.get("JOYPIX_BROKER"):
        return None  # the common case imports nothing of the farm
    from joypix_recipes.cluster.settings import resolve_settings

    return resolve_settings(args.broker, args.storage)


def _run_on_farm(
    args: argparse.Namespace, farm: Any, jobs: Sequence[Any], out_dir: Path, recipe_name: str, notify: Any
) -> int:
    """`joypix run --broker`: submit and follow (or only submit, with --detach); the follower notifies."""
    from joypix_recipes.cluster.farm import run_on_farm, submit_to_farm

    if args.detach:
        if notify is not None:
            _error("warning: --detach only submits, so nothing is notified; the run that follows the jobs notifies")
        submission = _run_until_interrupted(
            submit_to_farm(jobs, farm, options=_backend_options(args), force=args.force)
        )
        _print(
            f"submitted {submission.enqueued} job{'s' if submission.enqueued != 1 else ''} to {farm.public_broker}"
            f" ({submission.attached} already there); rerun without --detach to follow them and collect the outputs"
        )
        return EXIT_OK
    summary = _run_until_interrupted(
        run_on_farm(
            jobs,
            farm,
            options=_backend_options(args),
            out_dir=out_dir,
            recipe_name=recipe_name,
            force=args.force,
            progress_mode=_progress_mode(args),
            verbose=args.verbose,
            notify=notify,
        )
    )
    return int(summary.exit_code)


def cmd_worker(args: argparse.Namespace) -> int:
    """Serve jobs from the farm's queues until SIGTERM (finish local renders) or Ctrl-C (hand jobs back)."""
    from joypix_recipes.cluster.serve import parse_queues, run_workers
    from joypix_recipes.cluster.settings import resolve_settings

    farm = resolve_settings(args.broker, args.storage, args.heartbeat_timeout)
    if farm is None:
        raise UsageError("joypix worker needs --broker redis://HOST:6379/0 (or $JOYPIX_BROKER)")
    return run_workers(farm, processes=args.processes, threads=args.threads, queues=parse_queues(args.queues), verbose=args.verbose)


def _print_plan(jobs: Sequence[Any], *, as_json: bool) -> None:
    from joypix_recipes.job.export import fps_label

    for job in jobs:
        if as_json:
            _print_json(job.to_dict())
            continue
        _print(f"{job.label} -> {job.output}")
        if job.input.images:
            names = ", ".join(image.name for image in job.input.images)
            _print(f"  images ({len(job.input.images)}): {names}")
        for step in job.steps:
            body = json.dumps(next(iter(_step_body(step).values())), ensure_ascii=False)
            _print(f"  {step.name}: {body}")
        export = job.export
        width, height = export.size
        _print(
            f"  export: {export.format} {export.quality} {export.aspect} {export.resolution}"
            f" ({width}x{height}) {fps_label(export.fps)} fps, backend {job.backend}"
        )
    if not as_json:
        _print(f"{len(jobs)} job{'s' if len(jobs) != 1 else ''} planned")


def _step_body(step: Any) -> dict[str, Any]:
    body = step.to_dict()
    body.pop("name", None)
    return dict(body)


def _run_until_interrupted(coroutine: Any) -> Any:
    """Run on a fresh loop; SIGTERM and SIGHUP (a closed terminal) behave like Ctrl-C, so runs stop cleanly."""
    import asyncio  # here, not at the top: `joypix validate` should not pay for it

    def _terminate(signum: int, frame: Any) -> None:
        # asyncio.run answers SIGINT by cancelling the main task, letting it clean up, then raising
        # KeyboardInterrupt; raising that here instead would cut through cleanup at any line.
        signal.raise_signal(signal.SIGINT)

    stopping = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {signum: signal.signal(signum, _terminate) for signum in stopping}
    try:
        return asyncio.run(coroutine)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def cmd_credits(args: argparse.Namespace) -> int:
    """Show the cloud account's credit balance."""
    from joypix_recipes.backends.account import fetch_credits

    balance = _run_until_interrupted(fetch_credits(_backend_options(args)))
    if args.json:
        _print_json(balance)
    else:
        _print(
            f"credits: {balance.get('available', 0)} available, {balance.get('frozen', 0)} frozen,"
            f" {balance.get('total', 0)} total"
        )
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Summarise a cloud session's timeline."""
    from joypix_recipes.backends.account import fetch_status

    _print(_run_until_interrupted(fetch_status(_backend_options(args), args.session)))
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """Report what this installation can do: encoder, HEIC, token source, service reachability."""
    from joypix_recipes.cli.doctor import collect_doctor_report

    lines = _run_until_interrupted(collect_doctor_report(_backend_options(args), farm=_farm_settings(args)))
    width = max((len(name) for name, _ in lines), default=0)
    for name, value in lines:
        _print(f"{name.ljust(width)}  {value}")
    return EXIT_OK


def cmd_emulator(args: argparse.Namespace) -> int:
    """Serve a local imitation of the cloud API, for tests and credit-free tries."""
    from joypix_recipes.emulator.server import serve
    from joypix_recipes.emulator.state import Knobs

    knobs = Knobs(
        turn_latency=args.turn_latency,
        render_latency=args.render_latency,
        credits=args.credits,
        no_text_ratio=args.no_text_ratio,
        export_blocked=args.export_blocked,
        vary=args.vary,
    )

    def _ready(base_url: str, download_url: str) -> None:
        _print(f"emulator listening on {base_url} (downloads from {download_url}); Ctrl-C stops it")
        _print(f"try: joypix run RECIPE --backend nemo --base-url {base_url}")

    try:
        serve(args.host, args.port, knobs, download_port=args.download_port, on_ready=_ready)
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    """Run a recipe on every image that lands in a folder, exactly once."""
    from joypix_recipes.watch import WatchConfig, load_watch_file, watch

    if args.config:
        if args.folder or args.recipe:
            raise UsageError("give either a watch file (--config) or FOLDER with --recipe, not both")
        config = load_watch_file(Path(args.config))
    else:
        if not args.folder or not args.recipe:
            raise UsageError("joypix watch needs FOLDER and --recipe FILE (or --config WATCHFILE)")
        config = WatchConfig.from_args(
            folder=Path(args.folder),
            recipe=Path(args.recipe),
            out_dir=Path(args.out) if args.out else None,
            backend=args.backend,
            polling=args.polling,
            settle_seconds=args.settle,
        )
    if args.polling:
        config = config.with_polling()
    extra: dict[str, Any] = {}
    farm = _farm_settings(args)
    if farm is not None:
        from joypix_recipes.backends.registry import BACKENDS
        from joypix_recipes.cluster.broker import check_broker
        from joypix_recipes.cluster.farm import farm_backends

        check_broker(farm)  # a watcher that cannot submit should say so now, not at the first image
        extra["backends"] = farm_backends(farm, list(BACKENDS))
    code = _run_until_interrupted(
        watch(config, once=args.once, progress_mode=_progress_mode(args), verbose=args.verbose, **extra)
    )
    return int(code)


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


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, one subparser per command."""
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
    validate.set_defaults(handler=cmd_validate)

    schema = commands.add_parser("schema", help="print the recipe JSON Schema")
    schema.add_argument("--watch-file", action="store_true", help="print the watch-file schema instead")
    schema.set_defaults(handler=cmd_schema)

    init = commands.add_parser("init", help="write a commented starter recipe")
    init.add_argument("name", nargs="?", help="file name (default: recipe.yaml)")
    init.set_defaults(handler=cmd_init)

    run = commands.add_parser("run", help="run a recipe over its inputs and variants")
    run.add_argument("recipe", metavar="FILE")
    run.add_argument("--dry-run", action="store_true", help="list the planned jobs and stop")
    run.add_argument("--input", action="append", metavar="PATH", help="replace the recipe's inputs (file, folder or glob); repeatable")
    run.add_argument("--group", action="store_true", help="make one clip of each --input's images (a folder, a glob)")
    run.add_argument("--var", action="append", default=[], metavar="KEY=VALUE", help="override a recipe variable; repeatable")
    run.add_argument("--out", metavar="DIR", help="output folder (default: out/ beside the recipe)")
    run.add_argument("--backend", choices=["local", "nemo"], help="override the recipe's backend")
    run.add_argument("--concurrency", type=int, metavar="N", help="jobs at once (default: per backend)")
    run.add_argument("--force", action="store_true", help="rerun jobs that are already done")
    run.add_argument("--notify", action="append", default=[], metavar="URL", help="POST a JSON event per finished job and per run to URL (signed when JOYPIX_NOTIFY_SECRET is set); repeatable")
    _add_cloud_flags(run)
    _add_farm_flags(run)
    run.add_argument("--detach", action="store_true", help="with --broker: submit the jobs and return")
    _add_output_flags(run)
    run.set_defaults(handler=cmd_run)

    credits = commands.add_parser("credits", help="show the cloud credit balance")
    _add_cloud_flags(credits)
    credits.add_argument("--json", action="store_true", help="print JSON")
    credits.set_defaults(handler=cmd_credits)

    status = commands.add_parser("status", help="summarise a cloud session's timeline")
    status.add_argument("session", nargs="?", help="session id (default: the most recent one)")
    _add_cloud_flags(status)
    status.set_defaults(handler=cmd_status)

    doctor = commands.add_parser("doctor", help="check encoder, HEIC support, token and service")
    _add_cloud_flags(doctor)
    _add_farm_flags(doctor)
    doctor.set_defaults(handler=cmd_doctor)

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
    emulator.set_defaults(handler=cmd_emulator)

    watch = commands.add_parser("watch", help="run a recipe on every image dropped into a folder")
    watch.add_argument("folder", nargs="?", metavar="DIR")
    watch.add_argument("--recipe", metavar="FILE")
    watch.add_argument("--config", metavar="WATCHFILE", help="a watch file mapping folders to recipes")
    watch.add_argument("--out", metavar="DIR", help="output folder (default: out/ beside the recipe)")
    watch.add_argument("--backend", choices=["local", "nemo"])
    watch.add_argument("--polling", action="store_true", help="poll the folder (network shares)")
    watch.add_argument("--settle", type=float, default=None, metavar="SECONDS", help="how long a file must stay unchanged")
    watch.add_argument("--once", action="store_true", help="process what is there and exit")
    _add_farm_flags(watch)
    _add_output_flags(watch)
    watch.set_defaults(handler=cmd_watch)

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
    worker.set_defaults(handler=cmd_worker)
    return parser


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
def _forgiving_standard_streams() -> Iterator[None]:
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


def _configure_logging(args: argparse.Namespace) -> None:
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
    root.setLevel(logging.DEBUG if args.debug else logging.INFO if getattr(args, "verbose", False) else logging.WARNING)
    if args.command == "watch" and not getattr(args, "quiet", False) and not getattr(args, "json", False):
        logging.getLogger("joypix_recipes.watch").setLevel(logging.INFO)
    if args.command == "worker":
        logging.getLogger("joypix_recipes.cluster").setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(root.level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; the error boundary maps errors to exit codes and never shows a traceback to users."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return EXIT_USAGE
    handler: Command = args.handler
    with _forgiving_standard_streams():
        return run_command(handler, args)


def run_command(handler: Command, args: argparse.Namespace) -> int:
    """The error boundary around one command: its exit code, whatever it raises."""
    if args.command != "validate":  # validate prints its own lines and must start fast
        _configure_logging(args)
    try:
        return handler(args)
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except RecipeError as error:
        for problem in error.problems:
            _error(str(problem))
        return error.exit_code
    except JoypixError as error:
        _error(f"error: {error}")
        return error.exit_code
    except Exception:  # noqa: BLE001 - the boundary: any bug becomes exit 3 without a traceback
        if args.debug or os.environ.get("JOYPIX_DEBUG"):
            traceback.print_exc()
        else:
            kind = sys.exc_info()[0]
            name = kind.__name__ if kind else "error"
            crash_log = _write_crash_log(traceback.format_exc())
            where = f"the details are in {crash_log}" if crash_log else "rerun with --debug to see the details"
            _error(f"joypix: internal error ({name}); {where}; please report it")
        return EXIT_BUG


def _write_crash_log(details: str) -> Path | None:
    """Keep a bug's traceback under JOYPIX_HOME/crashes (redacted, private); None if nowhere is writable.

    Rerunning with --debug after a two-hour cloud batch is costly: the first failure must be enough.
    """
    import tempfile
    import time

    from joypix_recipes.api.home import default_home, ensure_home
    from joypix_recipes.redact import redact

    text = redact(f"joypix {__version__}\ncommand: joypix {' '.join(sys.argv[1:])}\n\n{details}")
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    def home_crashes() -> Path:
        return ensure_home(default_home()) / "crashes"

    def temporary() -> Path:
        return Path(tempfile.gettempdir())

    for folder in (home_crashes, temporary):
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
