"""A job: one input through one variant of a recipe, fully rendered and self-contained.

A job is plain data that round-trips through JSON, so it can be journaled, sent to a worker process
or, later, to a distributed job engine. Its identity hashes the input's bytes and its specification,
so editing a step or replacing an image changes exactly the affected identities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from joypix_recipes.job.export import ExportSettings
from joypix_recipes.job.kinds.kind import Action
from joypix_recipes.job.kinds.registry import action_from_dict, action_to_dict, kind_of
from joypix_recipes.printable import printable

if TYPE_CHECKING:
    from hashlib import _Hash


def _sha256(data: bytes = b"") -> _Hash:
    """A SHA-256 hash object; hashlib (and OpenSSL) load only when a job's identity is needed."""
    import hashlib

    return hashlib.sha256(data)


UnknownPhrases = Literal["fail", "warn"]


@dataclass(frozen=True)
class JobInput:
    """The image a job starts from: a local file (absolute path) or a URL.

    A group (several images that become one clip) lists every image in ``images``, in order;
    ``path`` is then its first image and ``name`` the group's name (its folder, or the first stem).
    """

    name: str
    stem: str
    suffix: str
    index: int
    path: Path | None = None
    url: str | None = None
    images: tuple[Path, ...] = ()
    row: str = ""
    """The table row it came from (its key, or "line 4"); empty when it was not a table's."""

    @property
    def files(self) -> tuple[Path, ...]:
        """Every local image file the job reads, in order (one for a single image, none for a URL)."""
        if self.images:
            return self.images
        return (self.path,) if self.path is not None else ()

    @property
    def display(self) -> str:
        """How messages name this input (control characters escaped)."""
        return printable(str(self.path) if self.path is not None else str(self.url))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form; paths absolute."""
        return {
            "name": self.name,
            "stem": self.stem,
            "suffix": self.suffix,
            "index": self.index,
            "path": str(self.path) if self.path is not None else None,
            "url": self.url,
            **({"images": [str(image) for image in self.images]} if self.images else {}),
            **({"row": self.row} if self.row else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobInput:
        """Inverse of ``to_dict``."""
        path = data.get("path")
        return cls(
            name=data["name"],
            stem=data["stem"],
            suffix=data["suffix"],
            index=int(data["index"]),
            path=Path(path) if path else None,
            url=data.get("url"),
            images=tuple(Path(image) for image in data.get("images", ())),
            row=str(data.get("row", "")),
        )


@dataclass(frozen=True)
class PlannedStep:
    """A recipe step after templating: a display name and the action it asks for."""

    name: str
    action: Action

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., <kind>: <body>}``."""
        return {"name": self.name, **action_to_dict(self.action)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannedStep:
        """Inverse of ``to_dict``."""
        body = {key: value for key, value in data.items() if key != "name"}
        return cls(name=str(data.get("name", "")), action=action_from_dict(body))


@dataclass(frozen=True)
class Job:
    """Everything needed to make one output file, with no reference back to the recipe object."""

    recipe_name: str
    recipe_path: Path
    input: JobInput
    variant: str | None
    steps: tuple[PlannedStep, ...]
    export: ExportSettings
    output: Path
    backend: str = "local"
    seed: int = 0
    unknown_phrases: UnknownPhrases = "fail"
    vars: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        """Short human name: ``photo.jpg`` or ``photo.jpg [reels]`` (control characters escaped)."""
        name = printable(self.input.name)
        return f"{name} [{self.variant}]" if self.variant else name

    def spec(self) -> dict[str, Any]:
        """What the output depends on besides the input bytes (not where it is written)."""
        return {
            "steps": [step.to_dict() for step in self.steps],
            "export": self.export.to_dict(),
            "backend": self.backend,
            "seed": self.seed,
            "unknown_phrases": self.unknown_phrases,
        }

    def spec_hash(self) -> str:
        """SHA-256 of the canonical JSON of ``spec()``."""
        import json

        canonical = json.dumps(self.spec(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return _sha256(canonical.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form; paths absolute."""
        return {
            "recipe_name": self.recipe_name,
            "recipe_path": str(self.recipe_path),
            "input": self.input.to_dict(),
            "variant": self.variant,
            "output": str(self.output),
            "vars": self.vars,
            **self.spec(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        """Inverse of ``to_dict``."""
        return cls(
            recipe_name=data["recipe_name"],
            recipe_path=Path(data["recipe_path"]),
            input=JobInput.from_dict(data["input"]),
            variant=data.get("variant"),
            steps=tuple(PlannedStep.from_dict(step) for step in data["steps"]),
            export=ExportSettings.from_dict(data["export"]),
            output=Path(data["output"]),
            backend=data.get("backend", "local"),
            seed=int(data.get("seed", 0)),
            unknown_phrases=data.get("unknown_phrases", "fail"),
            vars=dict(data.get("vars", {})),
        )


def attached_files(job: Job) -> tuple[str, ...]:
    """Files besides the images that the job's steps name by absolute path: audio tracks and caption fonts."""
    named = [name for step in job.steps for name in kind_of(step.action).files(step.action)]
    return tuple(dict.fromkeys(named))


def with_attached_files(job: Job, moved: Mapping[str, str]) -> Job:
    """The job reading each attached file from where ``moved`` puts it (keyed by the path the job names)."""
    steps = tuple(replace(step, action=kind_of(step.action).with_files(step.action, moved)) for step in job.steps)
    return replace(job, steps=steps)


def named_file(job: Job, name: str) -> Path | None:
    """A file a prompt names: as given when absolute, else beside the recipe, else beside the input image."""
    path = Path(name).expanduser()
    candidates = (
        [path]
        if path.is_absolute()
        else [job.recipe_path.parent / path, *([job.input.path.parent / path] if job.input.path else [])]
    )
    return next((candidate.resolve() for candidate in candidates if candidate.is_file()), None)


def hash_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks so large photos do not fill memory."""
    digest = _sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def input_hash(job_input: JobInput) -> str:
    """Content hash of a job's input: the file's bytes (every image's, in order, for a group), or the URL text."""
    if job_input.images:
        hashes = ":".join(hash_file(image) for image in job_input.images)
        return _sha256(f"group:{hashes}".encode("ascii")).hexdigest()
    if job_input.path is not None:
        return hash_file(job_input.path)
    return _sha256(str(job_input.url).encode("utf-8")).hexdigest()


def job_identity(job: Job, content_hash: str) -> str:
    """Identity of a job: its input's content hash (``input_hash``, computed once per job), its specification,
    and the bytes of every attached file (audio, fonts), so replacing one under the same name makes the clip again.

    A job with no attached file keeps the identity it always had.
    """
    attached = attached_files(job)
    if attached:
        digests = ",".join(f"{len(name)}:{name}={attached_hash(Path(name))}" for name in attached)
        content_hash = f"{content_hash}+{_sha256(digests.encode()).hexdigest()}"
    return _sha256(f"{content_hash}:{job.spec_hash()}".encode("ascii")).hexdigest()[:32]


_ATTACHED_HASHES: dict[tuple[str, int, int, int], str] = {}
_ATTACHED_CACHE_SIZE = 256


def attached_hash(path: Path) -> str:
    """SHA-256 of an attached file, read once per (path, size, modification time, inode) however many jobs share it;
    "unreadable" when it cannot be read (the job then fails on it, and a readable file later is a change)."""
    try:
        status = path.stat()
    except OSError:
        return "unreadable"
    # The inode too: a file replaced by a copy that kept the old one's size and time is still a new file.
    key = (str(path), status.st_size, status.st_mtime_ns, status.st_ino)
    if key not in _ATTACHED_HASHES:
        try:
            digest = hash_file(path)
        except OSError:
            return "unreadable"
        if len(_ATTACHED_HASHES) >= _ATTACHED_CACHE_SIZE:
            _ATTACHED_HASHES.pop(next(iter(_ATTACHED_HASHES)))
        _ATTACHED_HASHES[key] = digest
    return _ATTACHED_HASHES[key]


POSTER_SUFFIX = ".jpg"


def poster_path(output: Path) -> Path:
    """Where the poster of ``output`` is written: beside it, same name, ``.jpg``."""
    return output.with_suffix(POSTER_SUFFIX)


_COMMENT_PREFIX = "joypix job "


def output_metadata(job: Job, identity: str) -> dict[str, str]:
    """Container tags every MP4 carries, so a file found later leads back to its recipe and job."""
    return {"comment": identity_comment(identity), "title": job.recipe_name}


def identity_comment(identity: str) -> str:
    """The comment that carries a job identity inside a clip or a poster."""
    return f"{_COMMENT_PREFIX}{identity}"


def identity_from_comment(comment: str) -> str | None:
    """The job identity in a comment written by ``output_metadata``, or None."""
    if not comment.startswith(_COMMENT_PREFIX):
        return None
    identity = comment[len(_COMMENT_PREFIX) :].strip()
    return identity if identity.isalnum() else None
