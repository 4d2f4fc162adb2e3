"""A real Chromium (the distribution's package) driven by Playwright, for the web view's tests.

Never `playwright install`: the browser is Debian's /usr/bin/chromium, started headless with
everything that would reach the internet switched off.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = os.environ.get("WQ_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def available() -> bool:
    return shutil.which(CHROMIUM) is not None


@contextmanager
def chromium(width: int = 1400, height: int = 900) -> Iterator:
    """A fresh browser page (its own cookies); closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height},
                                          locale="zh-CN")
            yield context.new_page()
        finally:
            browser.close()


def sign_in(page, base_url: str, user: str, password: str, target: str = "") -> None:
    """Sign in through the form; `target` (a /web/ page) is opened afterwards instead of 进度."""
    page.goto(base_url + (f"/web/login?next={target}" if target else "/"))
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
