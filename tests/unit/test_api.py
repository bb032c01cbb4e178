"""The HTTP API in-process (FastAPI's TestClient): keys, errors, limits, the native
routes, the OpenAI-compatible endpoint with the real `openai` client, and the
remote and LangChain LLM backends. Hash embedder and scripted LLM; the real
server, browser and models are in test_api_e2e.py, test_widget.py and
test_api_openai_backend.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers.api import api_client, shop_app
from helpers.servers import sse_frames

ADMIN = "admin-secret-for-tests"


def scripted_copy(messages) -> str:
    return "Here are my picks. Enjoy!"


@pytest.fixture
def api_app(home):
    from chat.llm import ScriptedLLM

    with shop_app(
        ScriptedLLM(fn=scripted_copy),
        admin_key=ADMIN,
        rate_limit="1000/minute",
        max_request_bytes=4096,
        cors_origins=["https://shop.example"],
    ) as app:
        yield app


@pytest.fixture
def client(api_app):
    with api_client(api_app) as c:
        yield c


@pytest.fixture
def keys(api_app):
    from chat.frontends.api.keys import KeyStore

    store = KeyStore(api_app.db)
    yield store
    store.close()


@pytest.fixture
def key(keys) -> dict[str, str]:
    _, secret = keys.create("tests")
    return {"Authorization": f"Bearer {secret}"}


def session(client, key) -> str:
    r = client.post("/v1/sessions", headers=key, json={})
    assert r.status_code == 201, r.text
    return r.json()["session_id"]


def assert_error(r, status: int, code: str | None = None) -> dict:
    """Every error has one shape, whatever went wrong."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "code", "param"}
    assert body["error"]["message"] and "Traceback" not in r.text
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


# --- keys ---------------------------------------------------------------------------------


def test_keys_are_stored_hashed_and_revoked_at_once(api_app, keys, client):
    made, secret = keys.create("shop-widget")
    assert secret.startswith("rc_") and len(secret) > 40
    rows = sqlite3.connect(api_app.db.path).execute("SELECT * FROM api_keys").fetchall()
    assert rows and not any(secret in str(cell) for row in rows for cell in row)

    headers = {"X-API-Key": secret}
    assert client.post("/v1/sessions", headers=headers).status_code == 201
    assert [k.id for k in keys.list()] == [made.id]
    keys.revoke("shop-widget")  # by name; the running server sees it on the next request
    assert_error(client.post("/v1/sessions", headers=headers), 401, "invalid_api_key")
    assert keys.list() == [] and keys.list(include_revoked=True)[0].revoked_at

    from chat.errors import ChatError

    with pytest.raises(ChatError, match="recochat keys list"):
        keys.revoke("nope")
    with pytest.raises(ChatError, match="10/second"):
        keys.create("x", rate_limit="lots")


