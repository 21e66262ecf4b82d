"""A tiny recipe beside a photo, a studio serving it on 127.0.0.1, and a headless Chromium that fails on console errors."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers.images import write_image
from helpers.waiting import wait_until

from joypix_recipes.studio import Studio

if TYPE_CHECKING:
    from playwright.sync_api import Browser

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
    """The studio of ``recipe``, once every card's draft is ready."""
    with Studio(recipe) as running:
        wait_until(lambda: all_ready(running), 30, "the drafts were not rendered")
        yield running


def all_ready(studio: Studio) -> bool:
    service = studio.service
    cards = service.state.cards.values() if service is not None else ()
    return bool(cards) and all(card.status == "ready" for card in cards)


@pytest.fixture
def studio_browser() -> Iterator[Browser]:
    """Headless Debian Chromium through Playwright; skipped with the reason when either is missing.

    Each page opened from it fails the test on a console error or an uncaught exception (checked at teardown).
    """
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); the browser tests need it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install playwright); the browser tests need it")
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--autoplay-policy=no-user-gesture-required"]
        )

        def watch(page: object) -> None:
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)  # type: ignore[attr-defined]
            page.on("pageerror", lambda error: errors.append(str(error)))  # type: ignore[attr-defined]

        original = browser.new_page

        def new_page(**options: object) -> object:
            page = original(**options)  # type: ignore[arg-type]
            watch(page)
            return page

        browser.new_page = new_page  # type: ignore[method-assign]
        try:
            yield browser
        finally:
            browser.close()
    assert errors == [], f"console errors: {errors}"
