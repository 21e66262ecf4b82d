"""Which paths in a hot folder are inputs: only images; temporary, hidden, our own and foreign files are never taken."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from joypix_recipes.atomic import PARTIAL_SUFFIX
from joypix_recipes.recipe.inputs import IMAGE_SUFFIXES
from joypix_recipes.watch.config import Flow

DONE = "done"
FAILED = "failed"

# Browsers, office suites, rsync and sync clients write under these names and rename when finished.
# Our own temp files start with a dot and carry PARTIAL_SUFFIX; our notes end in .error.txt or .duplicate.txt.
IGNORED_SUFFIXES = (".part", ".crdownload", ".tmp", ".download", PARTIAL_SUFFIX, ".error.txt", ".duplicate.txt")
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", "icon\r"})


def is_ignored_name(name: str) -> bool:
    """True for names that are never inputs: dotfiles, partial downloads, office lock files, our temp files."""
    lowered = name.lower()
    return (
        name.startswith((".", "~$"))
        or lowered in IGNORED_NAMES
        or lowered.endswith(IGNORED_SUFFIXES)
    )


def is_image_name(name: str) -> bool:
    """True for the names of images a recipe can start from (by suffix, as `joypix run --input FOLDER` picks them)."""
    return Path(name).suffix.lower() in IMAGE_SUFFIXES


NOT_AN_IMAGE = f"not an image (a hot folder takes {', '.join(sorted(IMAGE_SUFFIXES))} files); left where it is"


def matches(name: str, patterns: Sequence[str]) -> bool:
    """True when ``name`` matches one of the glob ``patterns`` (case-insensitive), or there are none."""
    if not patterns:
        return True
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


class Router:
    """Maps a path reported by the observer to the flow that takes it, or None."""

    def __init__(self, flows: Iterable[Flow], excluded: Iterable[Path] = ()) -> None:
        self.flows = tuple(flows)
        self.folders = tuple(dict.fromkeys(flow.folder for flow in self.flows))
        # Our recipes, watch file and outputs must never come back as inputs.
        self.excluded = frozenset(
            {path.resolve() for path in excluded} | {flow.recipe for flow in self.flows}
        )

    def route(self, path: Path) -> Flow | None:
        """The flow for a file directly inside a hot folder, or None if it is not an input.

        Only the folder's own level is watched, so done/, failed/ and an output folder inside it are
        never seen; an output folder that is (or contains) the hot folder is refused by the config.
        """
        if not is_image_name(path.name):
            return None
        return self._flow_for(path)

    def left_alone(self, path: Path) -> bool:
        """True for a file a flow's patterns would take but that is not an image: it stays, and is reported once."""
        return not is_image_name(path.name) and self._flow_for(path) is not None

    def _flow_for(self, path: Path) -> Flow | None:
        if path.parent not in self.folders or is_ignored_name(path.name) or path in self.excluded:
            return None
        for flow in self.flows:
            if flow.folder == path.parent and matches(path.name, flow.patterns):
                return flow
        return None

    def is_regular_inside(self, path: Path) -> bool:
        """A regular file; a symlink only if it resolves to a file inside its own folder."""
        try:
            if path.is_symlink():
                target = path.resolve(strict=True)
                return target.parent == path.parent and target.is_file() and not target.is_symlink()
            return path.is_file()
        except OSError:
            return False

    def scan(self) -> list[Path]:
        """Every candidate currently in the hot folders (the backlog, or a rescan), and the files left alone."""
        found = []
        for folder in self.folders:
            try:
                with os.scandir(folder) as entries:
                    names = [entry.name for entry in entries if _is_file_or_link(entry)]
            except OSError:
                continue  # a share that went away; the supervisor reports it
            for name in sorted(names):
                path = folder / name
                if self.route(path) is not None or self.left_alone(path):
                    found.append(path)
        return found


def _is_file_or_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink() or entry.is_file(follow_symlinks=False)
    except OSError:
        return False

