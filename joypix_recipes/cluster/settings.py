"""Where the farm lives: the broker URL, the storage URL and the heartbeat timeout, from flags or the environment.

URLs may carry passwords; only their redacted form (``redact``) reaches messages and logs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from joypix_recipes.errors import UsageError
from joypix_recipes.redact import redact, remember_secret, secret_parameter

ENV_BROKER = "JOYPIX_BROKER"
ENV_STORAGE = "JOYPIX_STORAGE"
ENV_HEARTBEAT_TIMEOUT = "JOYPIX_HEARTBEAT_TIMEOUT"
ENV_KEEP_DAYS = "JOYPIX_KEEP_DAYS"

DEFAULT_HEARTBEAT_TIMEOUT_S = 60.0
"""A worker silent this long is taken for dead and its messages go back to the queue."""
DEFAULT_KEEP_DAYS = 30.0
"""How long Redis keeps a finished job's record: a rerun within this time collects the job instead of redoing it."""
_DAY_S = 86_400.0
BROKER_SCHEMES = ("redis", "rediss", "unix")
STORAGE_SCHEMES = ("file", "s3", "s3a")
"""Storage the farm is built and tested for: a folder every machine mounts, or S3-compatible object storage."""
_DATABASE = re.compile(r"/*(\d*)/*")


@dataclass(frozen=True)
class ClusterSettings:
    """The broker, the shared storage and how quickly a dead worker's jobs come back."""

    broker_url: str
    storage_url: str | None = None
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S
    keep_records_s: float = DEFAULT_KEEP_DAYS * _DAY_S

    @property
    def lease_s(self) -> float:
        """How long a job's lease lives unrenewed: no longer than the heartbeat timeout, so by the time a
        dead worker's message is redelivered its lease has usually lapsed too."""
        return self.heartbeat_timeout_s

    @property
    def public_broker(self) -> str:
        """The broker URL without its password."""
        return redact(self.broker_url)


def resolve_settings(
    broker: str | None, storage: str | None = None, heartbeat_timeout_s: float | None = None
) -> ClusterSettings | None:
    """Settings from flags, else ``JOYPIX_BROKER``/``JOYPIX_STORAGE``; None when no broker is set (run locally)."""
    broker_url = (broker or os.environ.get(ENV_BROKER) or "").strip()
    if not broker_url:
        return None
    check_broker_url(broker_url)
    storage_url = (storage or os.environ.get(ENV_STORAGE) or "").strip() or None
    if storage_url is not None:
        check_storage_url(storage_url)
    timeout = heartbeat_timeout_s if heartbeat_timeout_s is not None else _env_seconds(ENV_HEARTBEAT_TIMEOUT)
    if timeout is not None and timeout <= 0:
        raise UsageError("the heartbeat timeout must be more than 0 seconds")
    keep_days = _env_seconds(ENV_KEEP_DAYS)
    if keep_days is not None and keep_days <= 0:
        raise UsageError(f"${ENV_KEEP_DAYS} must be more than 0 days")
    return ClusterSettings(
        broker_url, storage_url, timeout or DEFAULT_HEARTBEAT_TIMEOUT_S, (keep_days or DEFAULT_KEEP_DAYS) * _DAY_S
    )


def check_broker_url(url: str) -> None:
    """UsageError naming the fault (password redacted) unless ``url`` is a Redis URL a client can be made from.

    Its passwords are remembered as secrets first, so no later message (a library's included) shows them.
    """
    shown = redact(url)
    try:
        parts = urlsplit(url)
        if parts.password:
            remember_secret(unquote(parts.password))
        for name, value in parse_qsl(parts.query):
            if secret_parameter(name):
                remember_secret(value)
        if parts.scheme.lower() not in BROKER_SCHEMES or not url.lower().startswith(tuple(f"{s}://" for s in BROKER_SCHEMES)):
            raise UsageError(f"--broker expects a redis:// URL, got {shown}")
        parts.port  # noqa: B018 - parsing the port is what raises for a bad one
        if parts.scheme.lower() != "unix" and not _DATABASE.fullmatch(unquote(parts.path)):
            raise UsageError(
                f"--broker {shown}: the database {unquote(parts.path).strip('/')!r} is not a number;"
                " write it as redis://HOST:6379/0"
            )
        _make_connection(url)
    except (ValueError, TypeError) as error:
        unknown = re.search(r"unexpected keyword argument '([^']*)'", str(error))
        reason = f"unknown option {unknown.group(1)}" if unknown else redact(str(error).split("\n")[0]) or type(error).__name__
        raise UsageError(f"--broker {shown} is not a valid Redis URL ({reason})") from None


def _make_connection(url: str) -> None:
    """Build (never connect) the connection a URL describes: what redis-py would refuse only when first used."""
    from redis.connection import ConnectionPool

    ConnectionPool.from_url(url).make_connection()


def check_storage_url(url: str) -> None:
    """UsageError unless ``url`` names storage the farm supports (a ``file://`` folder or ``s3://`` bucket)."""
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme not in STORAGE_SCHEMES:
        raise UsageError(
            f"--storage {redact(url)}: use a shared folder (file:///mnt/share/joypix) or S3-compatible storage"
            " (s3://bucket/prefix)"
        )


def _env_seconds(name: str) -> float | None:
    """A number from the environment (seconds, or days for the record keeping), None when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise UsageError(f"${name} must be a number, got {raw!r}") from None

