"""docs/environment.md names every environment variable joypix reads."""

from __future__ import annotations

import re

from helpers.repo import REPO

DOC = REPO / "docs/environment.md"
_NAMED = re.compile(r"""["']((?:JOYPIX|NEMO)_[A-Z_]+)["']""")
_READ = re.compile(r"""environ(?:\.get)?\(\s*["']([A-Z_]+)["']|getenv\(\s*["']([A-Z_]+)["']""")
_READ_IN_A_LOOP = re.compile(r"""os\.environ\.get\(name[^)]*\) for name in \(([^)]*)\)""")


def _variables_in_the_code() -> set[str]:
    found: set[str] = set()
    for source in (REPO / "joypix_recipes").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        found.update(_NAMED.findall(text))
        found.update(name for pair in _READ.findall(text) for name in pair if name)
        for names in _READ_IN_A_LOOP.findall(text):
            found.update(re.findall(r"[A-Z_]+", names))
    return found


def test_every_variable_the_code_reads_is_documented() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", DOC.read_text(encoding="utf-8")))
    found = _variables_in_the_code()
    assert {"NEMO_TOKEN", "JOYPIX_HOME", "JOYPIX_BROKER", "JOYPIX_DEBUG", "LANG"} <= found  # the scan still sees them
    assert found - documented == set()


def test_the_readme_links_the_page() -> None:
    assert "docs/environment.md" in (REPO / "README.md").read_text(encoding="utf-8")