def test_keys_command_creates_lists_and_revokes(home, capsys):
    from chat.frontends.cli import main

    assert main(["keys", "create", "widget", "--role", "admin", "--rate-limit", "5/second"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("rc_") and "only time the key is shown" in err
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert "widget" in listed and "admin" in listed and "5/second" in listed
    assert secret not in listed
    assert main(["keys", "revoke", "widget"]) == 0
    assert "Revoked key_" in capsys.readouterr().out
    assert main(["keys", "revoke", "widget"]) == 2
    assert "No live key" in capsys.readouterr().err


ROUTES = [
    ("post", "/v1/sessions"),
    ("get", "/v1/sessions/abc"),
    ("post", "/v1/sessions/abc/messages"),
    ("post", "/v1/sessions/abc/feedback"),
    ("post", "/v1/search"),
    ("get", "/v1/items/w1"),
    ("put", "/v1/admin/items"),
    ("delete", "/v1/admin/items/w1"),
    ("post", "/v1/admin/ingest"),
    ("post", "/v1/chat/completions"),
    ("get", "/v1/models"),
]


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_v1_route_needs_a_valid_key(client, method, path):
    for headers in ({}, {"Authorization": "Bearer rc_wrong"}, {"X-API-Key": "nope"}):
        r = getattr(client, method)(path, headers=headers)
        error = assert_error(r, 401, "invalid_api_key")
        assert "recochat keys create" in error["message"]
        assert r.headers["www-authenticate"] == "Bearer"


def test_admin_routes_need_the_admin_role(client, key, keys):
    assert_error(client.delete("/v1/admin/items/w1", headers=key), 403, "forbidden")
    _, admin_secret = keys.create("ops", role="admin")
    r = client.delete("/v1/admin/items/nope", headers={"Authorization": f"Bearer {admin_secret}"})
    assert_error(r, 404, "item_not_found")


# --- messages ---------------------------------------------------------------------------


def test_a_message_gets_a_json_reply_with_items_and_is_persisted(client, key, api_app):
    sid = session(client, key)
    r = client.post(f"/v1/sessions/{sid}/messages", headers=key, json={"message": "coffee"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["session_id"] == sid and body["reply"] == "Here are my picks. Enjoy!"
    assert body["items"] and {"id", "title", "explanation", "price"} <= set(body["items"][0])
    kinds = [e["type"] for e in body["events"]]
    assert kinds[0] == "items" and kinds[-1] == "done" and "text" in kinds
    assert {"recall", "rank", "total"} <= set(body["timings"])
    history = api_app.db.history(sid)
    assert [m.role for m in history] == ["user", "assistant"]
    assert history[1].content == body["reply"]


def test_a_streamed_message_is_server_sent_events_of_the_turn(client, key):
    sid = session(client, key)
    r = client.post(
        f"/v1/sessions/{sid}/messages", headers=key, json={"message": "coffee", "stream": True}
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_frames(r.text)
    names = [e for e, _ in events]
    assert names[0] == "items" and names[-1] == "done"
    assert names.count("text") >= 3  # word by word, like the model streams
    data = [json.loads(d) for _, d in events]
    assert all(d["type"] == e for (e, _), d in zip(events, data, strict=True))
    assert "".join(d["text"] for d in data if d["type"] == "text").strip() == data[-1]["reply"]
    # The Accept header alone also asks for a stream.
    r = client.post(
        f"/v1/sessions/{sid}/messages",
        headers={**key, "Accept": "text/event-stream"},
        json={"message": "stickers"},
    )
    assert r.headers["content-type"].startswith("text/event-stream")


@pytest.mark.parametrize(
    "body, code",
    [
        (b'{"message": ""}', "empty_message"),
        (b'{"message": "   "}', "empty_message"),
        (json.dumps({"message": "x" * 2001}).encode(), "message_too_long"),
        (b'{"message": "ab\\u0000\\u0000cd"}', "binary_message"),
        (b'{"message": "\\ud800"}', "invalid_encoding"),
        (b'{"message": "hi \\udfff there", "stream": true}', "invalid_encoding"),
        (b'{"message": ', "invalid_json"),
        (b'{"message": "\xff\xfe"}', "invalid_json"),
        (b"[1, 2]", "invalid_request"),
        (b'{"message": 5}', "invalid_request"),
        (b'{"message": "hi", "extra": 1}', "invalid_request"),
        (b'{"\\ud800": "hi"}', "invalid_encoding"),
    ],
)
def test_bad_messages_are_422_in_one_shape_never_500(client, key, api_app, body, code):
    sid = session(client, key)
    headers = {**key, "Content-Type": "application/json"}
    r = client.post(f"/v1/sessions/{sid}/messages", headers=headers, content=body)
    assert_error(r, 422, code)
    assert api_app.db.history(sid) == []  # nothing was stored


def test_a_range_bound_must_be_a_number(client, key):
    body = {"query": "tea", "filters": {"ranges": {"price": {"min": True}}}}
    assert_error(client.post("/v1/search", headers=key, json=body), 422)
    body["filters"]["ranges"]["price"] = {"min": 5, "max": 20.5}
    assert client.post("/v1/search", headers=key, json=body).status_code == 200


def test_lone_surrogates_anywhere_are_422(client, key):
    sid = session(client, key)
    headers = {**key, "Content-Type": "application/json"}
    for path, body in [
        ("/v1/sessions", b'{"user_id": "\\ud800"}'),
        (f"/v1/sessions/{sid}/feedback", b'{"item_id": "\\udc00", "kind": "like"}'),
        ("/v1/search", b'{"query": "tea \\ud800"}'),
        ("/v1/search", b'{"query": "tea", "filters": {"equals": {"category": ["\\ud800"]}}}'),
        ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "\\ud800"}]}'),
        ("/v1/chat/completions", b'{"model": "\\ud800", "messages": []}'),
    ]:
        assert_error(client.post(path, headers=headers, content=body), 422)


def test_nul_and_control_characters_in_ids_are_422(client, key):
    sid = session(client, key)
    headers = {**key, "Content-Type": "application/json"}
    for path, body in [
        ("/v1/sessions", b'{"user_id": "visitor\\u0000admin"}'),
        (f"/v1/sessions/{sid}/feedback", b'{"item_id": "w1\\u0000", "kind": "like"}'),
        (
            "/v1/chat/completions",
            b'{"user": "a\\u0000", "messages": [{"role": "user", "content": "x"}]}',
        ),
        (
            "/v1/chat/completions",
            b'{"session_id": "a\\nb", "messages": [{"role": "user", "content": "x"}]}',
        ),
    ]:
        error = assert_error(client.post(path, headers=headers, content=body), 422)
        assert "control characters" in error["message"], (path, error)
    for path in ("/v1/items/w1%00", f"/v1/sessions/{sid}%00"):
        assert_error(client.get(path, headers=key), 422)


def test_a_lone_surrogate_in_an_ingested_row_is_422_naming_the_line(client):
    admin = {"Authorization": f"Bearer {ADMIN}"}
    body = b'{"id": "ok", "title": "Tea", "description": "green"}\n'
    body += b'{"id": "s1", "title": "Tea \\ud800", "description": "green"}\n'
    r = client.post("/v1/admin/ingest?format=jsonl", headers=admin, content=body)
    error = assert_error(r, 422, "invalid_catalog")
    assert "body:2: field 'title': holds a lone surrogate" in error["message"]
    nul = b'{"id": "n\\u00001", "title": "Tea", "description": "green"}\n'
    r = client.post("/v1/admin/ingest?format=jsonl", headers=admin, content=nul)
    assert "body:1: field 'id': must not hold control characters" in assert_error(r, 422)["message"]
    assert client.get("/healthz").status_code == 200  # the connection and server are fine


def test_unknown_session_route_and_method_are_4xx_in_one_shape(client, key):
    r = client.post("/v1/sessions/nope/messages", headers=key, json={"message": "hi"})
    assert "POST /v1/sessions" in assert_error(r, 404, "session_not_found")["message"]
    assert_error(client.get("/v1/sessions/nope", headers=key), 404, "session_not_found")
    assert_error(client.get("/v2/anything", headers=key), 404, "not_found")
    assert_error(client.patch("/v1/sessions", headers=key), 405, "method_not_allowed")


def test_bodies_over_the_limit_are_413(client, key):
    sid = session(client, key)
    big = json.dumps({"message": "x" * 5000})
    r = client.post(f"/v1/sessions/{sid}/messages", headers=key, content=big)
    assert_error(r, 413, "request_too_large")

    def chunked():  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b" " * 1000

    r = client.post(
        f"/v1/sessions/{sid}/messages",
        headers={**key, "Content-Type": "application/json"},
        content=chunked(),
    )
    assert_error(r, 413, "request_too_large")


def test_rate_limits_are_per_key_with_retry_after(client, keys, key):
    _, secret = keys.create("slow", rate_limit="3/minute")
    slow = {"Authorization": f"Bearer {secret}"}
    assert [client.post("/v1/sessions", headers=slow).status_code for _ in range(3)] == [201] * 3
    r = client.post("/v1/sessions", headers=slow)
    error = assert_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["retry-after"]) <= 60 and "Retry in" in error["message"]
    assert client.post("/v1/sessions", headers=key).status_code == 201  # other keys are unaffected
    assert "recochat_rate_limited_total 1.0" in client.get("/metrics").text


def test_cors_allows_only_the_configured_origins(client):
    def preflight(origin):
        return client.options(
            "/v1/sessions",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )

    ok = preflight("https://shop.example")
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://shop.example"
    bad = preflight("https://evil.example")
    assert "access-control-allow-origin" not in bad.headers


# --- history, feedback, catalog ----------------------------------------------------------


def test_feedback_is_recorded_and_returned_with_the_history(client, key):
    sid = session(client, key)
    items = client.post(f"/v1/sessions/{sid}/messages", headers=key, json={"message": "coffee"})
    first = items.json()["items"][0]["id"]
    r = client.post(
        f"/v1/sessions/{sid}/feedback", headers=key, json={"item_id": first, "kind": "like"}
    )
    assert r.status_code == 201 and r.json()["kind"] == "like" and "message" in r.json()
    history = client.get(f"/v1/sessions/{sid}", headers=key).json()
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]
    assert history["messages"][1]["items"][0]["id"] == first
    assert [(f["item_id"], f["kind"], f["source"]) for f in history["feedback"]] == [
        (first, "like", "api")
    ]
    assert 'recochat_feedback_total{kind="like"} 1.0' in client.get("/metrics").text

    bad = {"item_id": "no-such-item", "kind": "like"}
    assert_error(client.post(f"/v1/sessions/{sid}/feedback", headers=key, json=bad), 404)
    bad = {"item_id": first, "kind": "love"}
    assert_error(client.post(f"/v1/sessions/{sid}/feedback", headers=key, json=bad), 422)


