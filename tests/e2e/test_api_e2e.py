"""`recochat serve` as a user runs it: a real uvicorn server in a subprocess on
127.0.0.1, over a catalog ingested with `recochat ingest`, with keys made by
`recochat keys create`. The hash embedder and the scripted LLM (pausing 5 ms a
word, as a stand-in for generation) keep it fast; test_api_openai_backend.py
runs a real model. The server helpers are in tests/helpers/servers.py."""

from __future__ import annotations

import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
from helpers.servers import (
    ADMIN,
    FIXTURES,
    ApiServer,
    new_key,
    percentile,
    run_cli,
    server_env,
    sse_frames,
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("api-home")
    env = server_env(home, admin_key=ADMIN, rate_limit="100000/minute", turn_threads="4")
    run_cli(env, "ingest", str(FIXTURES / "web_shop.jsonl"))
    keys = {
        "chat": new_key(env, "e2e"),
        "slow": new_key(env, "slow", "--rate-limit", "5/minute"),
    }
    server = ApiServer(env, tmp_path_factory.mktemp("api-log") / "server.log", "--gradio")
    try:
        server.wait()
        yield server, env, keys
    finally:
        server.stop()


@pytest.fixture
def http(served):
    server, _, keys = served
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {keys['chat']}"}, timeout=60
    ) as client:
        yield client


def new_session(http) -> str:
    r = http.post("/v1/sessions", json={})
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


@pytest.mark.e2e
def test_every_endpoint_answers(served, http):
    server, _, _ = served
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json()["checks"] == {"model": "ready", "catalog": "6 items"}
    assert http.get("/docs").status_code == 200
    assert "/v1/search" in http.get("/openapi.json").json()["paths"]
    assert "textContent" in http.get("/widget.js").text
    assert "/widget.js" in http.get("/demo?key=rc_x").text

    sid = new_session(http)
    reply = http.post(f"/v1/sessions/{sid}/messages", json={"message": "coffee under $30"})
    assert reply.status_code == 200 and reply.json()["items"]
    first = reply.json()["items"][0]["id"]
    streamed = http.post(f"/v1/sessions/{sid}/messages", json={"message": "more", "stream": True})
    assert [e for e, _ in sse_frames(streamed.text)][-1] == "done"
    fb = http.post(f"/v1/sessions/{sid}/feedback", json={"item_id": first, "kind": "like"})
    assert fb.status_code == 201
    history = http.get(f"/v1/sessions/{sid}").json()
    assert len(history["messages"]) == 4 and history["feedback"][0]["item_id"] == first
    found = http.post("/v1/search", json={"query": "earbuds", "k": 2}).json()["items"]
    assert len(found) == 2
    assert http.get(f"/v1/items/{first}").json()["id"] == first

    row = {"id": "e1", "title": "Espresso Tamper", "description": "Steel.", "price": 19.0}
    assert http.put("/v1/admin/items", headers=admin, json={"items": [row]}).json()["added"] == 1
    assert http.delete("/v1/admin/items/e1", headers=admin).json() == {"deleted": 1}
    body = json.dumps({**row, "id": "e2"})
    assert http.post("/v1/admin/ingest", headers=admin, content=body).json()["added"] == 1
    assert http.delete("/v1/admin/items/e2", headers=admin).status_code == 200

    models = http.get("/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["recochat"]
    done = http.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "tea"}]}
    )
    assert done.json()["object"] == "chat.completion" and "recommendations" in done.json()

    metrics = http.get("/metrics").text
    assert 'recochat_feedback_total{kind="like"} 1.0' in metrics
    assert 'recochat_turn_stage_seconds_bucket{le="0.1",stage="recall"}' in metrics
    print(f"\nserver RSS after the endpoint tour: {server.rss_mb():.0f} MB")


