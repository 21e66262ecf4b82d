"""Every `joypix` command the documentation shows runs as written.

The commands come from the fenced shell blocks of README.md and docs/*.md, and from the comment
headers of the example recipes (recipes/*.yaml), which suggest commands of their own. Each runs in a
scratch copy of recipes/, from the folder that holds it, as the repository's root would be.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.repo import REPO
from helpers.runs import start_joypix
from helpers.waiting import wait_until

from joypix_recipes.cli.main import main

SHELL_BLOCKS = ("sh", "bash", "shell", "console")

SKIPPED: tuple[tuple[str, str], ...] = (
    (r"^joypix worker\b", "a render-farm worker needs a Redis broker"),
    (r"--broker\b", "a farm run needs a Redis broker"),
    (r"^joypix watch\b(?!.*--once)", "a hot folder watches until it is stopped"),
)
"""Commands that cannot run offline here, by pattern, with the reason."""
FARM_BLOCK = "JOYPIX_BROKER"
"""A block exporting this sends every later `joypix run` in it to a farm, which needs a Redis broker."""

RENDERED = frozenset({"run recipes/quickstart.yaml"})
"""Runs made in full. Every other `joypix run` gets --dry-run: a full render takes 5-40 s each on a loaded
two-core machine, while planning (inputs, tables, templates, output clashes) is where documented examples
went wrong; the quickstart, which the README promises really renders, proves the render path."""

PLACEHOLDER_FOLDERS = {
    "incoming": ["sample.jpg"],
    "shop/photos": ["sample.jpg"],
    "shop/spring": ["look/02-plum.jpg", "look/03-amber.jpg", "look/04-moss.jpg"],
}
"""Folders of the reader's own photos that examples name, filled here with the sample photos."""

EMULATOR_QUICK = ["--knob", "stub_render=true"]
"""The emulator's own render is slow and not what these commands check; its stub is a real, tiny MP4."""


@dataclass(frozen=True)
class Documented:
    """A command as written, where it is written, and the background commands started before it in its block."""

    where: str
    text: str
    background: tuple[str, ...] = ()
    farm: bool = False

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.text)[1:]


def _fenced_commands(doc: Path) -> Iterator[Documented]:
    text = doc.read_text(encoding="utf-8")
    for block in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        if block.group(1) not in SHELL_BLOCKS:
            continue
        first_line = text.count("\n", 0, block.start(2)) + 1
        background: list[str] = []
        farm = False
        for offset, line in enumerate(block.group(2).splitlines()):
            line = line.strip().removeprefix("$ ")
            if line.startswith("export ") and FARM_BLOCK in line:
                farm = True
            for segment in (part.strip() for part in line.split("&&")):
                words = shlex.split(segment, comments=True)
                if not words or Path(words[0]).name != "joypix":
                    continue
                command = shlex.join(["joypix", *(word for word in words[1:] if word != "&")])
                if words[-1] == "&" or segment.endswith("&"):
                    background.append(command)
                    continue
                where = f"{doc.relative_to(REPO).as_posix()}:{first_line + offset}"
                yield Documented(where, command, tuple(background), farm)


def _recipe_header_commands(recipe: Path) -> Iterator[Documented]:
    for number, line in enumerate(recipe.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.startswith("#"):
            break
        found = re.search(r"\bjoypix (.*)", line)
        if found:
            # Two spaces end the command: what follows ("-> out/...", "(a table as --input)") explains it.
            command = re.split(r"\s{2,}", found.group(0).strip())[0]
            yield Documented(f"{recipe.relative_to(REPO).as_posix()}:{number}", command)


def documented_commands() -> list[Documented]:
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    found = [command for doc in docs for command in _fenced_commands(doc)]
    found += [command for recipe in sorted((REPO / "recipes").glob("*.yaml")) for command in _recipe_header_commands(recipe)]
    unique: dict[tuple[str, tuple[str, ...], bool], Documented] = {}
    for command in found:
        unique.setdefault((command.text, command.background, command.farm), command)
    return list(unique.values())


def _skip_reason(command: Documented) -> str | None:
    if command.farm and command.argv[:1] == ["run"]:
        return f"a farm run ({FARM_BLOCK} is exported above it) needs a Redis broker"
    for pattern, reason in SKIPPED:
        if re.search(pattern, command.text):
            return reason
    return None


COMMANDS = documented_commands()


def test_the_documentation_shows_the_commands_this_file_is_meant_to_check() -> None:
    texts = {command.text for command in COMMANDS}
    assert "joypix run recipes/quickstart.yaml" in texts  # the README's quickstart
    assert "joypix run recipes/quickstart.yaml --input recipes/samples/catalogue.csv" in texts
    assert any(command.background for command in COMMANDS)  # the README's emulator pair
    assert all(any(re.search(p, c.text) for c in COMMANDS) for p, _ in SKIPPED), "a skip pattern matches nothing"


def _free_port_pair() -> int:
    """A port whose next one is free too (the emulator serves downloads on port + 1)."""
    for _ in range(20):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise AssertionError("no two adjacent free ports")


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "recipes", root / "recipes", ignore=shutil.ignore_patterns("out", ".joypix"))
    for folder, samples in PLACEHOLDER_FOLDERS.items():
        (root / folder).mkdir(parents=True)
        for sample in samples:
            shutil.copy(REPO / "recipes" / "samples" / sample, root / folder)
    monkeypatch.chdir(root)
    monkeypatch.setenv("JOYPIX_HOME", str(tmp_path / "home"))  # a cloud run's anonymous token lands here
    return root


@pytest.mark.parametrize("command", COMMANDS, ids=[f"{c.where} {c.text}" for c in COMMANDS])
def test_a_documented_command_runs_as_written(command: Documented, scratch: Path) -> None:
    reason = _skip_reason(command)
    if reason:
        pytest.skip(reason)
    argv = command.argv
    started = []
    try:
        for background in command.background:
            words = shlex.split(background)[1:]
            assert words[:1] == ["emulator"], f"{command.where}: no way to start {background!r} here"
            port = _free_port_pair()
            documented_port = words[words.index("--port") + 1]
            words[words.index("--port") + 1] = str(port)
            argv = [word.replace(f":{documented_port}", f":{port}") for word in argv]
            process = start_joypix([*words, *EMULATOR_QUICK], scratch, env={"JOYPIX_HOME": os.environ["JOYPIX_HOME"]})
            started.append(process)
            wait_until(lambda port=port: _answers(port), 30, f"{background} never answered", process=process)
        if argv[:1] == ["run"] and command.text.removeprefix("joypix ") not in RENDERED and not command.background:
            argv = [*argv, "--dry-run"] if "--dry-run" not in argv else argv
        assert main(argv) == 0, f"{command.where}: {command.text}"
        if argv[:1] == ["run"] and "--dry-run" not in argv:
            assert any((scratch / "recipes" / "out").rglob("*.mp4")), f"{command.where}: no clip was made"
    finally:
        for process in started:
            process.terminate()
            process.communicate(timeout=30)


def test_the_readme_quickstart_writes_the_clip_it_promises(scratch: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    promised = re.search(r"offline \(writes `([^`]+)`\)", readme)
    assert promised, "the README no longer says where the quickstart's clip goes"
    assert main(["run", "recipes/quickstart.yaml", "-q"]) == 0
    assert (scratch / promised.group(1)).stat().st_size > 0