def test_search_applies_filters_and_explains(client, key, api_app):
    from chat.recommend import request_state, search
    from retrieval import Filter

    r = client.post(
        "/v1/search",
        headers=key,
        json={"query": "coffee", "k": 5, "filters": {"ranges": {"price": {"max": 30}}}},
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert items and all(i["price"] <= 30 for i in items) and items[0]["explanation"]
    # the chat's recommender ranked them, and the reasons are its real contributions
    state = request_state("coffee", Filter(ranges={"price": (None, 30.0)}))
    found = search(api_app.recommender, state, 5)
    assert [i["id"] for i in items] == [i.id for i in found.items]
    for item, scored in zip(items, found.items, strict=True):
        assert item["score"] == pytest.approx(sum(scored.contributions.values()), abs=1e-3)
        assert item["reasons"] and all(reason["contribution"] > 0 for reason in item["reasons"])
    assert (
        "under your budget" in items[0]["explanation"]
        or "within your budget" in items[0]["explanation"]
    )
    r = client.post(
        "/v1/search",
        headers=key,
        json={"query": "gear", "filters": {"equals": {"category": ["electronics"]}}},
    )
    assert {i["category"] for i in r.json()["items"]} == {"electronics"}
    # a field no item has: "equals" matches nothing, "excludes" everything
    nothing = {"query": "gear", "filters": {"equals": {"colour": ["red"]}}}
    assert client.post("/v1/search", headers=key, json=nothing).json() == {"items": []}
    anything = {"query": "gear", "k": 3, "filters": {"excludes": {"colour": ["red"]}}}
    assert len(client.post("/v1/search", headers=key, json=anything).json()["items"]) == 3
    for bad in [
        {"query": ""},
        {"query": "x", "k": 0},
        {"query": "x", "filters": {"equals": {"a": []}}},
    ]:
        assert_error(client.post("/v1/search", headers=key, json=bad), 422)


def test_get_item(client, key):
    r = client.get("/v1/items/w4", headers=key)
    assert r.status_code == 200
    assert (
        r.json()["title"].startswith("Hacker Sticker Pack") and "_hash" not in r.json()["metadata"]
    )
    assert_error(client.get("/v1/items/nope", headers=key), 404, "item_not_found")


def test_admin_upserts_deletes_and_ingests(client, key):
    admin = {"Authorization": f"Bearer {ADMIN}"}
    row = {"id": "n1", "title": "Bamboo Tea Whisk", "description": "For matcha.", "price": 12.0}
    r = client.put("/v1/admin/items", headers=admin, json={"items": [row]})
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 1 and r.json()["items_in_store"] == 7
    found = client.post("/v1/search", headers=key, json={"query": "matcha tea whisk", "k": 1})
    assert found.json()["items"][0]["id"] == "n1"

    r = client.put("/v1/admin/items", headers=admin, json={"items": [{"id": "n2", "price": 1}]})
    error = assert_error(r, 422, "invalid_catalog")
    assert "items:1: field 'title'" in error["message"] and "/tmp" not in error["message"]

    assert client.delete("/v1/admin/items/n1", headers=admin).json() == {"deleted": 1}
    assert_error(client.get("/v1/items/n1", headers=key), 404)

    jsonl = "\n".join(json.dumps({**row, "id": f"f{i}", "title": f"Tea {i}"}) for i in range(3))
    r = client.post("/v1/admin/ingest?format=jsonl", headers=admin, content=jsonl)
    assert r.status_code == 200 and r.json()["added"] == 3
    csv = "id,title,description,price\nc1,Clay Teapot,A small teapot.,30\nc2,,no title,5\n"
    r = client.post("/v1/admin/ingest?format=csv&skip_bad=true", headers=admin, content=csv)
    assert r.json()["added"] == 1 and r.json()["skipped"] == 1
    assert r.json()["skipped_rows"][0].startswith("body:3")
    assert_error(client.post("/v1/admin/ingest", headers=admin, content=b""), 422)


# --- operations -------------------------------------------------------------------------


def test_health_readiness_metrics_docs(client, key):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    sid = session(client, key)
    client.post(f"/v1/sessions/{sid}/messages", headers=key, json={"message": "coffee"})
    text = client.get("/metrics").text
    for name in (
        'recochat_http_requests_total{method="POST",route="/v1/sessions/{session_id}/messages",status="200"}',
        'recochat_turn_stage_seconds_count{stage="recall"}',
        'recochat_turn_stage_seconds_count{stage="llm_first_token"}',
        "recochat_turn_first_event_seconds_count 1.0",
        'recochat_llm_tokens_total{model="scripted"}',
        "recochat_recommendations_total 3.0",
        'recochat_turns_total{outcome="done"} 1.0',
    ):
        assert name in text, name
    schema = client.get("/openapi.json").json()
    assert (
        "/v1/chat/completions" in schema["paths"]
        and "/v1/sessions/{session_id}/messages" in schema["paths"]
    )
    assert client.get("/docs").status_code == 200


def test_widget_and_demo_page_are_served(client):
    r = client.get("/widget.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    r = client.get("/demo", params={"key": "rc_abc-DEF_123"})
    assert 'data-key="rc_abc-DEF_123"' in r.text and 'src="http://testserver/widget.js"' in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert 'id="no-key" hidden' in r.text
    r = client.get("/demo", params={"key": '"><script>alert(1)</script>'})
    assert "<script>alert" not in r.text and 'data-key=""' in r.text


def test_the_widget_never_builds_html_from_strings():
    js = (Path(__file__).parents[2] / "chat" / "frontends" / "static" / "widget.js").read_text()
    code = "\n".join(line for line in js.splitlines() if not line.strip().startswith("*"))
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
    ):
        assert sink not in code, sink
    assert "textContent" in code and 'protocol === "https:"' in code


# --- OpenAI-compatible endpoint, with the real openai client -------------------------------


def openai_client(client, secret):
    from openai import OpenAI

    return OpenAI(
        base_url="http://testserver/v1", api_key=secret, http_client=client, max_retries=0
    )


def test_the_openai_client_works_unchanged(client, keys):
    _, secret = keys.create("oa")
    oa = openai_client(client, secret)
    first = oa.chat.completions.create(
        model="recochat", messages=[{"role": "user", "content": "coffee"}]
    )
    assert first.choices[0].message.content == "Here are my picks. Enjoy!"
    assert first.choices[0].finish_reason == "stop" and first.usage.completion_tokens > 0
    recs = first.recommendations
    assert recs and {"id", "title", "explanation"} <= set(recs[0])

    # The client resends the history: the same session continues.
    follow = oa.chat.completions.create(
        model="recochat",
        messages=[
            {"role": "system", "content": "You are a shop assistant."},
            {"role": "user", "content": "coffee"},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": [{"type": "text", "text": "something cheaper"}]},
        ],
    )
    assert follow.session_id == first.session_id

    stream = oa.chat.completions.create(
        model="recochat",
        messages=[{"role": "user", "content": "stickers for my laptop"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == "Here are my picks. Enjoy!"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    with_items = [c for c in chunks if getattr(c, "recommendations", None)]
    assert len(with_items) == 1 and with_items[0].recommendations[0]["id"] == "w4"
    assert chunks[-1].usage.completion_tokens > 0
    assert [m.id for m in oa.models.list()] == ["recochat"]

    import openai

    with pytest.raises(openai.UnprocessableEntityError):
        oa.chat.completions.create(model="recochat", messages=[{"role": "user", "content": " "}])
    with pytest.raises(openai.PermissionDeniedError, match="llm"):
        oa.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "x"}])
    # a model we do not serve is refused as OpenAI refuses it, not silently answered
    with pytest.raises(openai.NotFoundError, match="recochat") as refused:
        oa.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert refused.value.code == "model_not_found"


def test_the_sse_stream_ends_with_done(client, key):
    r = client.post(
        "/v1/chat/completions",
        headers=key,
        json={"messages": [{"role": "user", "content": "coffee"}], "stream": True},
    )
    assert r.headers["content-type"].startswith("text/event-stream")
    frames = [d for _, d in sse_frames(r.text)]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len({c["id"] for c in chunks}) == 1


# --- LLM backends --------------------------------------------------------------------------


def test_openai_backend_streams_from_another_recochat(client, keys):
    """OpenAICompatLLM against this API serving its (scripted) model raw."""
    from chat.llm.errors import ModelError
    from chat.llm.openai_compat import OpenAICompatLLM

    _, secret = keys.create("backend", role="llm")
    llm = OpenAICompatLLM(
        "http://testserver/v1", "scripted", client=openai_client(client, secret)
    ).load()
    pieces = list(llm.stream([{"role": "user", "content": "hi"}], max_tokens=50))
    assert len(pieces) > 1 and "".join(pieces) == "Here are my picks. Enjoy!"
    cut = llm.complete([{"role": "user", "content": "hi"}], stop=["picks"])
    assert cut == "Here are my "  # stop strings are honoured even if a server ignores them

    from openai import OpenAI

    raw = OpenAI(base_url="http://testserver/v1", api_key=secret, http_client=client)
    whole = raw.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": "x"}]
    )
    assert whole.choices[0].message.content == "Here are my picks. Enjoy!"
    assert whole.model == "scripted" and whole.recommendations == []
    assert "scripted" in [m.id for m in raw.models.list()]

    missing = OpenAICompatLLM("http://testserver/v1", "gpt-9", client=openai_client(client, secret))
    with pytest.raises(ModelError, match="RECOCHAT_OPENAI_MODEL"):
        missing.load()
    _, chat_only = keys.create("chat-only")
    refused = OpenAICompatLLM(
        "http://testserver/v1", "scripted", client=openai_client(client, chat_only)
    )
    with pytest.raises(ModelError, match="RECOCHAT_OPENAI_API_KEY"):
        list(refused.stream([{"role": "user", "content": "hi"}]))


