"""The packaged models the end-to-end tests load."""

from __future__ import annotations

import os

import pytest

from chat.llm import registry


def require_installed(name: str) -> None:
    """Skip a test whose model is not installed here; fail it in CI, which installs
    every packaged model (missing is a bug there)."""
    report = registry.check(name, "/nonexistent-cache-dir")
    if report.installed:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(report.problem)
    pytest.skip(report.problem)
