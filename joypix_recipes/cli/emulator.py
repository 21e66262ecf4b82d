"""``joypix emulator``: serve a local imitation of the cloud API, for tests and credit-free tries."""

from __future__ import annotations

import argparse

from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.streams import say
from joypix_recipes.errors import UsageError


def cmd_emulator(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C, with the fault knobs the flags set."""
    from joypix_recipes.emulator.server import serve
    from joypix_recipes.emulator.state import Knobs, set_knob

    knobs = Knobs(
        turn_latency=args.turn_latency,
        render_latency=args.render_latency,
        credits=args.credits,
        no_text_ratio=args.no_text_ratio,
        export_blocked=args.export_blocked,
        vary=args.vary,
        hold_render_reply_s=args.hold_render_reply,
        expire_first_link=args.expire_first_link,
        stall_turn_next=args.stall_turns,
        stall_turn_s=args.stall_turn_seconds,
    )
    for assignment in args.knob:
        try:
            set_knob(knobs, assignment)
        except ValueError as error:
            raise UsageError(str(error)) from error

    def _ready(base_url: str, download_url: str) -> None:
        say(f"emulator listening on {base_url} (downloads from {download_url}); Ctrl-C stops it")
        say(f"try: joypix run RECIPE --backend nemo --base-url {base_url}")

    try:
        serve(args.host, args.port, knobs, download_port=args.download_port, on_ready=_ready)
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK
