"""The HTTP API in-process for unit tests: an App over the web-shop fixture catalog
(hash embedder, scripted LLM) and FastAPI's TestClient on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WEB_SHOP = Path(__file__).parents[1] / "fixtures" / "web_shop.jsonl"


@contextmanager
def shop_app(llm: Any = None, **settings: Any) -> Iterator[Any]:
    """An App over fixtures/web_shop.jsonl; `settings` go to load_settings."""
    from chat.app import App
    from chat.config import load_settings
    from chat.llm import ScriptedLLM
    from retrieval import load_catalog

    app = App.open(load_settings(embedder="hash", **settings), llm=llm or ScriptedLLM())
    try:
        app.store.upsert(load_catalog(WEB_SHOP).items)
        app.refresh()
        yield app
    finally:
        app.close()


@contextmanager
def api_client(app: Any) -> Iterator[Any]:
    """The API on `app` (no Gradio mount); a server error is a 500, not a raise."""
    from fastapi.testclient import TestClient

    from chat.frontends.api.server import create_api

    with TestClient(create_api(app, gradio=False), raise_server_exceptions=False) as client:
        yield client