def test_the_raw_model_continues_a_begun_reply_only_when_it_can(client, keys, api_app):
    from chat.llm.openai_compat import OpenAICompatLLM

    _, secret = keys.create("backend", role="llm")
    begun = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello"}]
    r = client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {secret}"},
        json={"model": "scripted", "messages": begun, "continue_final_message": True},
    )
    assert r.status_code == 422 and "does not continue" in r.json()["error"]["message"]
    api_app.llm.continues = True  # as the local engines declare
    llm = OpenAICompatLLM(
        "http://testserver/v1", "scripted", client=openai_client(client, secret), continues=True
    )
    assert llm.complete(begun) == "Here are my picks. Enjoy!"  # the scripted continuation
    assert api_app.llm.calls[-1][-1] == begun[-1]  # the model saw the begun reply


def test_openai_backend_names_the_fix_when_unreachable():
    from conftest import MODEL_CACHE  # noqa: F401 - only to share the tests' import path

    from chat.llm.errors import ModelError
    from chat.llm.openai_compat import OpenAICompatLLM

    llm = OpenAICompatLLM("http://127.0.0.1:9/v1", "m", timeout=2, max_retries=0)
    with pytest.raises(ModelError, match="Cannot reach .*RECOCHAT_OPENAI_BASE_URL"):
        llm.complete([{"role": "user", "content": "hi"}])
    with pytest.raises(ModelError, match="RECOCHAT_OPENAI_BASE_URL"):
        OpenAICompatLLM("", "m")


