"""The README's screenshots can be made: `docs/screenshots.py --check` ingests the demo
catalog, starts the web chat and `recochat serve`, drives headless Chromium through both and
checks the PNGs it wrote, in a temporary folder (the committed ones in docs/ stay as they
are; run the script without --check to change them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.browser import require_chromium

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "screenshots.py"


@pytest.mark.e2e
def test_the_screenshot_script_makes_its_pictures():
    require_chromium()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    for name in ("web-chat.png", "widget.png", "widget-phone.png"):
        assert name in done.stdout
