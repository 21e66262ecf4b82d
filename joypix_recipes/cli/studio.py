"""``joypix studio``: serve the recipe's page on this machine until Ctrl-C (or SIGTERM) stops it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.options import backend_options
from joypix_recipes.cli.parser import parse_vars
from joypix_recipes.cli.signals import owned_signals
from joypix_recipes.cli.streams import complain, say, say_json
from joypix_recipes.errors import JoypixError, UsageError

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_WILDCARDS = ("0.0.0.0", "::", "")


def cmd_studio(args: argparse.Namespace) -> int:
    """Start the studio, print its address (with the token), open a browser unless --no-open, serve until stopped."""
    from joypix_recipes.cli.understood import planned_seconds, understood
    from joypix_recipes.studio import Reader, Studio

    recipe = Path(args.recipe)
    if not recipe.is_file():
        raise UsageError(f"{recipe}: no such recipe file")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    if args.host in _WILDCARDS:
        # The Host header is checked against the address served: a wildcard names none a browser would send.
        raise UsageError(f"--host needs the address to serve on (127.0.0.1, or this machine's own address), not {args.host}")
    out_dir = Path(args.out) if args.out else None
    # Cards tell their jobs as `run --dry-run` does.
    reader = Reader(length_of=planned_seconds, words_of=understood)
    studio = Studio(recipe, out_dir=out_dir, host=args.host, port=args.port, command_vars=parse_vars(args.var),
                    reader=reader, options=backend_options(args))
    with owned_signals():
        try:
            studio.start()
            if args.host not in _LOOPBACK:
                complain(f"warning: listening on {args.host}: anyone who can reach it and holds the address can render")
            if args.json:
                say_json({"recipe": str(recipe), "url": studio.url})
            else:
                say(f"studio of {recipe.name}: {studio.url}")
                say("Ctrl-C stops it")
            if not args.no_open:
                import webbrowser

                webbrowser.open(studio.url)
            while studio.serving:  # until a stop signal, or the studio's own end (logged where it happened)
                time.sleep(0.5)
        except KeyboardInterrupt:
            return EXIT_OK
        finally:
            studio.stop()
    raise JoypixError("the studio stopped on an unexpected error (shown above)")
