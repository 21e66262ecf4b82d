"""The whole command line as argparse sees it: one subparser per command, each with a description and
examples, the flags every command shares (accepted before or after the command), and ``--var KEY=VALUE``
pairs read into a mapping."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from joypix_recipes import __version__
from joypix_recipes.backends.registry import BACKENDS
from joypix_recipes.errors import UsageError

GLOBAL_FLAGS = ("verbose", "quiet", "debug", "json")
"""The flags every command takes, before or after its name: ``joypix -v run r.yaml`` is ``joypix run r.yaml -v``."""
_BEFORE = "before_command_"
"""Where the flags given before the command land, until they are merged with those given after it."""


class _JoypixParser(argparse.ArgumentParser):
    """A parser whose errors are one JSON object on stderr when the command line asks for ``--json``."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if self.json_errors:
            from joypix_recipes.redact import redact

            print(json.dumps({"error": redact(f"{self.prog}: {message}"), "exit_code": 2}), file=sys.stderr)
            self.exit(2)
        super().error(message)


class _CommandParser(_JoypixParser):
    """One command's parser: an argument it does not know is its error, shown with its own usage."""

    fill_description = False
    """Whether the description is wrapped at 88 columns when help is shown (textwrap loads only for help)."""

    def format_help(self) -> str:
        if self.fill_description and self.description:
            import textwrap

            self.description = textwrap.fill(self.description, width=88)
            self.fill_description = False
        return super().format_help()

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}{self._suggestion(extras)}")
        return parsed, extras

    def _suggestion(self, extras: Sequence[str]) -> str:
        for word in extras:
            if word.startswith("--"):
                known = {flag[2:]: flag for flag in self._option_string_actions if flag.startswith("--")}
                from difflib import get_close_matches  # only a mistake needs it

                close = get_close_matches(word.partition("=")[0][2:], list(known), n=1, cutoff=0.75)
                if close:
                    return f" (did you mean {known[close[0]]}?)"
        return ""


class _TopParser(_JoypixParser):
    """``joypix``: names a mistyped command's closest match, and merges the flags given on both sides of it."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        asks_json = "--json" in words[: words.index("--")] if "--" in words else "--json" in words
        for parser in (self, *self._commands().values()):
            parser.json_errors = asks_json
        self._check_command(words)
        parsed, extras = super().parse_known_args(words, namespace)
        return merge_global_flags(parsed), extras

    def _commands(self) -> dict[str, _JoypixParser]:
        return {name: sub for name, sub in command_names(self).items() if isinstance(sub, _JoypixParser)}

    def _check_command(self, words: Sequence[str]) -> None:
        """A command name that is none of ours fails here, with the closest one offered."""
        commands = self._commands()
        for word in words:
            if word == "--":
                return
            if word.startswith("-"):
                continue  # the flags before the command take no values
            if word not in commands:
                from difflib import get_close_matches  # only a mistake needs it

                close = get_close_matches(word, list(commands), n=1, cutoff=0.5)
                hint = f"; did you mean '{close[0]}'?" if close else f" (choose from {', '.join(commands)})"
                self.error(f"unknown command '{word}'{hint}")
            return


def merge_global_flags(args: argparse.Namespace) -> argparse.Namespace:
    """The shared flags as one value each, however they were split around the command's name."""
    for name in GLOBAL_FLAGS:
        before = getattr(args, _BEFORE + name, None)
        if hasattr(args, _BEFORE + name):
            delattr(args, _BEFORE + name)
        after = getattr(args, name, None)
        if name == "verbose":
            setattr(args, name, (before or 0) + (after or 0))
        else:
            setattr(args, name, bool(before) or bool(after))
    return args


