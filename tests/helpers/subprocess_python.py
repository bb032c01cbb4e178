"""Run a snippet in a fresh interpreter: what a new process imports is its own."""

from __future__ import annotations

import subprocess
import sys


def printed_by(code: str, timeout: float = 300) -> list[str]:
    """The words `code` prints in a new Python process; it must exit cleanly."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()
