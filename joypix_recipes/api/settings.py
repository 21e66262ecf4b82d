"""How the client is configured: base URL, poll interval, language, home and state folders, timeouts, retry policy.

Each setting comes from an explicit value, else the environment, else the documented default.
"""

from __future__ import annotations

import locale
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import joypix_recipes
from joypix_recipes.api import endpoints as api
from joypix_recipes.api.home import check_home, default_home, default_state
from joypix_recipes.errors import UsageError
from joypix_recipes.redact import redact


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter, for requests that are safe to repeat."""

    attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): full jitter up to the cap."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class ClientSettings:
    """Everything a NemoClient needs; build with ``resolve_settings`` to apply env and defaults."""

    base_url: str = api.PRODUCTION_BASE_URL
    poll_interval_s: float = api.DEFAULT_POLL_INTERVAL_S
    language: str = "en"
    home: Path = field(default_factory=default_home)
    """The config folder: the token cache and the client id."""
    state: Path | None = None
    """Where the last session record goes; None: in ``home`` (JOYPIX_HOME, or a home given in code, holds all)."""
    platform: str = api.UNKNOWN_PLATFORM
    version: str = joypix_recipes.__version__
    connect_timeout_s: float = 15.0
    request_timeout_s: float = 60.0
    stream_read_timeout_s: float = api.TURN_SILENCE_S
    """Longest silence inside a turn (no byte at all); heartbeats reset it."""
    turn_deadline_s: float = api.TURN_DEADLINE_S
    still_working_every_s: float = api.STILL_WORKING_EVERY_S
    render_deadline_s: float = 3600.0
    turn_sends: int = 3
    """How many times one turn may be sent when earlier sends provably never arrived."""
    rate_limit_wait_s: float = api.RATE_LIMIT_WAIT_S
    max_wait_s: float = 900.0
    """Cap on any Retry-After we honour."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    retry_unreachable: bool = True
    """Whether a connection the service's host refused (or that found no host) is tried again; a command that
    only reads the account says at once that the service does not answer instead of backing off for seconds."""

    @property
    def state_folder(self) -> Path:
        """The folder the last session record is written to."""
        return self.state or self.home

    def attribution(self) -> dict[str, str]:
        """The three attribution headers every request carries."""
        return {
            api.HEADER_SKILL_SOURCE: api.SKILL_SOURCE,
            api.HEADER_SKILL_VERSION: self.version,
            api.HEADER_SKILL_PLATFORM: self.platform,
        }


def detect_platform(install_path: str | None = None) -> str:
    """``clawhub`` or ``cursor`` when the package is installed under such a folder, else ``unknown``."""
    path = (install_path or os.path.dirname(joypix_recipes.__file__)).replace("\\", "/").lower()
    for platform in api.PLATFORMS:
        if platform in path:
            return platform
    return api.UNKNOWN_PLATFORM


def detect_language() -> str:
    """The user's language from the locale (``zh_CN.UTF-8`` -> ``zh``), ``en`` when unknown."""
    candidates = [os.environ.get(name, "") for name in ("LC_ALL", "LC_MESSAGES", "LANG")]
    try:
        candidates.append(locale.getlocale()[0] or "")
    except ValueError:
        pass
    for value in candidates:
        code = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
        if code.isalpha() and code not in ("c", "posix"):
            return code
    return "en"


def _env_poll_interval() -> float | None:
    raw = os.environ.get(api.ENV_POLL_INTERVAL, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise UsageError(f"{api.ENV_POLL_INTERVAL}={raw} is not a positive number of seconds")
    return value


def check_base_url(url: str) -> str:
    """``url`` if it is a usable API origin (http or https, a host, a valid port); UsageError naming the fault."""
    import httpx

    shown = redact(url)
    if not url.lower().startswith(("http://", "https://")):
        raise UsageError(f"the base URL {shown} must start with http:// or https://")
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as error:
        reason = redact(str(error)) or "it cannot be parsed"
        raise UsageError(f"the base URL {shown} is not a valid URL ({reason}); write it as https://host[:port]") from error
    if not parts.hostname:
        raise UsageError(f"the base URL {shown} names no host; write it as https://host[:port]")
    if "@" in parts.netloc:
        # httpx would send them as Basic auth in place of the Bearer token, which the service then refuses.
        raise UsageError(
            f"the base URL {shown} carries a user name or password; the service takes a token (NEMO_TOKEN),"
            " so write it as https://host[:port]"
        )
    if port == 0:
        raise UsageError(f"the base URL {shown} has port 0; give a port from 1 to 65535")
    return url


def resolve_settings(
    base_url: str | None = None,
    poll_interval: float | None = None,
    language: str | None = None,
    home: Path | None = None,
    *,
    require_home: bool = True,
    **overrides: object,
) -> ClientSettings:
    """Settings from explicit values, else JOYPIX_* environment variables, else the defaults.

    With ``require_home``, a home folder that cannot be used is a UsageError now, before any job has started.
    """
    url = check_base_url((base_url or os.environ.get(api.ENV_BASE_URL) or api.PRODUCTION_BASE_URL).strip().rstrip("/"))
    if poll_interval is not None and not poll_interval > 0:
        raise UsageError("the poll interval must be a positive number of seconds")
    # A home given in code holds everything, as JOYPIX_HOME does; only the platform's defaults split in two.
    state = None if home else default_state()
    home = home or default_home()
    if require_home:
        check_home(home)
    return ClientSettings(
        base_url=url,
        poll_interval_s=poll_interval or _env_poll_interval() or api.DEFAULT_POLL_INTERVAL_S,
        language=language or detect_language(),
        home=home,
        state=state if state != home else None,
        platform=detect_platform(),
        **overrides,  # type: ignore[arg-type]
    )
