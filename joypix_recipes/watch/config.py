"""What a hot-folder watcher serves: `WatchConfig` and its flows, from CLI arguments or a watch file.

A watch file is YAML (read like a recipe: YAML 1.2 scalars, no duplicate keys) validated against
schemas/watch.schema.json; every problem is reported at once as FILE:LINE:COL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from joypix_recipes.errors import Problem, RecipeError, WatchError
from joypix_recipes.recipe.schema import validate_against
from joypix_recipes.recipe.source import DataPath, Document, load_yaml

DEFAULT_SETTLE_SECONDS = 1.0
DEFAULT_RESCAN_SECONDS = 30.0


@dataclass(frozen=True, eq=False)
class Flow:
    """One hot folder (optionally only names matching ``patterns``) sent through one recipe.

    Compared by identity: two flows with equal settings are still two flows (a watch file may list both).
    """

    folder: Path
    recipe: Path
    out_dir: Path
    name: str = ""
    patterns: tuple[str, ...] = ()
    backend: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        """How messages name this flow."""
        return self.name or self.folder.name


@dataclass(frozen=True)
class WatchConfig:
    """Everything `watch` needs: the flows and how to notice files."""

    flows: tuple[Flow, ...]
    polling: bool = False
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    rescan_seconds: float = DEFAULT_RESCAN_SECONDS
    concurrency: int | None = None
    source: Path | None = None

    @classmethod
    def from_args(
        cls,
        folder: Path | str,
        recipe: Path | str,
        out_dir: Path | str | None = None,
        backend: str | None = None,
        polling: bool = False,
        settle_seconds: float | None = None,
        rescan_seconds: float | None = None,
        concurrency: int | None = None,
    ) -> WatchConfig:
        """One flow from `joypix watch DIR --recipe FILE [--out DIR] [--backend B] [--polling]`."""
        recipe_path = Path(recipe).resolve()
        flow = Flow(
            folder=_existing_folder(Path(folder)),
            recipe=recipe_path,
            out_dir=Path(out_dir).resolve() if out_dir is not None else recipe_path.parent / "out",
            backend=backend,
        )
        config = cls(
            flows=(flow,),
            polling=polling,
            settle_seconds=DEFAULT_SETTLE_SECONDS if settle_seconds is None else settle_seconds,
            rescan_seconds=DEFAULT_RESCAN_SECONDS if rescan_seconds is None else rescan_seconds,
            concurrency=concurrency,
        )
        config.check()
        return config

    def with_polling(self, polling: bool = True) -> WatchConfig:
        """The same config, observing by polling (``--polling`` on top of a watch file)."""
        return replace(self, polling=polling)

    def check(self) -> None:
        """Refuse settings that cannot work (missing recipe, output inside a hot folder's own level)."""
        if self.settle_seconds <= 0:
            raise WatchError("the settle time must be more than 0 seconds")
        if self.rescan_seconds <= 0:
            raise WatchError("the rescan interval must be more than 0 seconds")
        for flow in self.flows:
            if not flow.recipe.is_file():
                raise WatchError(f"recipe {flow.recipe} does not exist; give the path of a recipe file")
            if overlaps(flow):
                raise WatchError(
                    f"the output folder {flow.out_dir} holds the hot folder {flow.folder}, so outputs could be"
                    " taken as inputs; choose an --out outside it"
                )


def overlaps(flow: Flow) -> bool:
    """True when the output folder is the hot folder or contains it (outputs could come back as inputs)."""
    out_dir = flow.out_dir.resolve()
    return out_dir == flow.folder or out_dir in flow.folder.parents


def _existing_folder(folder: Path) -> Path:
    resolved = folder.resolve()
    if not resolved.is_dir():
        raise WatchError(f"hot folder {folder} does not exist or is not a folder; create it first")
    return resolved


def watch_schema_text() -> str:
    """The watch file JSON Schema, as shipped in the package."""
    return resources.files("joypix_recipes").joinpath("schemas/watch.schema.json").read_text("utf-8")


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The watch file JSON Schema as a mapping."""
    schema: dict[str, Any] = json.loads(watch_schema_text())
    return schema


def load_watch_file(path: Path | str) -> WatchConfig:
    """Read and validate a watch file; raise WatchError listing every problem as FILE:LINE:COL."""
    path = Path(path)
    document = _read(path)
    problems = validate_against(document, load_schema(), "the watch file")
    data: dict[str, Any] = document.data
    base = path.resolve().parent
    flows = []
    entries = data.get("flows")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        # Folders and recipes are checked even when other keys are wrong: every problem at once.
        if not (isinstance(entry, dict) and isinstance(entry.get("folder"), str) and isinstance(entry.get("recipe"), str)):
            continue
        flow, flow_problems = _flow(document, base, entry, data.get("backend"), ("flows", index))
        problems.extend(flow_problems)
        if flow is not None:
            flows.append(flow)
    if not problems:
        problems.extend(_clash_problems(document, flows))
    if problems:
        raise WatchError(_join(problems))
    return WatchConfig(
        flows=tuple(flows),
        polling=bool(data.get("polling", False)),
        settle_seconds=float(data.get("settle_seconds", DEFAULT_SETTLE_SECONDS)),
        rescan_seconds=float(data.get("rescan_seconds", DEFAULT_RESCAN_SECONDS)),
        concurrency=data.get("concurrency"),
        source=path.resolve(),
    )


def _join(problems: list[Problem]) -> str:
    ordered = sorted(problems, key=lambda p: (p.line, p.column))
    return "\n".join(str(problem) for problem in dict.fromkeys(ordered))


def _at(document: Document, where: DataPath, message: str) -> Problem:
    """A problem at the value ``where`` (or its nearest ancestor: a missing key points at its parent)."""
    return document.problem(document.value_span(where), message)


def _read(path: Path) -> Document:
    """The YAML with node positions, read as recipes are (YAML 1.2 scalars, no duplicates, size limits)."""
    if not path.is_file():
        raise WatchError(f"watch file {path} does not exist; give the path of a watch file")
    try:
        document = load_yaml(path, str(path))
    except RecipeError as e:
        raise WatchError(str(e)) from e
    if not isinstance(document.data, dict):
        span = document.value_span(())
        raise WatchError(str(document.problem(span, "a watch file is a mapping with version and flows")))
    return document


def _flow(
    document: Document, base: Path, entry: dict[str, Any], default_backend: str | None, where: DataPath
) -> tuple[Flow | None, list[Problem]]:
    problems = []
    folder = (base / entry["folder"]).resolve()
    if not folder.is_dir():
        problems.append(_at(document, (*where, "folder"), f"folder '{entry['folder']}' not found (looked for {folder})"))
    recipe = (base / entry["recipe"]).resolve()
    if not recipe.is_file():
        problems.append(_at(document, (*where, "recipe"), f"recipe '{entry['recipe']}' not found (looked for {recipe})"))
    if problems:
        return None, problems
    out_dir = (base / entry["out"]).resolve() if "out" in entry else recipe.parent / "out"
    flow = Flow(
        folder=folder,
        recipe=recipe,
        out_dir=out_dir,
        name=entry.get("name", ""),
        patterns=tuple(entry.get("patterns", ())),
        backend=entry.get("backend", default_backend),
        vars=dict(entry.get("vars", {})),
    )
    if overlaps(flow):
        message = "the output folder must not be the hot folder or hold it (outputs could be taken as inputs)"
        return None, [_at(document, (*where, "out"), message)]
    return flow, []


def _clash_problems(document: Document, flows: list[Flow]) -> list[Problem]:
    """A flow that takes every file in a folder hides any later flow on the same folder."""
    problems = []
    catch_all: dict[Path, int] = {}
    for index, flow in enumerate(flows):
        if flow.folder in catch_all:
            earlier = catch_all[flow.folder] + 1
            message = f"flow {index + 1} is never used: flow {earlier} takes every file in {flow.folder.name}; give it patterns"
            problems.append(_at(document, ("flows", index), message))
        elif not flow.patterns:
            catch_all[flow.folder] = index
    return problems
