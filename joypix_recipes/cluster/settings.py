"""Where the farm lives: the broker URL, the storage URL and the heartbeat timeout, from flags or the environment.

URLs may carry passwords; only their redacted form (``redact``) reaches messages and logs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from joypix_recipes.errors import UsageError
from joypix_recipes.redact import redact

ENV_BROKER = "JOYPIX_BROKER"
ENV_STORAGE = "JOYPIX_STORAGE"
ENV_HEARTBEAT_TIMEOUT = "JOYPIX_HEARTBEAT_TIMEOUT"
ENV_KEEP_DAYS = "JOYPIX_KEEP_DAYS"

DEFAULT_HEARTBEAT_TIMEOUT_S = 60.0
"""A worker silent this long is taken for dead and its messages go back to the queue."""
DEFAULT_KEEP_DAYS = 30.0
"""How long Redis keeps a finished job's record: a rerun within this time collects the job instead of redoing it."""
_DAY_S = 86_400.0


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
    if urlsplit(broker_url).scheme not in ("redis", "rediss", "unix"):
        raise UsageError(f"--broker expects a redis:// URL, got {redact(broker_url)!r}")
    storage_url = (storage or os.environ.get(ENV_STORAGE) or "").strip() or None
    timeout = heartbeat_timeout_s if heartbeat_timeout_s is not None else _env_seconds(ENV_HEARTBEAT_TIMEOUT)
    if timeout is not None and timeout <= 0:
        raise UsageError("the heartbeat timeout must be more than 0 seconds")
    keep_days = _env_seconds(ENV_KEEP_DAYS)
    if keep_days is not None and keep_days <= 0:
        raise UsageError(f"${ENV_KEEP_DAYS} must be more than 0 days")
    return ClusterSettings(
        broker_url, storage_url, timeout or DEFAULT_HEARTBEAT_TIMEOUT_S, (keep_days or DEFAULT_KEEP_DAYS) * _DAY_S
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

