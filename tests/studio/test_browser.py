"""The studio in a real browser: cards appear with their drafts playing to the end, a save updates the page,
a broken save shows validate's FILE:LINE:COL line until it is fixed, the vars form re-plans, and at 390 px
nothing is wider than the screen. One test, so the browser and the drafts are made once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.browser import PHONE_WIDTH, assert_no_horizontal_overflow, save_screenshot
from helpers.waiting import wait_until

from joypix_recipes.studio import Studio

from .conftest import RECIPE, all_ready, write_recipe

if TYPE_CHECKING:
    from playwright.sync_api import Page

UPDATE_WITHIN_MS = 2500
"""About two seconds, and a little for a loaded browser to draw."""


def _card_text(page: Page, key: str) -> str:
    return str(page.locator(f'article.card[data-key="{key}"]').inner_text())


def _within(page: Page, condition: str, argument: object = None) -> float:
    """Seconds until ``condition`` (a JS function) holds on the page; fails after UPDATE_WITHIN_MS."""
    started = time.monotonic()
    page.wait_for_function(condition, arg=argument, timeout=UPDATE_WITHIN_MS)
    return time.monotonic() - started



def test_the_page_plays_every_draft_and_follows_every_save_and_the_form(studio: Studio, browser_page: Page, tmp_path: Path) -> None:
    page = browser_page
    page.set_default_timeout(15_000)  # the first draft can take a while on a loaded machine
    page.goto(studio.url)
    wait_until(lambda: all_ready(studio), 60, "the drafts were not rendered")
    assert page.url == f"{studio.base_url}/"  # the token went into a cookie
    cards = page.locator("article.card")
    cards.nth(1).wait_for()
    assert cards.count() == 2
    assert "planned length 1.0 s" in _card_text(page, "previews/a-plain.mp4")
    assert '"content": "SALE"' in _card_text(page, "previews/a-loud.mp4")
    ended = page.evaluate(
        """() => Promise.all([...document.querySelectorAll("article.card video")].map((video) =>
               new Promise((resolve) => {
                   if (video.ended) resolve(video.duration);
                   video.addEventListener("ended", () => resolve(video.duration), {once: true});
                   video.addEventListener("error", () => resolve(-1), {once: true});
               })))"""
    )
    assert len(ended) == 2 and all(0.9 < duration < 1.2 for duration in ended), ended
    save_screenshot(page, "studio-desktop.png", tmp_path)

    write_recipe(studio.recipe.parent, RECIPE.replace("vars: {word: Sale}", "vars: {word: Deal}"))
    _within(page, """() => document.querySelector('article.card[data-key="previews/a-plain.mp4"]')
                         .innerText.includes('"content": "Deal"')""")

    write_recipe(studio.recipe.parent, RECIPE.replace("motion: zoom-in", "motion: zoom-sideways"))
    _within(page, "() => !document.getElementById('problems').hidden")
    problem = page.locator("#problem-list li").inner_text()
    assert problem.startswith(f"{studio.recipe}:8:36: animate.motion 'zoom-sideways' is not one of")
    assert page.locator("#problems").is_visible()
    assert_no_horizontal_overflow(page, PHONE_WIDTH)  # a long path in a problem wraps
    save_screenshot(page, "studio-phone-problem.png", tmp_path)

    write_recipe(studio.recipe.parent)
    _within(page, "() => document.getElementById('problems').hidden")
    assert not page.locator("#problems").is_visible()
    assert_no_horizontal_overflow(page, PHONE_WIDTH)
    save_screenshot(page, "studio-phone.png", tmp_path)


    # The form: a var typed in re-plans every job (a --var wins over a variant's own), the file untouched.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.fill("#var-word", "Hello")
    for key in ("previews/a-plain.mp4", "previews/a-loud.mp4"):
        _within(page, """(key) => document.querySelector(`article.card[data-key="${key}"]`)
                             .innerText.includes('"content": "Hello"')""", key)
    assert page.locator("#flags").inner_text() == "--var word=Hello"
    assert "word: Sale" in studio.recipe.read_text(encoding="utf-8")
