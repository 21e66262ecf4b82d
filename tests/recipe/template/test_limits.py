"""Hostile templates end quickly with a clear error: bounded loops, filter arguments, integers and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.repo import REPO, SAMPLE

MAX_SECONDS = 2.0
MAX_MEMORY_BYTES = 200 * 1024 * 1024

HOSTILE = {
    "nested loops over long text": (
        "{% set s = 'x' * 100000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}", "loops"
    ),
    "chained powers": ("{{ ((10**64)**64)**64 }}", "power"),
    "center with a huge width": ("{{ 'x'|center(10**9) }}", "too large"),
    "indent with a huge width": ("{{ 'a\\nb'|indent(10**9) }}", "too large"),
    "wordwrap with a huge width": ("{{ 'a b'|wordwrap(10**9) }}", "too large"),
    "replace of the empty string": ("{% set s = 'x' * 100000 %}{{ s|replace('', s) }}", "replace"),
    "output grown in a loop": ("{% set s = 'x' * 100000 %}{% for a in s %}{{ s }}{% endfor %}", "characters"),
    "a huge format width": ("{{ '{:>999999999}'.format(1) }}", "too wide"),
    "doubling by concatenation": (
        "{% set a = 'x' * 100000 %}{% set b = a ~ a %}{% set c = b ~ b %}{% set d = c ~ c %}"
        "{% set e = d ~ d %}{% set f = e ~ e %}{{ f|length }}",
        "characters",
    ),
    "lazy filters chained": ("{{ ('x'*999999)" + "|batch(1)" * 8 + "|list }}", "produces more than"),
    "a slice per character": ("{{ ('x'*999999)|slice(999999)|list }}", "produces more than"),
    "a huge value per item": ("{{ ('x'*100000)|map('center', 999999)|list|length }}", "produces more than"),
}


# Measured from a small parent: Linux counts a child's peak memory from the moment it was forked, so a
# joypix started straight from this (large) test process would report the test's own size.
MEASURE = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = child.stderr.read()
_, status, usage = os.wait4(child.pid, 0)
sys.stderr.buffer.write(err)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime)
"""


def _run_measured(args: list[str], cwd: Path) -> tuple[int, str, float, int]:
    """Exit code, stderr, CPU seconds and peak resident memory (bytes) of one joypix process.

    CPU time rather than wall time: a busy machine (other tests in parallel) stretches the wall clock, not the work.
    """
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, sys.executable, "-m", "joypix_recipes", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    code, memory, cpu = measured.stdout.split()
    return int(code), measured.stderr, float(cpu), int(memory)


def _recipe(folder: Path, template: str) -> Path:
    recipe = folder / "hostile.yaml"
    recipe.write_text(f"version: 1\nname: hostile\nsteps:\n  - prompt: {json.dumps(template)}\n", encoding="utf-8")
    return recipe


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_template_fails_fast_within_memory_with_a_clear_error(tmp_path: Path, case: str) -> None:
    template, wording = HOSTILE[case]
    (tmp_path / "photo.jpg").write_bytes(SAMPLE.read_bytes())
    # The same command on a harmless template measures start-up on this (possibly busy) machine.
    _, _, startup, _ = _run_measured(["run", str(_recipe(tmp_path, "zoom in")), "--input", "photo.jpg", "--dry-run"], tmp_path)

    code, err, seconds, memory = _run_measured(
        ["run", str(_recipe(tmp_path, template)), "--input", "photo.jpg", "--dry-run"], tmp_path
    )

    assert code == 2, err
    assert wording in err and "hostile.yaml:4" in err, err
    assert "internal error" not in err and "Traceback" not in err
    assert seconds - startup < MAX_SECONDS
    assert memory < MAX_MEMORY_BYTES