def fake_chat_model():
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    return GenericFakeChatModel(messages=iter(["A fine pick: the Trail Runner earbuds. STOP here"]))


def test_langchain_backend_streams_any_chat_model():
    from chat.llm.langchain_backend import LangChainLLM, load_chat_model

    llm = LangChainLLM(fake_chat_model())
    pieces = list(
        llm.stream(
            [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}], stop=["STOP"]
        )
    )
    assert len(pieces) > 1 and "".join(pieces) == "A fine pick: the Trail Runner earbuds. "
    assert isinstance(load_chat_model("test_api:fake_chat_model"), LangChainLLM)

    from chat.llm.errors import ModelError

    with pytest.raises(ModelError, match="package.module:name"):
        load_chat_model("no-colon")
    with pytest.raises(ModelError, match="Cannot import"):
        load_chat_model("no_such_module_x:thing")
    with pytest.raises(ModelError, match="not a LangChain chat model"):
        LangChainLLM(object())


def test_the_composition_root_picks_the_backend(home):
    from chat.app import App
    from chat.config import load_settings
    from chat.llm import ScriptedLLM
    from chat.llm.langchain_backend import LangChainLLM
    from chat.llm.openai_compat import OpenAICompatLLM

    def llm_of(**settings):
        app = App.open(load_settings(embedder="hash", **settings))
        try:
            return app.llm
        finally:
            app.close()

    assert isinstance(llm_of(llm="scripted"), ScriptedLLM)
    remote = llm_of(
        llm="smollm2-135m", llm_backend="openai", openai_base_url="http://127.0.0.1:9/v1"
    )
    assert isinstance(remote, OpenAICompatLLM) and remote.name == "smollm2-135m"
    chained = llm_of(llm_backend="langchain", langchain_model="test_api:fake_chat_model")
    assert isinstance(chained, LangChainLLM)


