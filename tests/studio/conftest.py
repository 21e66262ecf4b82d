"""A tiny recipe beside a photo, a studio serving it on 127.0.0.1, and a headless Chromium that fails on console errors."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers.images import write_image

from joypix_recipes.studio import Studio

if TYPE_CHECKING:
    pass

RECIPE = """
version: 1
vars: {word: Sale}
inputs: [a.jpg]
variants:
  - {name: plain}
  - {name: loud, vars: {word: SALE}}
steps:
  - animate: {duration: 1, motion: zoom-in}
  - text: {content: "{{ vars.word }}", position: bottom}
export: {aspect: "9:16", resolution: 480p, fps: 24, quality: low}
"""
"""Two jobs (one photo, two variants); each draft is 160x284, one second long."""


def write_recipe(folder: Path, text: str = RECIPE) -> Path:
    """The recipe ``text`` saved as an editor saves: written beside, then renamed over the old one."""
    path = folder / "recipe.yaml"
    temporary = folder / ".recipe.yaml.swp"
    temporary.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    temporary.replace(path)
    return path


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    write_image(folder / "a.jpg", (320, 480))
    return write_recipe(folder)


@pytest.fixture
def studio(recipe: Path) -> Iterator[Studio]:
    """The studio of ``recipe``, serving (its drafts may still be rendering: ``all_ready`` says when they are)."""
    with Studio(recipe) as running:
        yield running


def all_ready(studio: Studio) -> bool:
    service = studio.service
    cards = service.state.cards.values() if service is not None else ()
    return bool(cards) and all(card.status == "ready" for card in cards)

