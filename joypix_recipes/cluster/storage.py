"""Files between machines through fsspec: inputs stored once by content hash, outputs by job identity.

An output appears under its final key whole or not at all: on a shared folder it is copied under a
temporary name and renamed; on object storage a single upload only becomes visible when complete.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from joypix_recipes.cluster.errors import StorageError, StorageUnreachable
from joypix_recipes.printable import printable
from joypix_recipes.redact import redact

TEMP_SUFFIX = ".partial"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _storage_failures() -> tuple[type[BaseException], ...]:
    """Exception types fsspec's file systems raise for an unreachable, refusing or full store."""
    failures: list[type[BaseException]] = [OSError, ValueError]
    with contextlib.suppress(ImportError):
        from botocore.exceptions import BotoCoreError, ClientError

        failures += [BotoCoreError, ClientError]
    with contextlib.suppress(ImportError):
        from aiohttp import ClientError as HttpClientError

        failures.append(HttpClientError)
    return tuple(failures)


def _unreachable_failures() -> tuple[type[BaseException], ...]:
    """The failures that mean the store did not answer at all, as opposed to answering no."""
    failures: list[type[BaseException]] = [ConnectionError, TimeoutError]
    with contextlib.suppress(ImportError):
        from botocore.exceptions import (
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        failures += [ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError]
    with contextlib.suppress(ImportError):
        from aiohttp import ClientConnectionError

        failures.append(ClientConnectionError)
    return tuple(failures)


_FAILURES = _storage_failures()
_UNREACHABLE = _unreachable_failures()


class Storage:
    """One storage URL (``file:///mnt/share/farm``, ``s3://bucket/prefix``) seen as keys under a root."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.public = redact(url)
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as e:
            raise StorageError(f"cannot use the storage {self.public}: {e}") from e
        self.root = self.root.rstrip("/")
        self.is_folder = isinstance(self.fs, LocalFileSystem)

    def path(self, key: str) -> str:
        """The file system path of a key; StorageError for a key that would lead outside the root."""
        if not is_safe_key(key):
            raise StorageError(f"refusing the storage key {printable(key)!r}: it leads outside the storage {self.public}")
        return f"{self.root}/{key}"

    def exists(self, key: str) -> bool:
        """Whether a key has a committed file."""
        return bool(self._call("read", key, self.fs.exists, self.path(key)))

    def stage_input(self, local: Path, content_hash: str) -> str:
        """Put an input under its content hash unless it is there already; returns its key."""
        key = input_key(content_hash, local.suffix)
        if not self.exists(key):
            self.commit(local, key)
        return key

    def fetch(self, key: str, local: Path) -> None:
        """Copy a key to a local file."""
        self._call("read", key, self.fs.get_file, self.path(key), str(local))

    def commit(self, local: Path, key: str) -> None:
        """Publish a local file under ``key`` atomically."""
        final = self.path(key)
        if not self.is_folder:
            self._call("write", key, self.fs.put_file, str(local), final)
            return
        parent = final.rsplit("/", 1)[0]
        temp = temp_path(final)
        try:
            self._call("write", key, self.fs.makedirs, parent, exist_ok=True)
            self._call("write", key, self.fs.put_file, str(local), temp)
            # os.replace, not fs.mv: a move into a folder that happens to sit at the final name is no commit.
            self._call("write", key, os.replace, temp, final)
        except StorageError:
            with contextlib.suppress(*_FAILURES):
                self.fs.rm_file(temp)
            raise

    def remove(self, key: str) -> None:
        """Delete a key if present."""
        with contextlib.suppress(FileNotFoundError):
            self._call("write", key, self.fs.rm_file, self.path(key))

    def check(self) -> None:
        """Write, read back and delete a probe; raises StorageError with the reason."""
        import tempfile

        key = f"probes/{uuid.uuid4().hex}.txt"
        with tempfile.TemporaryDirectory() as folder:
            probe = Path(folder) / "probe.txt"
            probe.write_text("joypix storage probe\n")
            self.commit(probe, key)
            self.fetch(key, Path(folder) / "back.txt")
            self.remove(key)

    def _call(self, action: str, key: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except FileNotFoundError:
            if action == "read":
                raise StorageError(f"{key} is missing from the storage {self.public}; submit the job again") from None
            raise StorageError(f"cannot write {key} to the storage {self.public}: the location does not exist") from None
        except _FAILURES as e:
            reason = (e.strerror if isinstance(e, OSError) and e.strerror else str(e).split("\n")[0]) or type(e).__name__
            kind = StorageUnreachable if _unreachable(e) else StorageError
            raise kind(f"cannot {action} {key} in the storage {self.public}: {reason}") from e


def _unreachable(error: BaseException) -> bool:
    """Whether the store did not answer, looking through the wrappers fsspec's file systems put around it."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, _UNREACHABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_safe_key(key: str) -> bool:
    """Whether ``key`` names a file inside the storage root: relative, no ``.`` or ``..`` part, no empty part,
    no backslash and no control character."""
    return (
        bool(key)
        and "\\" not in key
        and not _CONTROL.search(key)
        and all(part not in ("", ".", "..") for part in key.split("/"))
    )


def temp_path(final: str) -> str:
    """Where a file is copied before its rename: beside it, hidden, ending in ``.partial`` (no media extension)."""
    parent, name = final.rsplit("/", 1)
    return f"{parent}/.{name}.{uuid.uuid4().hex}{TEMP_SUFFIX}"


def input_key(content_hash: str, suffix: str) -> str:
    """Where an input with these bytes lives: the same photo is uploaded once, whoever submits it."""
    return f"inputs/{content_hash[:2]}/{content_hash}{suffix.lower()}"


def output_key(identity: str, name: str) -> str:
    """Where a job's output (or poster) lives: one folder per job identity."""
    return f"outputs/{identity}/{name}"
