"""``joypix doctor``: what this installation can do and whether the service answers, as (label, value) rows.

Never shows a token's value: only where it comes from and when it expires. Everything it checks is
imported when it runs, so other commands do not pay for it.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import joypix_recipes
from joypix_recipes.cli.boundary import EXIT_JOB_FAILED, EXIT_OK
from joypix_recipes.cli.options import backend_options, farm_settings
from joypix_recipes.cli.signals import run_until_interrupted
from joypix_recipes.cli.streams import say, say_json

if TYPE_CHECKING:
    from joypix_recipes.backends.contract import BackendOptions
    from joypix_recipes.cluster.settings import ClusterSettings

PING_TIMEOUT_S = 5.0


@dataclass
class DoctorReport:
    """The rows ``joypix doctor`` prints, and the labels of those that say something does not work."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def add(self, name: str, value: str, ok: bool = True) -> None:
        """One row; ``ok=False`` makes the command exit 1."""
        self.rows.append((name, value))
        if not ok:
            self.failed.append(name)


def cmd_doctor(args: argparse.Namespace) -> int:
    """Report what this installation can do: encoder, HEIC, its folders, token source, service reachability.

    Exits 1 when the service, the broker or the storage does not answer: a script can rely on it.
    With --json, one object: ``{"ok", "checks": [{"name", "value", "ok"}]}``."""
    report = run_until_interrupted(check_installation(backend_options(args), farm=farm_settings(args)))
    if args.json:
        checks = [{"name": name, "value": value, "ok": name not in report.failed} for name, value in report.rows]
        say_json({"ok": not report.failed, "checks": checks})
        return EXIT_JOB_FAILED if report.failed else EXIT_OK
    width = max((len(name) for name, _ in report.rows), default=0)
    for name, value in report.rows:
        say(f"{name.ljust(width)}  {value}")
    return EXIT_JOB_FAILED if report.failed else EXIT_OK


async def collect_doctor_report(options: BackendOptions, farm: ClusterSettings | None = None) -> list[tuple[str, str]]:
    """Rows for ``joypix doctor``: version, encoder, HEIC, token source and expiry, service reachability,
    and with a farm configured, whether its broker and storage answer."""
    return (await check_installation(options, farm)).rows


async def check_installation(options: BackendOptions, farm: ClusterSettings | None = None) -> DoctorReport:
    """What ``collect_doctor_report`` says, with which of its rows are failures."""
    import platform

    from joypix_recipes.api.auth import describe_token
    from joypix_recipes.api.home import HomeError, check_home
    from joypix_recipes.api.settings import resolve_settings
    from joypix_recipes.redact import redact

    settings = resolve_settings(
        base_url=options.base_url, poll_interval=options.poll_interval, language=options.language, home=options.home,
        require_home=False,  # reported below, as one of the rows
    )
    report = DoctorReport()
    report.add("joypix", joypix_recipes.__version__)
    report.add("python", platform.python_version())
    report.add("H.264 encoder", _encoder())
    report.add("HEIC photos", _heic())
    report.add("platform", settings.platform)
    report.add("language", settings.language)
    try:
        check_home(settings.home)
    except HomeError as error:
        report.add("home", str(error), ok=False)
    else:
        report.add("home", str(settings.home))
    for name, folder, holds in _folders(options):
        try:
            check_home(folder)
        except HomeError as error:
            report.add(name, str(error), ok=False)
        else:
            report.add(name, f"{folder} ({holds})")
    report.add("token", describe_token(settings.home, settings.base_url))
    answer, answers = await _ping(settings.base_url, settings.attribution())
    report.add("base URL", f"{redact(settings.base_url)}: {answer}", answers)
    for name, value, ok in await _farm_rows(farm) if farm is not None else []:
        report.add(name, value, ok)
    return report


def _folders(options: BackendOptions) -> list[tuple[str, Path, str]]:
    """The state and cache folders as (row name, folder, what it holds); a home given in code holds both."""
    from joypix_recipes.api.home import default_cache, default_state

    return [
        ("state folder", options.home or default_state(), "crash logs, the last session"),
        ("cache folder", options.home or default_cache(), "caches; safe to delete"),
    ]


async def _farm_rows(farm: ClusterSettings) -> list[tuple[str, str, bool]]:
    import asyncio

    from joypix_recipes.cluster.health import farm_rows  # Redis and fsspec only when a farm is configured

    return await asyncio.to_thread(farm_rows, farm)


def _encoder() -> str:
    from joypix_recipes.render.encode import encoder_description

    try:
        return encoder_description()
    except Exception as error:  # noqa: BLE001 - doctor reports problems, it must not crash on them
        return f"unavailable ({type(error).__name__})"


def _heic() -> str:
    from joypix_recipes.job.image_info import heic_supported

    try:
        return "supported" if heic_supported() else "not available (install pillow-heif)"
    except Exception as error:  # noqa: BLE001 - doctor reports problems, it must not crash on them
        return f"unavailable ({type(error).__name__})"


async def _ping(base_url: str, headers: dict[str, str]) -> tuple[str, bool]:
    """Whether anything answers at the base URL, said and as a flag; any HTTP status counts as answering."""
    import httpx

    from joypix_recipes.api import endpoints as api

    started = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=PING_TIMEOUT_S) as client:
            response = await client.get(base_url + api.CREDITS_PATH, headers=headers)
    except httpx.HTTPError as error:
        return f"does not answer ({type(error).__name__}); check the URL and the network", False
    elapsed_ms = (time.monotonic() - started) * 1000
    return f"answers (HTTP {response.status_code} in {elapsed_ms:.0f} ms)", True
