"""The job message: a ``Job`` as JSON plus what a worker on another machine needs to find its files.

The job's paths are the submitting machine's; a worker reads the input from storage by ``input_key``
(a group's images by ``image_keys``, in order; audio tracks and fonts by ``attachment_keys``) and writes
the output into storage under the job identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joypix_recipes.cluster.storage import is_safe_key
from joypix_recipes.errors import JoypixError
from joypix_recipes.job.model import Job
from joypix_recipes.printable import printable
from joypix_recipes.redact import redact

_IDENTITY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A job identity names a folder in storage and a Redis key: one plain path segment."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_QUEUES = ("local", "nemo")


class MalformedMessage(JoypixError):
    """A queue message a worker will not act on: not a job message, or one naming files outside the storage."""


def check_key(key: object, what: str, prefix: str = "") -> str:
    """``key`` if it is a storage key under ``prefix`` that stays inside the storage root; MalformedMessage if not."""
    if not isinstance(key, str) or not key:
        raise MalformedMessage(f"its {what} is not a storage key")
    if not key.startswith(prefix) or not is_safe_key(key):
        raise MalformedMessage(f"its {what} {printable(key)!r} is not a key under {prefix or 'the storage root'}")
    return key


def check_file_name(name: object, what: str) -> str:
    """``name`` if it is one file name (no folder part, not ``.`` or ``..``); MalformedMessage if not."""
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name or _CONTROL.search(name):
        raise MalformedMessage(f"its {what} {printable(str(name))!r} is not a plain file name")
    return name


@dataclass(frozen=True)
class JobMessage:
    """One job on the queue, tagged with the submission that enqueued it."""

    identity: str
    submission: str
    job: Job
    input_key: str | None
    storage_url: str
    base_url: str | None = None
    poll_interval: float | None = None
    language: str | None = None
    # The input's content hash the identity was computed from; empty in messages from older submitters.
    input_hash: str = ""
    image_keys: tuple[str, ...] = ()
    # Audio tracks and fonts from the submitter's disk, in storage: the name the job uses -> storage key.
    attachment_keys: dict[str, str] = field(default_factory=dict)

    @property
    def queue(self) -> str:
        """The queue of the job's backend."""
        return self.job.backend

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, as Dramatiq carries it."""
        return {
            "identity": self.identity,
            "submission": self.submission,
            "job": self.job.to_dict(),
            "input_key": self.input_key,
            "storage_url": self.storage_url,
            "base_url": self.base_url,
            "poll_interval": self.poll_interval,
            "language": self.language,
            "input_hash": self.input_hash,
            **({"image_keys": list(self.image_keys)} if self.image_keys else {}),
            **({"attachment_keys": dict(self.attachment_keys)} if self.attachment_keys else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobMessage:
        """Inverse of ``to_dict``; MalformedMessage (one line) for anything a submitter would not have sent,
        above all any name that would lead a worker outside its storage or scratch folder."""
        if not isinstance(data, dict):
            raise MalformedMessage(f"it is a {type(data).__name__}, not a job message")
        try:
            message = cls(
                identity=_text(data, "identity"),
                submission=_text(data, "submission"),
                job=_job(data.get("job")),
                input_key=_optional(data, "input_key", str),
                storage_url=_text(data, "storage_url"),
                base_url=_optional(data, "base_url", str),
                poll_interval=_optional(data, "poll_interval", (int, float)),
                language=_optional(data, "language", str),
                input_hash=_optional(data, "input_hash", str) or "",
                image_keys=tuple(_list(data, "image_keys")),
                attachment_keys=_mapping(data, "attachment_keys"),
            )
        except MalformedMessage:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise MalformedMessage(f"it is not a job message ({_reason(error)})") from None
        message.check()
        return message

    def check(self) -> None:
        """MalformedMessage unless every name in the message stays inside the storage and the worker's scratch folder."""
        if not _IDENTITY.fullmatch(self.identity):
            raise MalformedMessage(f"its identity {printable(self.identity)!r} is not a job identity")
        if self.job.backend not in _QUEUES:
            raise MalformedMessage(f"its backend {printable(str(self.job.backend))!r} is not one of {', '.join(_QUEUES)}")
        job_input = self.job.input
        check_file_name(job_input.name, "input name")
        check_file_name(self.job.output.name, "output name")
        if self.input_key is not None:
            check_key(self.input_key, "input key", "inputs/")
        for key in self.image_keys:
            check_key(key, "image key", "inputs/")
        for name, key in self.attachment_keys.items():
            if not name or _CONTROL.search(name):
                raise MalformedMessage(f"its attachment name {printable(name)!r} is not a file name")
            check_key(key, "attachment key", "inputs/")
        if job_input.images:
            if len(self.image_keys) != len(job_input.images) or self.input_key is not None:
                raise MalformedMessage("its group of images does not match its image keys")
        elif job_input.path is not None:
            if self.input_key is None:
                raise MalformedMessage("its input is a file on the submitter's disk but it has no input key")
        elif not (isinstance(job_input.url, str) and job_input.url.lower().startswith(("http://", "https://"))):
            raise MalformedMessage("its input is neither a stored file nor an http(s) URL")


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"it has no {name}" if value is None else f"its {name} is not text")
    return value


def _optional(data: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise MalformedMessage(f"its {name} is a {type(value).__name__}")
    return value


def _list(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedMessage(f"its {name} is not a list of keys")
    return value


def _mapping(data: dict[str, Any], name: str) -> dict[str, str]:
    value = data.get(name) or {}
    if not isinstance(value, dict) or not all(isinstance(key, str) and isinstance(item, str) for key, item in value.items()):
        raise MalformedMessage(f"its {name} is not a map of names to keys")
    return dict(value)


def _job(data: object) -> Job:
    if not isinstance(data, dict):
        raise MalformedMessage("it has no job" if data is None else "its job is not a job")
    try:
        job = Job.from_dict(data)
        # Every part a worker reads must have the type it expects, or the job would fail as a bug later.
        if not isinstance(job.input.name, str) or not isinstance(job.output, Path) or not isinstance(job.backend, str):
            raise TypeError("a part has the wrong type")
        return job
    except MalformedMessage:
        raise
    except Exception as error:  # noqa: BLE001 - anything at all may come off a queue
        raise MalformedMessage(f"its job cannot be read ({_reason(error)})") from None


def _reason(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r}" if error.args else "a part is missing"
    text = str(error).split("\n")[0][:200]
    return printable(redact(f"{type(error).__name__}: {text}" if text else type(error).__name__))
