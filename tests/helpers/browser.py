"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium (`make
browser`), driven by Playwright. Missing, it skips a test on a workstation and
fails it in CI, where the browser tests must run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip (fail in CI) when the browser is not installed."""
    if not Path(CHROMIUM).is_file():
        message = f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def chromium() -> Iterator:
    """A launched browser for a fixture to yield from; closed when the fixture ends."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
