"""Traces: a turn through the API makes the request's span (FastAPI's instrumentation)
with the turn and its stages (state, recall, rank, llm) beneath it, in one trace."""

from __future__ import annotations

import pytest
from helpers.api import shop_app


@pytest.fixture
def traced(home):
    from fastapi.testclient import TestClient
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from chat.frontends.api import telemetry
    from chat.frontends.api.keys import KeyStore
    from chat.frontends.api.server import create_api

    with shop_app() as app:
        api = create_api(app, gradio=False)
        spans = InMemorySpanExporter()
        telemetry.install(api, spans, batch=False)
        keys = KeyStore(app.db)
        headers = {"Authorization": f"Bearer {keys.create('t')[1]}"}
        with TestClient(api) as client:
            yield client, headers, spans
        keys.close()


def test_a_turn_makes_a_span_per_stage_under_the_request(traced):
    client, headers, spans = traced
    sid = client.post("/v1/sessions", headers=headers, json={}).json()["session_id"]
    spans.clear()
    r = client.post(
        f"/v1/sessions/{sid}/messages", headers=headers, json={"message": "wireless earbuds"}
    )
    assert r.status_code == 200 and r.json()["items"]
    got = {s.name: s for s in spans.get_finished_spans()}
    stages = [f"recochat.{name}" for name in ("state", "recall", "rank", "llm")]
    assert set(stages) <= set(got), sorted(got)
    request = got["POST /v1/sessions/{session_id}/messages"]
    turn = got["recochat.turn"]
    assert turn.parent.span_id == request.context.span_id
    for name in stages:
        assert got[name].parent.span_id == turn.context.span_id, name
        assert got[name].context.trace_id == request.context.trace_id
    assert got["recochat.state"].attributes["recochat.intent"] == "recommend"
    assert got["recochat.llm"].start_time >= got["recochat.rank"].end_time
    # what the user wrote is in no span, nor the key in the demo page's address
    assert client.get("/demo?key=rc_not_for_traces").status_code == 200
    assert not any(
        "earbuds" in str(s.attributes) or "rc_not_for_traces" in str(s.attributes)
        for s in spans.get_finished_spans()
    )


def test_tracing_is_off_unless_an_exporter_is_named(monkeypatch, home):
    from chat.config import load_settings
    from chat.frontends.api.telemetry import exporter_for

    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings().otel_exporter is None and exporter_for(None) is None
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    assert load_settings().otel_exporter == "console"
    monkeypatch.setenv("RECOCHAT_OTEL_EXPORTER", "none")
    assert exporter_for(load_settings().otel_exporter) is None
    monkeypatch.delenv("RECOCHAT_OTEL_EXPORTER")
    monkeypatch.delenv("OTEL_TRACES_EXPORTER")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    assert load_settings().otel_exporter == "otlp"
