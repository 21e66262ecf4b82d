"""What the page shows: a card per job (its draft, prompts and planned length), the recipe's problems, its vars
as a form with the --var flags that reproduce it, and the final render's progress.

The state changes only on the event loop; every change gives a new snapshot, which is what the page is sent.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from joypix_recipes.job.actions import Prompt
from joypix_recipes.job.model import Job, poster_path
from joypix_recipes.run.preview import preview_folder, preview_path
from joypix_recipes.studio.planning import Planned, Reader

CardStatus = Literal["waiting", "rendering", "ready", "failed"]
FILES = "/files/"
"""Where the page asks for the recipe's drafts and outputs."""
REPORT = "report.html"


@dataclass(frozen=True)
class Step:
    """A step as a card shows it: its name and what it asks for (a prompt as the text it was rendered to, and
    what the local interpreter understood of it when that is known)."""

    name: str
    text: str
    understood: str | None = None


@dataclass(frozen=True)
class Card:
    """One job: ``key`` stays the same across edits (its output's place), ``identity`` changes with its draft."""

    key: str
    label: str
    identity: str
    steps: tuple[Step, ...]
    length_s: float
    status: CardStatus = "waiting"
    preview: str | None = None
    poster: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Final:
    """A clip of the final render: where it is served once done."""

    label: str
    status: str
    url: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Render:
    """The final render started from the page."""

    running: bool = False
    total: int = 0
    finals: tuple[Final, ...] = ()
    report: str | None = None
    error: str | None = None


@dataclass
class StudioState:
    """The recipe's latest plan as cards, the form's vars, and the final render, for one recipe and output folder."""

    recipe_path: Path
    out_dir: Path
    command_vars: Mapping[str, str]
    reader: Reader
    form_vars: dict[str, str] = field(default_factory=dict)
    planned: Planned = field(default_factory=Planned)
    cards: dict[str, Card] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()
    """The jobs the cards show: the last plan that made any (a broken save keeps them on the page)."""
    render: Render = field(default_factory=Render)
    version: int = 0

    def var_overrides(self) -> dict[str, str]:
        """The --var values the recipe is planned with: the command line's, then the form's."""
        return {**self.command_vars, **self.form_vars}

    def defaults(self) -> Mapping[str, str]:
        """The recipe's own vars (the last ones read, while the recipe does not load)."""
        return self.planned.defaults or {}

    def apply(self, planned: Planned) -> tuple[Job, ...]:
        """Take a new plan; the jobs whose drafts must be made (new identities). A plan with problems keeps the cards."""
        defaults = planned.defaults if planned.defaults is not None else self.planned.defaults
        self.planned = replace(planned, defaults=defaults)
        self.version += 1
        if planned.problems and not planned.jobs:
            return ()
        changed: list[Job] = []
        cards: dict[str, Card] = {}
        for job, identity in zip(planned.jobs, planned.identities, strict=True):
            key = self.key(job)
            old = self.cards.get(key)
            if old is not None and old.identity == identity:
                card = replace(old, label=job.label)
            else:
                card = Card(key, job.label, identity, _steps(job, self.reader), round(self.reader.length_of(job), 3), "waiting",
                            old.preview if old is not None else None, old.poster if old is not None else None)
                changed.append(job)
            cards[key] = card
        self.cards = cards
        self.jobs = planned.jobs
        return tuple(changed)

    def key(self, job: Job) -> str:
        """A job's card key: its draft's place under the output folder."""
        return preview_path(job, self.out_dir).relative_to(self.out_dir).as_posix()

    def draft_started(self, key: str, identity: str) -> None:
        """The draft of the card's current version is being made."""
        self._update(key, identity, status="rendering", error=None)

    def draft_ended(
        self, key: str, identity: str, ok: bool, error: str | None, warnings: tuple[str, ...] = ()
    ) -> None:
        """A draft was made (its file now plays on the card, its identity in the address so browsers fetch it anew) or failed."""
        if ok:
            poster = poster_path(Path(key)).as_posix()
            self._update(
                key, identity, status="ready", preview=f"{FILES}{key}?v={identity}",
                poster=f"{FILES}{poster}?v={identity}" if (self.out_dir / poster).is_file() else None, error=None,
                warnings=warnings,
            )
        else:
            self._update(key, identity, status="failed", error=error, warnings=warnings)

    def _update(self, key: str, identity: str, **changes: Any) -> None:
        card = self.cards.get(key)
        # A draft of an earlier version of the job: the card already waits for the newer one.
        if card is not None and card.identity == identity:
            self.cards[key] = replace(card, **changes)
            self.version += 1

    def set_render(self, render: Render) -> None:
        """The final render moved on."""
        self.render = render
        self.version += 1

    def served_files(self) -> frozenset[str]:
        """Every file the page may fetch, relative to the output folder: drafts, finals, their posters, the reports."""
        names = {REPORT, f"{preview_folder(Path('.')).as_posix()}/{REPORT}"}
        for job in self.jobs:
            for output in (preview_path(job, self.out_dir), job.output):
                for path in (output, poster_path(output)):
                    if path.is_relative_to(self.out_dir):
                        names.add(path.relative_to(self.out_dir).as_posix())
        for final in self.render.finals:
            if final.url is not None:
                names.add(final.url.removeprefix(FILES))
        return frozenset(names)

    def flags(self) -> str:
        """The --var flags that plan what the page shows (the values that differ from the recipe's own)."""
        defaults = self.defaults()
        given = {name: value for name, value in self.var_overrides().items() if defaults.get(name) != value}
        return " ".join(f"--var {shlex.quote(f'{name}={value}')}" for name, value in sorted(given.items()))

    def snapshot(self) -> dict[str, Any]:
        """What the page is sent: everything it shows, as JSON-ready data."""
        defaults = self.defaults()
        overrides = self.var_overrides()
        return {
            "version": self.version,
            "recipe": self.recipe_path.name,
            "problems": list(self.planned.problems),
            "warnings": list(self.planned.warnings),
            "cards": [asdict(card) for card in self.cards.values()],
            "vars": [{"name": name, "value": overrides.get(name, value), "default": value} for name, value in defaults.items()],
            "flags": self.flags(),
            "backend": self.jobs[0].backend if self.jobs else None,
            "render": asdict(self.render),
        }

    def snapshot_json(self) -> str:
        """The snapshot as one line of JSON (an event's data)."""
        return json.dumps(self.snapshot(), ensure_ascii=False)


def _steps(job: Job, reader: Reader) -> tuple[Step, ...]:
    said = list(reader.words_of(job)) if reader.words_of is not None else [None] * len(job.steps)
    shown = []
    for step, words in zip(job.steps, said, strict=True):
        action = step.action
        if isinstance(action, Prompt):
            shown.append(Step(step.name, action.text, "; ".join(words) if words else None))
        elif words:
            shown.append(Step(step.name, "; ".join(words)))
        else:
            body = step.to_dict()
            body.pop("name", None)
            shown.append(Step(step.name, json.dumps(next(iter(body.values()), ""), ensure_ascii=False)))
    return tuple(shown)


def final_url(output: Path | None, out_dir: Path) -> str | None:
    """Where the page fetches a final clip, if it lies in the output folder."""
    if output is None or not output.is_relative_to(out_dir):
        return None
    return FILES + output.relative_to(out_dir).as_posix()
