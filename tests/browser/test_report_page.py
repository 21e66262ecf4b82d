"""report.html in a real browser (the system Chromium), served over HTTP on 127.0.0.1 as a user's would be."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers.browser import PHONE_WIDTH, assert_no_horizontal_overflow, save_screenshot
from helpers.outfolders import TwoRuns
from helpers.servers import serving_folder

if TYPE_CHECKING:
    from playwright.sync_api import Page

PLAY_TO_END = """async (video) => {
    video.muted = true;
    const ended = new Promise((resolve, reject) => {
        video.addEventListener("ended", () => resolve(true), {once: true});
        video.addEventListener("error", () => reject(new Error("video error " + (video.error && video.error.code))), {once: true});
        setTimeout(() => reject(new Error("no ended event within 8 s")), 8000);
    });
    await video.play();
    return await ended;
}"""

CAPTION_CLEAR = """(card) => {
    const video = card.querySelector("video"), title = card.querySelector("figcaption h2");
    const v = video.getBoundingClientRect(), t = title.getBoundingClientRect();
    const overlaps = t.top < v.bottom && t.bottom > v.top && t.left < v.right && t.right > v.left;
    const hit = document.elementFromPoint(t.left + Math.min(10, t.width / 2), t.top + t.height / 2);
    return {overlaps, visible: t.height > 0 && !!hit && title.contains(hit), text: title.textContent};
}"""


@pytest.fixture
def report_page(browser_page: Page, two_runs: TwoRuns) -> Iterator[Page]:
    with serving_folder(two_runs.out) as base:
        browser_page.goto(f"{base}/report.html")
        yield browser_page


def _shown(page: Page) -> list[str]:
    return [str(status) for status in page.locator(".card:visible").evaluate_all("cards => cards.map(c => c.dataset.status)")]



def test_report_lists_both_runs_failures_first_filters_and_plays(report_page: Page, tmp_path: Path) -> None:
    page = report_page
    assert _shown(page) == ["failed", "failed", "done", "done", "done", "done"]
    assert "row JP-900" in page.locator(".card").first.inner_text()
    assert page.locator("#shown-count").inner_text() == "6 of 6 shown"

    page.select_option("#filter-status", "done")
    assert _shown(page) == ["done"] * 4
    page.select_option("#filter-variant", "tall")
    assert page.locator(".card:visible").count() == 2
    assert all("variant tall" in text for text in page.locator(".card:visible h2").all_inner_texts())
    page.select_option("#filter-status", "")
    assert _shown(page) == ["failed", "done", "done"]
    page.select_option("#filter-variant", "")
    assert page.locator(".card:visible").count() == 6

    for card in page.locator(".card.done").all():
        card.scroll_into_view_if_needed()
        caption = card.evaluate(CAPTION_CLEAR)
        assert caption["visible"] and not caption["overlaps"], caption
    video = page.locator(".card.done video").first
    assert video.evaluate("video => video.controls") is False  # the poster's bottom edge is clear
    video.hover()
    assert video.evaluate("video => video.controls") is True
    assert video.evaluate(PLAY_TO_END) is True
    save_screenshot(page, "report-desktop.png", tmp_path)

    page.click("#view-toggle")
    assert page.locator(".card.done video").first.is_hidden()
    assert page.locator(".card.done img.poster").first.is_visible()
    save_screenshot(page, "report-posters.png", tmp_path)
    page.click("#view-toggle")
    assert page.locator(".card.done video").first.is_visible()


def test_report_fits_a_phone_screen(report_page: Page, tmp_path: Path) -> None:
    assert_no_horizontal_overflow(report_page, PHONE_WIDTH)
    save_screenshot(report_page, "report-390px.png", tmp_path)
    report_page.click("#view-toggle")
    assert_no_horizontal_overflow(report_page, PHONE_WIDTH)
