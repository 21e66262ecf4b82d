"""The browser helpers can fail: a page wider than a phone is caught, and a console error is recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpers.browser import ConsoleLog, horizontal_overflow

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def test_overflow_check_names_what_sticks_out_past_a_phone_screen(browser_page: Page) -> None:
    browser_page.set_content('<meta name="viewport" content="width=device-width"><p>fits</p>')
    assert horizontal_overflow(browser_page, 390) == []
    browser_page.set_content('<meta name="viewport" content="width=device-width"><pre class="wide">' + "x" * 200 + "</pre>")
    wide = horizontal_overflow(browser_page, 390)
    assert any(line.startswith("pre.wide ends at") for line in wide), wide
    assert any(line.startswith("pre.wide ends at") for line in wide) and any("document is" in line for line in wide)


def test_console_log_records_errors_and_uncaught_exceptions(chromium_browser: Browser) -> None:
    context = chromium_browser.new_context()
    try:
        page = context.new_page()
        log = ConsoleLog()
        log.watch(page)
        page.set_content("<script>console.log('fine'); console.error('broken'); throw new Error('boom');</script>")
        page.wait_for_timeout(50)
    finally:
        context.close()
    assert log.errors[0] == "error: broken" and "boom" in log.errors[1]
    assert "log: fine" in log.messages
