"""A real browser for tests: the operating system's Chromium driven by Playwright, never a downloaded one.

``browser_page`` (registered in tests/conftest.py) yields a Playwright ``Page`` in a fresh context and fails
the test if the page logged a console error or threw. Without a Chromium the test is skipped, saying
how to get one. ``JOYPIX_CHROMIUM`` names the executable when it is not ``chromium`` on the PATH.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM_NAMES = ("chromium", "chromium-browser")
DESKTOP = {"width": 1280, "height": 900}
PHONE_WIDTH = 390


def find_chromium() -> str | None:
    """The Chromium to drive: ``JOYPIX_CHROMIUM`` if set, else the first ``chromium`` on the PATH."""
    named = os.environ.get("JOYPIX_CHROMIUM")
    if named:
        return shutil.which(named) or (named if os.access(named, os.X_OK) else None)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def skip_reason() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return 'the playwright package is not installed: pip install -e ".[test]"'
    if find_chromium() is None:
        return (
            "no Chromium found: install it (apt-get install chromium) or set JOYPIX_CHROMIUM to its path;"
            " .ci/run installs it"
        )
    return None


@dataclass
class ConsoleLog:
    """What a page said on its console: errors (console.error and uncaught exceptions) and everything else."""

    errors: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        """Record ``page``'s console and uncaught errors from now on."""
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _on_console(self, message: Any) -> None:
        text = f"{message.type}: {message.text}"
        self.messages.append(text)
        if message.type == "error":
            self.errors.append(text)


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Browser]:
    """One headless system Chromium per test module (skips the test when there is none).

    Not per session: while Playwright's sync API is open, an event loop runs on the main thread, and
    any other test's ``asyncio.run`` would refuse to start.
    """
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(),
            headless=True,
            # Videos play without a click, as a user's click would let them.
            args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium_browser: Browser) -> Iterator[Page]:
    """A desktop-sized page in its own context; the test fails if the page logs a console error."""
    context = chromium_browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    log = ConsoleLog()
    log.watch(page)
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
    if log.errors:
        pytest.fail("the page logged console errors:\n" + "\n".join(log.errors))


def horizontal_overflow(page: Page, width: int = PHONE_WIDTH) -> list[str]:
    """At viewport ``width``, the elements that stick out past the right edge (empty when nothing does).

    The page itself counts too: a document wider than the viewport scrolls sideways.
    """
    page.set_viewport_size({"width": width, "height": 844})
    return list(
        page.evaluate(
            """(width) => {
                const wide = [];
                const root = document.documentElement;
                if (root.scrollWidth > root.clientWidth) wide.push(`document is ${root.scrollWidth}px wide`);
                for (const element of document.body.querySelectorAll("*")) {
                    const box = element.getBoundingClientRect();
                    if (box.width === 0) continue;
                    const name = element.tagName.toLowerCase() + (element.className ? "." + element.className : "");
                    // Content spilling out of a box that does not scroll it sticks out as far as the box would.
                    const spills = getComputedStyle(element).overflowX === "visible"
                        && element.scrollWidth > element.clientWidth + 1;
                    const right = spills ? box.left + element.scrollWidth : box.right;
                    if (right > width + 0.5) wide.push(`${name} ends at ${Math.round(right)}px`);
                }
                return wide;
            }""",
            width,
        )
    )


def assert_no_horizontal_overflow(page: Page, width: int = PHONE_WIDTH) -> None:
    """Fail when anything on ``page`` is wider than a ``width``-pixel screen."""
    wide = horizontal_overflow(page, width)
    assert not wide, f"at {width} px: " + "; ".join(wide[:10])


def save_screenshot(page: Page, name: str, fallback: Path) -> None:
    """Kept as an artefact of the test run: in JOYPIX_ARTEFACTS when set (CI), else in ``fallback``."""
    folder = Path(os.environ.get("JOYPIX_ARTEFACTS") or fallback)
    folder.mkdir(parents=True, exist_ok=True)
    # Written here, not by Playwright: its own writer leaves an executor thread behind.
    (folder / name).write_bytes(page.screenshot(full_page=True))
