"""``joypix doctor``: what this installation can do and whether the service answers, as (label, value) rows.

Never shows a token's value: only where it comes from and when it expires. Everything it checks is
imported when it runs, so other commands do not pay for it.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

import joypix_recipes
from joypix_recipes.cli.boundary import EXIT_OK
from joypix_recipes.cli.options import backend_options, farm_settings
from joypix_recipes.cli.signals import run_until_interrupted
from joypix_recipes.cli.streams import say

if TYPE_CHECKING:
    from joypix_recipes.backends.contract import BackendOptions
    from joypix_recipes.cluster.settings import ClusterSettings

PING_TIMEOUT_S = 5.0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Report what this installation can do: encoder, HEIC, token source, service reachability."""
    lines = run_until_interrupted(collect_doctor_report(backend_options(args), farm=farm_settings(args)))
    width = max((len(name) for name, _ in lines), default=0)
    for name, value in lines:
        say(f"{name.ljust(width)}  {value}")
    return EXIT_OK


async def collect_doctor_report(options: BackendOptions, farm: ClusterSettings | None = None) -> list[tuple[str, str]]:
    """Rows for ``joypix doctor``: version, encoder, HEIC, token source and expiry, service reachability,
    and with a farm configured, whether its broker and storage answer."""
    import platform

    from joypix_recipes.api.auth import describe_token
    from joypix_recipes.api.settings import resolve_settings
    from joypix_recipes.redact import redact

    settings = resolve_settings(
        base_url=options.base_url, poll_interval=options.poll_interval, language=options.language, home=options.home
    )
    return [
        ("joypix", joypix_recipes.__version__),
        ("python", platform.python_version()),
        ("H.264 encoder", _encoder()),
        ("HEIC photos", _heic()),
        ("platform", settings.platform),
        ("language", settings.language),
        ("home", str(settings.home)),
        ("token", describe_token(settings.home, settings.base_url)),
        ("base URL", f"{redact(settings.base_url)}: {await _ping(settings.base_url, settings.attribution())}"),
        *(await _farm_rows(farm) if farm is not None else []),
    ]


async def _farm_rows(farm: ClusterSettings) -> list[tuple[str, str]]:
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


async def _ping(base_url: str, headers: dict[str, str]) -> str:
    """Whether anything answers at the base URL; any HTTP status counts as answering."""
    import httpx

    from joypix_recipes.api import endpoints as api

    started = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=PING_TIMEOUT_S) as client:
            response = await client.get(base_url + api.CREDITS_PATH, headers=headers)
    except httpx.HTTPError as error:
        return f"does not answer ({type(error).__name__}); check the URL and the network"
    elapsed_ms = (time.monotonic() - started) * 1000
    return f"answers (HTTP {response.status_code} in {elapsed_ms:.0f} ms)"
