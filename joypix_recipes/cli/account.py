"""``joypix credits``, ``joypix status`` and ``joypix fetch``: the cloud account's balance, a session, a render."""

from __future__ import annotations

import argparse
from pathlib import Path

from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.options import backend_options
from joypix_recipes.cli.signals import run_until_interrupted
from joypix_recipes.cli.streams import complain, say, say_json
from joypix_recipes.errors import UsageError


def cmd_credits(args: argparse.Namespace) -> int:
    """Show the cloud account's credit balance."""
    from joypix_recipes.backends.account import fetch_credits

    balance = run_until_interrupted(fetch_credits(backend_options(args)))
    if args.json:
        say_json(balance)
    else:
        say(
            f"credits: {balance.get('available', 0)} available, {balance.get('frozen', 0)} frozen,"
            f" {balance.get('total', 0)} total"
        )
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """Summarise a cloud session's timeline (with --json, ``{"summary"}``, and ``"session"`` when one was named)."""
    from joypix_recipes.backends.account import fetch_status

    summary = run_until_interrupted(fetch_status(backend_options(args), args.session))
    if args.json:
        say_json({**({"session": args.session} if args.session else {}), "summary": summary})
    else:
        say(summary)
    return EXIT_OK


def cmd_fetch(args: argparse.Namespace) -> int:
    """Download a cloud render by id into a checked MP4."""
    from joypix_recipes.backends.account import fetch_render

    output = Path(args.out) if args.out else Path(f"{args.render_id}.mp4")
    if output.suffix.lower() != ".mp4":
        raise UsageError(f"--out {output}: a render is an MP4; give a file name ending in .mp4")
    seen: set[str] = set()

    def on_stage(text: str) -> None:
        if getattr(args, "verbose", False) and text not in seen:
            seen.add(text)
            complain(text)

    facts = run_until_interrupted(fetch_render(backend_options(args), args.render_id, output, on_stage))
    say(f"saved {output} ({facts.width}x{facts.height}, {facts.duration_s:.1f} s)")
    return EXIT_OK