def test_the_langchain_retriever_recalls_and_ranks(api_app):
    from chat.frontends.retriever import RecochatRetriever
    from chat.recommend import search
    from chat.state import DialogueState

    docs = RecochatRetriever.from_app(api_app, k=2).invoke("coffee gear under $30")
    assert len(docs) == 2
    assert all(d.metadata["price"] <= 30 for d in docs)  # the tracker read the budget
    assert docs[0].metadata["explanation"] and docs[0].page_content.startswith(
        docs[0].metadata["title"]
    )
    assert {"id", "title", "score", "explanation", "reasons", "price"} <= set(docs[0].metadata)
    # the same search as a first chat turn saying this
    state = api_app.tracker.update(DialogueState(), "coffee gear under $30")
    assert [d.id for d in docs] == [i.id for i in search(api_app.recommender, state, 2).items]


def test_serve_refuses_several_workers_and_a_busy_port(home, capsys):
    import socket

    from chat.errors import ChatError
    from chat.frontends.api.server import bind
    from chat.frontends.cli import main

    assert main(["serve", "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "one process per data directory" in err and "RECOCHAT_DATABASE_URL" in err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ChatError, match="Pass --port"):
            bind("127.0.0.1", taken.getsockname()[1])


# --- hand-off to a person, and the demo page's widget look --------------------------------


@pytest.fixture
def webhook():
    """A shop's hand-off webhook on loopback: records what it receives; fails on demand."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict] = []
    state = {"status": 204}

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received, state
    server.shutdown()


def test_handoff_sends_the_conversation_to_the_shops_webhook(api_app, key, webhook):
    from fastapi.testclient import TestClient

    from chat.frontends.api.server import create_api

    url, received, state = webhook
    api_app.settings.handoff_webhook = url
    api_app.settings.handoff_email = "help@shop.example"
    with TestClient(create_api(api_app, gradio=False)) as client:
        options = client.get("/v1/handoff", headers=key).json()
        assert options == {
            "available": True,
            "url": None,
            "email": "help@shop.example",
            "webhook": True,  # the webhook's address stays on the server
        }
        sid = session(client, key)
        client.post(f"/v1/sessions/{sid}/messages", headers=key, json={"message": "coffee"})
        r = client.post(f"/v1/sessions/{sid}/handoff", headers=key, json={"reason": "asked"})
        assert r.status_code == 201 and r.json()["sent"] is True and r.json()["message"]
        [sent] = received
        assert (
            sent["session_id"] == sid and sent["reason"] == "asked" and sent["api_key"] == "tests"
        )
        assert [m["role"] for m in sent["messages"]] == ["user", "assistant"]
        assert sent["messages"][0]["content"] == "coffee" and sent["messages"][1]["items"]

        state["status"] = 500  # the shop's service is down: a clear error to retry later
        err = assert_error(client.post(f"/v1/sessions/{sid}/handoff", headers=key), 503)
        assert err["code"] == "handoff_failed" and "try again" in err["message"]
        assert_error(
            client.post("/v1/sessions/nope/handoff", headers=key), 404, "session_not_found"
        )
        assert_error(client.post(f"/v1/sessions/{sid}/handoff"), 401)


def test_handoff_is_off_unless_configured_and_only_over_http(client, key, home):
    from chat.config import load_settings
    from chat.errors import ConfigError

    assert client.get("/v1/handoff", headers=key).json()["available"] is False
    sid = session(client, key)
    assert_error(
        client.post(f"/v1/sessions/{sid}/handoff", headers=key), 404, "handoff_unavailable"
    )
    for bad in (
        {"handoff_url": "javascript:alert(1)"},
        {"handoff_webhook": "file:///etc/passwd"},
        {"handoff_email": "not an address"},
    ):
        with pytest.raises(ConfigError, match="handoff_"):
            load_settings(**bad)


def test_the_demo_page_previews_the_widgets_look(client):
    r = client.get(
        "/demo",
        params={
            "key": "rc_k",
            "color": "#c2185b",
            "theme": "dark",
            "position": "left",
            "title": "Help",
        },
    )
    assert 'data-color="#c2185b" data-theme="dark" data-position="left" data-title="Help"' in r.text
    r = client.get(
        "/demo", params={"key": "rc_k", "color": "red;}<x>", "theme": "neon", "title": '"><b>'}
    )
    tag = r.text[r.text.index('<script src="http://testserver/widget.js"') :]
    assert "data-color" not in tag and "data-theme" not in tag
    assert 'data-title="&quot;&gt;&lt;b&gt;"' in r.text  # shown as text, never markup


def test_pictures_come_from_the_data_dir_then_the_demo_catalog(client, api_app):
    demo = client.get("/images/outdoor.svg")
    assert demo.status_code == 200 and demo.headers["content-type"] == "image/svg+xml"
    assert demo.content.startswith(b"<svg")
    own = api_app.home.path / "images"
    own.mkdir()
    (own / "outdoor.svg").write_text("<svg id='mine'/>")
    assert b"mine" in client.get("/images/outdoor.svg").content
    for bad in ("../recochat.sqlite3", "..%2Frecochat.sqlite3", "x.exe", "nope.svg"):
        answer = client.get(f"/images/{bad}")
        assert answer.status_code == 404 and b"SQLite format" not in answer.content


def test_the_web_chat_inlines_recochat_pictures_and_refuses_other_schemes(tmp_path):
    from chat.frontends.images import Images
    from chat.frontends.web_cards import _image_url

    images = Images(tmp_path)
    assert _image_url("/images/kitchen.svg", images).startswith("data:image/svg+xml;base64,")
    assert _image_url("https://shop.example/a.png", images) == "https://shop.example/a.png"
    assert _image_url("javascript:alert(1)", images) is None
    assert _image_url("/images/missing.svg", images) is None


def test_recochat_ingest_names_the_line_of_a_lone_surrogate(home, tmp_path, capsys):
    from chat.frontends.cli import main

    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": "s1", "title": "Tea \\ud800", "description": "green"}\n')
    assert main(["ingest", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:1: field 'title': holds a lone surrogate" in err and "Traceback" not in err


def test_the_gradio_chat_is_off_unless_asked_for(api_app):
    """/chat/ runs model turns with no key and no limit: not mounted by default."""
    from fastapi.testclient import TestClient

    from chat.frontends.api.server import create_api

    assert api_app.settings.serve_gradio is False
    with TestClient(create_api(api_app)) as c:
        assert c.post("/chat/gradio_api/call/send", json={"data": ["tea", []]}).status_code == 404
        assert c.post("/chat/gradio_api/queue/join", json={}).status_code == 404