@pytest.mark.e2e
def test_streams_have_their_shape_and_openai_ends_with_done(http):
    sid = new_session(http)
    with http.stream(
        "POST", f"/v1/sessions/{sid}/messages", json={"message": "stickers", "stream": True}
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        frames = sse_frames(r.read().decode())
    names = [e for e, _ in frames]
    assert names[0] == "items" and names[-1] == "done" and set(names) == {"items", "text", "done"}
    assert all(json.loads(d)["type"] == e for e, d in frames)

    r = http.post(
        "/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "stickers"}], "stream": True},
    )
    data = [d for _, d in sse_frames(r.text)]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert any("recommendations" in c for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text.startswith("Here are my picks: Hacker Sticker Pack <script>")


@pytest.mark.e2e
def test_refusals_are_401_413_422_429_in_one_shape(served, http):
    server, _, keys = served

    def shape(r, status, code):
        assert r.status_code == status, r.text
        assert r.json()["error"]["code"] == code and "Traceback" not in r.text

    shape(httpx.post(server.url + "/v1/sessions"), 401, "invalid_api_key")
    sid = new_session(http)
    url = f"/v1/sessions/{sid}/messages"
    shape(
        http.post(url, content=b'{"message": "' + b"x" * 70_000 + b'"}'), 413, "request_too_large"
    )
    shape(http.post(url, json={"message": "x" * 2001}), 422, "message_too_long")
    raw = {"Content-Type": "application/json"}
    shape(http.post(url, headers=raw, content=b'{"message": "\\ud800"}'), 422, "invalid_encoding")
    slow = {"Authorization": f"Bearer {keys['slow']}"}
    codes = [httpx.get(server.url + "/v1/models", headers=slow).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = httpx.get(server.url + "/v1/models", headers=slow)
    shape(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1


@pytest.mark.e2e
def test_keys_made_and_revoked_while_serving_work_at_once(served):
    server, env, _ = served
    secret = new_key(env, "late")
    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.post(server.url + "/v1/sessions", headers=headers).status_code == 201
    run_cli(env, "keys", "revoke", "late")
    assert httpx.post(server.url + "/v1/sessions", headers=headers).status_code == 401


@pytest.mark.e2e
def test_a_burst_of_ten_messages_to_one_session_is_processed_in_order(http):
    """Ten streams opened one after another without waiting for replies: each is queued
    when its headers come back, so that is the order the server received them in."""
    sid = new_session(http)
    texts = [f"message {i}: something for coffee" for i in range(10)]
    with ExitStack() as open_streams:
        responses = []
        for text in texts:
            r = open_streams.enter_context(
                http.stream(
                    "POST", f"/v1/sessions/{sid}/messages", json={"message": text, "stream": True}
                )
            )
            assert r.status_code == 200
            responses.append(r)
        stored_while_open = len(http.get(f"/v1/sessions/{sid}").json()["messages"])
        ends = [sse_frames(r.read().decode())[-1][0] for r in responses]
    assert ends == ["done"] * 10
    messages = http.get(f"/v1/sessions/{sid}").json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 10  # never interleaved
    assert [m["content"] for m in messages[::2]] == texts  # in arrival order
    print(f"\nburst: {stored_while_open // 2} of 10 turns done when the last one arrived")


@pytest.mark.e2e
def test_twenty_sessions_of_ten_turns_at_once(served, http):
    """The load run: every turn persisted, no 5xx; prints latency and throughput."""
    server, _, _ = served
    sessions, turns = 20, 10
    first_event, first_text, totals, statuses = [], [], [], []
    lock = threading.Lock()

    def converse(n: int) -> str:
        sid = new_session(http)
        for t in range(turns):
            started = time.perf_counter()
            seen_first = seen_text = None
            with http.stream(
                "POST",
                f"/v1/sessions/{sid}/messages",
                json={"message": f"turn {t}: gifts for a coffee lover", "stream": True},
            ) as r:
                for line in r.iter_lines():
                    now = time.perf_counter() - started
                    if line.startswith("event:"):
                        seen_first = seen_first or now
                        if line.endswith("text"):
                            seen_text = seen_text or now
            with lock:
                statuses.append(r.status_code)
                totals.append(time.perf_counter() - started)
                first_event.append(seen_first)
                first_text.append(seen_text)
        return sid

    started = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        ids = list(pool.map(converse, range(sessions)))
    wall = time.perf_counter() - started

    assert not [s for s in statuses if s >= 500] and statuses == [200] * sessions * turns
    for sid in ids:
        messages = http.get(f"/v1/sessions/{sid}").json()["messages"]
        assert len(messages) == 2 * turns and all(m["content"] for m in messages)
    figures = {
        "turns": len(statuses),
        "wall_s": round(wall, 2),
        "turns_per_s": round(len(statuses) / wall, 1),
        "first_event_ms": {
            k: round(1000 * percentile(first_event, q)) for k, q in (("p50", 0.5), ("p95", 0.95))
        },
        "first_text_ms": {
            k: round(1000 * percentile(first_text, q)) for k, q in (("p50", 0.5), ("p95", 0.95))
        },
        "turn_ms": {
            k: round(1000 * percentile(totals, q)) for k, q in (("p50", 0.5), ("p95", 0.95))
        },
        "mean_turn_ms": round(1000 * statistics.mean(totals)),
        "server_rss_mb": round(server.rss_mb()),
    }
    print(
        f"\n20 sessions x 10 turns (scripted LLM, 5 ms/word; hash embedder): {json.dumps(figures)}"
    )


@pytest.mark.e2e
def test_the_gradio_chat_is_mounted_and_answers(served):
    from gradio_client import Client

    server, _, _ = served
    assert "the Gradio chat at /chat/ runs model turns with no API key" in server.log()
    client = Client(server.url + "/chat/", verbose=False)
    history, *_ = client.predict("wireless earbuds for running", [], api_name="/send")
    assert history[0]["role"] == "user"
    reply = history[-1]["content"][0]["text"]
    assert reply.startswith("Here are my picks: Trail Runner Wireless Earbuds")