def _add_global_flags(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    group = parser.add_argument_group("options every command takes (before or after its name)")
    group.add_argument(
        "-v",
        "--verbose",
        dest=prefix + "verbose",
        action="count",
        default=0,
        help="more detail (each job's steps, every log line); -vv also shows debug logging",
    )
    group.add_argument("-q", "--quiet", dest=prefix + "quiet", action="store_true", help="print only failures")
    group.add_argument(
        "--json",
        dest=prefix + "json",
        action="store_true",
        help="output for machines: JSON (Lines) on stdout, and an error as one JSON object on stderr",
    )
    group.add_argument(
        "--debug", dest=prefix + "debug", action="store_true", help="show the traceback of an unexpected error"
    )


_SET_HELP = (
    "override any recipe setting, as in export.resolution=480p or steps[0].text.content=Sale"
    " (the value is YAML, checked like the recipe); repeatable"
)


def _example_names() -> list[str]:
    # Read here rather than from recipe.starter, which would load the recipe model on every command.
    examples = Path(__file__).resolve().parent.parent.parent / "recipes"
    return sorted(path.stem for path in examples.glob("*.yaml")) if examples.is_dir() else []


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def chosen_command(words: Sequence[str]) -> str | None:
    """The command a command line names: its first word that is no flag (the flags before it take no values)."""
    for word in words:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; ``args.command`` names the command to run.

    With ``only`` (a command's name), the other commands are listed with their summaries but get none of
    their arguments: a command line that names ``only`` parses, fails and helps just as with every command
    built, and building them all would cost more than `joypix validate` checking a recipe.
    """
    parser = _TopParser(
        prog="joypix",
        description="Turn still images into short video clips from YAML recipes.",
        epilog=_examples(
            "joypix init promo                  # write a commented starter recipe",
            "joypix validate recipes/*.yaml     # check recipes, errors as FILE:LINE:COL",
            "joypix run promo.yaml --dry-run    # list the clips a run would make",
            "joypix COMMAND --help              # a command's options and examples",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"joypix {__version__}")
    _add_global_flags(parser, prefix=_BEFORE)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    stand_in = _CommandParser(add_help=False)

    def command(name: str, summary: str, description: str, *examples: str) -> argparse.ArgumentParser | None:
        if only is not None and name != only:
            _list_command(commands, name, summary, stand_in)
            return None
        sub = commands.add_parser(
            name,
            help=summary,
            description=description,
            epilog=_examples(*examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        assert isinstance(sub, _CommandParser)
        sub.fill_description = True  # the raw formatter keeps the examples' lines, not this one's
        _add_global_flags(sub)
        return sub

    validate = command(
        "validate",
        "check recipes; errors as FILE:LINE:COL",
        "Check recipes against the schema and the template rules without running anything. Every problem is "
        "printed as FILE:LINE:COL: message (exit 2); table rows that cannot run are named by line (exit 1).",
        "joypix validate recipes/*.yaml",
        "joypix validate promo.yaml --var brand=Acme   # a variable given only at run time",
        "joypix validate - --json < promo.yaml          # a recipe on standard input, as <stdin>",
    )
    if validate is not None:
        validate.add_argument(
            "files",
            nargs="+",
            metavar="FILE",
            help="recipe files to check; - reads one from standard input (as <stdin>)",
        )
        validate.add_argument(
            "--var", action="append", default=[], metavar="KEY=VALUE", help="a variable --var will give at run time"
        )
        validate.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help=_SET_HELP)
        validate.add_argument(
            "--backend",
            choices=list(BACKENDS),
            help="check for this backend instead of the recipe's (nemo: prompts go to the cloud agent, unchecked)",
        )

    schema = command(
        "schema",
        "print the recipe JSON Schema",
        "Print the JSON Schema recipes follow, for editors and other tools.",
        "joypix schema > recipe.schema.json",
        "joypix schema --watch-file",
    )
    if schema is not None:
        schema.add_argument("--watch-file", action="store_true", help="print the watch-file schema instead")

    init = command(
        "init",
        "write a commented starter recipe",
        "Write a commented starter recipe that validates, with the schema comment editors use; never overwrites a file.",
        "joypix init                # writes recipe.yaml",
        "joypix init promo          # writes promo.yaml",
        "joypix init promo --template catalogue   # starts from recipes/catalogue.yaml",
    )
    if init is not None:
        init.add_argument("name", nargs="?", help="file name (default: recipe.yaml)")
        init.add_argument(
            "--template",
            metavar="NAME",
            help=f"start from an example recipe: {', '.join(_example_names()) or 'none in this install'}",
        )

    run = command(
        "run",
        "run a recipe over its inputs and variants",
        "Make a clip for every input x variant of a recipe, here or on a render farm. Runs resume: finished "
        "jobs are skipped, and on the cloud nothing is paid twice.",
        "joypix run promo.yaml",
        "joypix run promo.yaml --dry-run --input photos/ --var brand=Acme",
        "joypix run promo.yaml --input products.csv --backend nemo -q",
    )
    if run is not None:
        run.add_argument("recipe", metavar="FILE", help="the recipe to run")
        run.add_argument(
            "--dry-run", action="store_true", help="list the planned jobs (and what they would pay) and stop"
        )
        run.add_argument(
            "--preview",
            action="store_true",
            help="render every job as a quick draft into OUT/previews/ instead (local, free; see joypix preview)",
        )
        _add_job_flags(run)
        run.add_argument(
            "--contact-sheet",
            action="store_true",
            help="also write contact-sheet.jpg in the output folder: every clip's poster with its name",
        )
        run.add_argument(
            "--notify",
            action="append",
            default=[],
            metavar="URL",
            help="POST a JSON event per finished job and per run to URL (signed when JOYPIX_NOTIFY_SECRET is set); repeatable",
        )
        _add_cloud_flags(run, polls=True)
        _add_farm_flags(run, submits=True)
        run.add_argument("--detach", action="store_true", help="with --broker: submit the jobs and return")

    preview = command(
        "preview",
        "render every job as a quick draft, here and for free",
        "Render every job of a recipe as a draft: a third of the final frame size, 12 fps, the fastest encoder, "
        "with the same motion, text, audio and transition times. Drafts go to OUT/previews/ with their own "
        "journal, manifest and report, so finals are never touched and an unchanged draft is skipped. Whatever "
        "the backend, a draft is rendered here by the local backend: it costs nothing and contacts no server. "
        "`joypix run FILE --preview` does the same.",
        "joypix preview recipes/quickstart.yaml      # -> recipes/out/previews/sample.mp4",
        "joypix preview promo.yaml --input photos/ --var brand=Acme",
        "joypix preview promo.yaml --backend nemo   # the cloud recipe's draft, rendered here for free",
    )
    if preview is not None:
        preview.add_argument("recipe", metavar="FILE", help="the recipe to preview")
        _add_job_flags(preview)
        _add_cloud_flags(preview)  # accepted so a cloud run's command line previews as it is; never used

    studio = command(
        "studio",
        "a local page of every job's preview, re-rendered as you edit",
        "Serve a page on this machine that shows every job of a recipe as a card with its preview playing, its "
        "prompts and its planned length, and the recipe's problems as FILE:LINE:COL. Saving the recipe (or a table, "
        "an input photo) in any editor re-renders the previews of the jobs that changed; the recipe's vars are a "
        "form, and a button renders the finals. The address printed carries a token: only your browser gets in.",
        "joypix studio recipes/quickstart.yaml",
        "joypix studio promo.yaml --var brand=Acme --port 8000 --no-open",
        "joypix studio promo.yaml --out /tmp/promo-out",
    )
    if studio is not None:
        studio.add_argument("recipe", metavar="FILE", help="the recipe to show")
        studio.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
        studio.add_argument(
            "--host",
            default="127.0.0.1",
            help="address to listen on (default: 127.0.0.1; another address lets anyone holding the token render)",
        )
        studio.add_argument("--out", metavar="DIR", help="output folder (default: out/ beside the recipe)")
        studio.add_argument(
            "--var",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="start with this recipe variable; repeatable",
        )
        studio.add_argument("--no-open", action="store_true", help="print the address without opening a browser")
        _add_cloud_flags(studio)  # for a cloud recipe's finals; drafts never contact the service

    credits = command(
        "credits",
        "show the cloud credit balance",
        "Show the cloud account's credit balance: available, frozen (held by running renders) and total.",
        "joypix credits",
        "joypix credits --json",
    )
    if credits is not None:
        _add_cloud_flags(credits)

    status = command(
        "status",
        "summarise a cloud session's timeline",
        "Summarise a cloud session's timeline: its tracks and clips as the agent left them.",
        "joypix status                       # the most recent session",
        "joypix status SESSION_ID",
    )
    if status is not None:
        status.add_argument("session", nargs="?", help="session id (default: the most recent one)")
        _add_cloud_flags(status)

    fetch = command(
        "fetch",
        "download a cloud render by id (nothing is paid)",
        "Download a finished cloud render by its id, waiting for it if it is still running. "
        "Nothing is posted or paid: a link that expired is refreshed by polling the render again.",
        "joypix fetch render_1733590000000_ab12cd34",
        "joypix fetch render_1733590000000_ab12cd34 --out clips/launch.mp4",
    )
    if fetch is not None:
        fetch.add_argument(
            "render_id", metavar="RENDER_ID", help="the render's id (joypix status, the journal, or the service)"
        )
        fetch.add_argument("--out", metavar="FILE", help="where to save the MP4 (default: RENDER_ID.mp4 here)")
        _add_cloud_flags(fetch, polls=True)

    doctor = command(
        "doctor",
        "check encoder, HEIC support, token and service",
        "Report what this installation can do: version, H.264 encoder, HEIC support, where the token comes "
        "from and when it expires, and whether the service (and a configured farm) answers. Exits 1 when "
        "something does not answer.",
        "joypix doctor",
        "joypix doctor --base-url http://127.0.0.1:8765",
        "joypix doctor --broker redis://farm:6379/0 --storage file:///mnt/share/joypix",
    )
    if doctor is not None:
        _add_cloud_flags(doctor)
        _add_farm_flags(doctor)

    emulator = command(
        "emulator",
        "serve a local imitation of the cloud API",
        "Serve a local imitation of the cloud API on 127.0.0.1, to try recipes without credits and to "
        "rehearse faults (latency, stalls, expired links) through its knobs.",
        "joypix emulator",
        "joypix emulator --port 9000 --render-latency 2 --credits 5",
        "joypix emulator --knob ingest_delay_s=2 --expire-first-link",
    )
    if emulator is not None:
        emulator.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
        emulator.add_argument("--port", type=int, default=8765, help="port of the API (default: 8765)")
        emulator.add_argument(
            "--download-port", type=int, default=None, help="port of the download origin (default: port + 1)"
        )
        emulator.add_argument(
            "--turn-latency",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="delay before each agent turn answers (default: 0)",
        )
        emulator.add_argument(
            "--render-latency",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="how long each render takes (default: 0)",
        )
        emulator.add_argument(
            "--credits", type=int, default=100, metavar="N", help="the account's starting credits (default: 100)"
        )
        emulator.add_argument(
            "--no-text-ratio",
            type=float,
            default=0.3,
            metavar="RATIO",
            help="share of turns that reply with no text (default: 0.3)",
        )
        emulator.add_argument("--export-blocked", action="store_true", help="answer every export with 402")
        emulator.add_argument(
            "--vary",
            type=int,
            default=None,
            metavar="SEED",
            help="give each session undocumented shapes of its own, drawn from SEED",
        )
        emulator.add_argument(
            "--hold-render-reply",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="take (and charge) each render POST, then hold its reply this long",
        )
        emulator.add_argument(
            "--expire-first-link", action="store_true", help="sign download links; each render's first link answers 403"
        )
        emulator.add_argument(
            "--stall-turns", type=int, default=0, metavar="N", help="the next N turns stay silent but alive"
        )
        emulator.add_argument(
            "--stall-turn-seconds",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="how long a stalled turn stays silent",
        )
        emulator.add_argument(
            "--knob",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="set any fault knob (emulator/state.py Knobs), e.g. --knob ingest_delay_s=2; repeatable",
        )

    watch = command(
        "watch",
        "run a recipe on every image dropped into a folder",
        "A hot folder: every image that lands in DIR is made into clips exactly once, then moved to DIR/done/ "
        "(or DIR/failed/ with NAME.error.txt). A watch file maps several folders to their recipes.",
        "joypix watch incoming/ --recipe promo.yaml",
        "joypix watch /mnt/share/in --recipe promo.yaml --polling --once   # from cron, on a network share",
        "joypix watch --config watch.yaml",
    )
    if watch is not None:
        watch.add_argument("folder", nargs="?", metavar="DIR", help="the folder to watch (with --recipe)")
        watch.add_argument("--recipe", metavar="FILE", help="the recipe to run on each image that lands in DIR")
        watch.add_argument("--config", metavar="WATCHFILE", help="a watch file mapping folders to recipes")
        watch.add_argument("--out", metavar="DIR", help="output folder (default: out/ beside the recipe)")
        watch.add_argument("--backend", choices=list(BACKENDS), help="override the recipe's backend")
        watch.add_argument("--polling", action="store_true", help="poll the folder (network shares)")
        watch.add_argument(
            "--settle", type=float, default=None, metavar="SECONDS", help="how long a file must stay unchanged"
        )
        watch.add_argument("--once", action="store_true", help="process what is there and exit")
        _add_farm_flags(watch, submits=True)

    worker = command(
        "worker",
        "render jobs from a farm's queue (see docs/cluster.md)",
        "Render jobs from a render farm's queue on this machine until stopped: SIGTERM finishes local renders "
        "and hands cloud jobs back, Ctrl-C hands everything back. Needs the farm extra: "
        "pip install 'joypix-recipes[farm]'.",
        "joypix worker --broker redis://farm:6379/0 --storage file:///mnt/share/joypix",
        "joypix worker --broker redis://farm:6379/0 --storage s3://bucket/joypix --processes 4 -v",
        "JOYPIX_BROKER=redis://farm:6379/0 joypix worker --queues local",
    )
    if worker is not None:
        _add_farm_flags(worker)
        worker.add_argument("--processes", type=int, default=1, metavar="N", help="worker processes (default: 1)")
        worker.add_argument(
            "--threads", type=int, default=None, metavar="N", help="jobs at once per process (default: one per core)"
        )
        worker.add_argument(
            "--queues", metavar="LIST", help="queues to serve, e.g. local or nemo (default: local,nemo)"
        )
        worker.add_argument(
            "--heartbeat-timeout",
            type=float,
            default=None,
            metavar="SECONDS",
            help="how long a silent worker is taken for alive before its jobs go to another (default: $JOYPIX_HEARTBEAT_TIMEOUT or 60)",
        )

        worker.add_argument(
            "--metrics-port",
            type=int,
            default=None,
            metavar="N",
            help="serve Prometheus metrics (Dramatiq's middleware) on this port; needs prometheus_client",
        )
        worker.add_argument(
            "--metrics-host",
            default="127.0.0.1",
            metavar="ADDRESS",
            help="the address the metrics are served on (default: 127.0.0.1; 0.0.0.0 for every interface)",
        )

    farm = command(
        "farm",
        "show a render farm's queues, workers and failures (see docs/cluster.md)",
        "What the farm is doing now: each queue's depth, the live workers (host, pid, last heartbeat), the jobs "
        "in flight, and the latest failures. Needs the farm extra: pip install 'joypix-recipes[farm]'.",
        "joypix farm status --broker redis://farm:6379/0",
        "joypix farm status --json | jq '.queues'",
    )
    if farm is not None:
        farm.add_argument("action", choices=["status"], help="what to show (status)")
        farm.add_argument(
            "--broker",
            metavar="URL",
            help="the render farm's Redis broker, redis://HOST:6379/0 (default: $JOYPIX_BROKER)",
        )

    completion = command(
        "completion",
        "print a shell completion script (bash, zsh, fish)",
        "Print a script that completes joypix's commands, options, recipe files and step kinds in your shell.",
        'eval "$(joypix completion bash)"                      # in ~/.bashrc',
        'joypix completion zsh > "${fpath[1]}/_joypix"         # then restart zsh',
        "joypix completion fish > ~/.config/fish/completions/joypix.fish",
    )
    if completion is not None:
        completion.add_argument("shell", choices=["bash", "zsh", "fish"], help="the shell to complete in")
    return parser


def _list_command(commands: argparse._SubParsersAction, name: str, summary: str, stand_in: _CommandParser) -> None:  # type: ignore[type-arg]
    """What ``add_parser`` does for ``joypix --help`` and for telling a command's name, without building its
    parser: argparse translates every parser's stock strings, and each translation looks for catalogue files."""
    commands._choices_actions.append(commands._ChoicesPseudoAction(name, (), summary))
    commands._name_parser_map[name] = stand_in


def parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    """``--var KEY=VALUE`` pairs as a mapping; raises UsageError for a pair that is no KEY=VALUE."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise UsageError(f"--var expects KEY=VALUE, got {pair!r}")
        values[name.strip()] = value
    return values


def _add_job_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that say which jobs a run makes and where: run's and preview's alike."""
    parser.add_argument(
        "--input",
        action="append",
        metavar="PATH",
        help="replace the recipe's inputs: an image, a folder, a glob or a table (.csv, .tsv, .json, .jsonl); repeatable",
    )
    parser.add_argument(
        "--group", action="store_true", help="make one clip of each --input's images (a folder, a glob)"
    )
    parser.add_argument(
        "--var", action="append", default=[], metavar="KEY=VALUE", help="override a recipe variable; repeatable"
    )
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help=_SET_HELP)
    parser.add_argument("--out", metavar="DIR", help="output folder (default: out/ beside the recipe)")
    parser.add_argument("--backend", choices=list(BACKENDS), help="override the recipe's backend")
    parser.add_argument("--concurrency", type=int, metavar="N", help="jobs at once (default: per backend)")
    parser.add_argument("--force", action="store_true", help="rerun jobs that are already done")


def _add_farm_flags(parser: argparse.ArgumentParser, submits: bool = False) -> None:
    group = parser.add_argument_group("render farm (pip install 'joypix-recipes[farm]')")
    if submits:
        broker = "send the jobs to a render farm's Redis broker, redis://HOST:6379/0 (default: $JOYPIX_BROKER)"
    else:
        broker = "the render farm's Redis broker, redis://HOST:6379/0 (default: $JOYPIX_BROKER)"
    group.add_argument("--broker", metavar="URL", help=broker)
    group.add_argument(
        "--storage",
        metavar="URL",
        help="the farm's shared storage: file:///mnt/share/joypix or s3://bucket/prefix (default: $JOYPIX_STORAGE)",
    )


def _add_cloud_flags(parser: argparse.ArgumentParser, polls: bool = False) -> None:
    group = parser.add_argument_group("cloud service")
    group.add_argument(
        "--base-url", metavar="URL", help="cloud API origin (default: $JOYPIX_BASE_URL or the production service)"
    )
    if polls:
        group.add_argument(
            "--poll-interval",
            type=float,
            metavar="SECONDS",
            help="seconds between render status polls (default: $JOYPIX_POLL_INTERVAL or 30)",
        )
    group.add_argument("--language", help="session language (default: from the locale)")


def command_names(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each command's name and its parser, in the order ``joypix --help`` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}
