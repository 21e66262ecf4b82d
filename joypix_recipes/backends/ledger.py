"""The ledger of one job: what it has paid for on the cloud, so nothing is ever paid twice.

A backend writes an entry through ``JobReporter.record`` *before* it sends the paid request the entry
stands for, and the runner (or the farm worker) keeps it durably, through failed, cancelled and killed
attempts. The next attempt at the job gets the ledger back and settles each entry against the
service's own state: what landed is reused, what is proven absent is sent again, and what cannot be
decided either way fails the job without paying twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Upload:
    """A file sent into the session: ``source`` is the path or URL; ``name`` is what the service called it."""

    source: str
    name: str | None = None
    """None until the service answered (the upload may or may not have landed)."""


@dataclass(frozen=True)
class Ledger:
    """What a job's cloud session holds and what it cost, in the order it was paid.

    ``basis`` fingerprints everything about the job but its steps (input bytes, export settings): a
    later job with the same basis whose steps begin with ``steps`` can continue the same session.
    ``steps`` holds the fingerprint of each turn sent (or about to be sent), in order; ``render_id``
    is chosen and written before its POST.
    """

    session_id: str | None = None
    basis: str | None = None
    uploads: tuple[Upload, ...] = ()
    steps: tuple[str, ...] = ()
    render_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Fields written by a newer version of joypix, kept as they were."""

    @property
    def empty(self) -> bool:
        """Nothing was paid: no session, hence no turn, upload or render."""
        return self.session_id is None

    def with_session(self, session_id: str, basis: str) -> Ledger:
        """A fresh session: nothing in it is paid yet."""
        return Ledger(session_id=session_id, basis=basis)

    def with_upload(self, upload: Upload) -> Ledger:
        """One more upload, or the service's name for one already listed (matched by source)."""
        uploads = list(self.uploads)
        for index, known in enumerate(uploads):
            if known.source == upload.source:
                uploads[index] = upload
                return replace(self, uploads=tuple(uploads))
        return replace(self, uploads=(*uploads, upload))

    def with_step(self, fingerprint: str) -> Ledger:
        """One more turn in the session; any render of the shorter timeline no longer matches it."""
        return replace(self, steps=(*self.steps, fingerprint), render_id=None)

    def with_render(self, render_id: str | None) -> Ledger:
        """The render of the session's timeline as it stands (None: forget a render proven unusable)."""
        return replace(self, render_id=render_id)

    def upload_named(self, source: str) -> Upload | None:
        """The upload of ``source`` in this session, if one was sent."""
        return next((upload for upload in self.uploads if upload.source == source), None)

    def to_json(self) -> str:
        """The ledger as one JSON object (what the journal and the farm's records keep)."""
        data: dict[str, Any] = {
            **self.extra,
            "session_id": self.session_id,
            "basis": self.basis,
            "uploads": [{"source": upload.source, "name": upload.name} for upload in self.uploads],
            "steps": list(self.steps),
            "render_id": self.render_id,
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> Ledger | None:
        """The ledger ``to_json`` wrote; None for nothing or for text that is not one (never an error)."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        uploads = tuple(
            Upload(str(entry["source"]), _text(entry.get("name")))
            for entry in data.get("uploads") or ()
            if isinstance(entry, dict) and isinstance(entry.get("source"), str)
        )
        steps = data.get("steps")
        known = {"session_id", "basis", "uploads", "steps", "render_id"}
        return cls(
            session_id=_text(data.get("session_id")),
            basis=_text(data.get("basis")),
            uploads=uploads,
            steps=tuple(str(step) for step in steps) if isinstance(steps, list) else (),
            render_id=_text(data.get("render_id")),
            extra={key: value for key, value in data.items() if key not in known},
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
