"""Shared fixtures. Unit tests use the hash embedder and a scripted LLM; tests
marked e2e use the real models, Chroma and servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# Models are converted once per machine, not once per test.
MODEL_CACHE = Path(os.environ.get("RECOCHAT_TEST_CACHE", Path.home() / ".cache" / "recochat-test"))


def shared_file(relative: str) -> Path:
    """A file from ../shared/data: skip when absent locally, fail in CI."""
    path = SHARED_DATA / relative
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing; CI must provide ../shared/data")
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh data directory, and no stray RECOCHAT_* settings from the caller."""
    for key in list(os.environ):
        if key.startswith("RECOCHAT_"):
            monkeypatch.delenv(key)
    path = tmp_path / "home"
    monkeypatch.setenv("RECOCHAT_HOME", str(path))
    monkeypatch.setenv("RECOCHAT_CACHE_DIR", str(MODEL_CACHE))
    return path


@pytest.fixture
def shop_catalog() -> Path:
    return FIXTURES / "shop_small.jsonl"


@pytest.fixture
def app(home, shop_catalog):
    """An App over the small shop catalog with the hash embedder and a scripted LLM."""
    from chat.app import App
    from chat.config import load_settings
    from chat.llm import ScriptedLLM
    from retrieval import load_catalog

    application = App.open(load_settings(embedder="hash"), llm=ScriptedLLM())
    application.store.upsert(load_catalog(shop_catalog).items)
    application.refresh()
    yield application
    application.close()


# --- real services, one of each per test session (tests/helpers/services.py) ---------


@pytest.fixture(scope="session")
def postgres():
    from helpers import services

    server = services.postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    from helpers import services

    server = services.redis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chroma_server():
    from helpers import services

    server = services.chroma()
    yield server
    server.stop()
