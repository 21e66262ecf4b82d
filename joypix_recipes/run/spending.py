"""What each planned job would pay for, read from the journal's ledgers without touching the network.

``joypix run --dry-run`` shows it per job, so a user sees which steps an earlier run already paid for
(a recipe that only gained steps continues its session) before anything is spent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from joypix_recipes.backends.contract import Backend, BackendOptions
from joypix_recipes.backends.registry import BACKENDS, BackendFactory
from joypix_recipes.job.model import Job, input_hash
from joypix_recipes.run.journal import JOURNAL_FOLDER, JOURNAL_NAME, Journal


def planned_spending(
    jobs: Sequence[Job],
    out_dir: Path,
    options: BackendOptions,
    *,
    force: bool = False,
    backends: Mapping[str, BackendFactory] = BACKENDS,
) -> dict[Path, str]:
    """One line per job that costs something, keyed by its output; ``force`` ignores what was paid."""
    made: dict[str, Backend] = {}
    journal = None
    if not force and (out_dir / JOURNAL_FOLDER / JOURNAL_NAME).is_file():
        journal = Journal.open(out_dir)
    lines: dict[Path, str] = {}
    try:
        for job in jobs:
            factory = backends.get(job.backend)
            if factory is None:
                continue
            backend = made.setdefault(job.backend, factory(options))
            try:
                content = input_hash(job.input)
            except OSError:
                continue  # the run reports the unreadable input
            paid = journal.ledger(job.output) if journal is not None else None
            line = backend.describe_spending(job, content, paid)
            if line is not None:
                lines[job.output] = line
    finally:
        if journal is not None:
            journal.close()
    return lines
