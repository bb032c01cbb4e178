"""Issue 14's security fixes against a real `recochat serve` on 127.0.0.1 (hash
embedder, scripted LLM, traces to the console): no Gradio chat without --gradio,
sessions bound to their key, no raw card number or e-mail in the SQLite files or the
server's log after a run, 4xx for the bad inputs found, and the stage spans of a turn."""

from __future__ import annotations

import httpx
import pytest
from helpers.servers import ADMIN, FIXTURES, ApiServer, server_env

CARDS = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005"]
EMAILS = ["jane.doe+shop@example.co.uk", "omar_haddad@web.de"]
PHONE = "+44 20 7946 0958"
IBAN = "DE89 3704 0044 0532 0130 00"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server for the module; its keys are made in-process and its catalog comes
    through the admin API, which spares three CLI starts (~5 s each on a busy machine)."""
    from chat.frontends.api.keys import KeyStore
    from chat.persist.sqlite import SqliteDatabase

    home = tmp_path_factory.mktemp("sec-home")
    env = server_env(home, admin_key=ADMIN, rate_limit="100000/minute", otel_exporter="console")
    server = ApiServer(env, tmp_path_factory.mktemp("sec-log") / "server.log")
    try:
        server.wait(ready=lambda r: r.json()["checks"]["model"] == "ready")
        store = KeyStore(SqliteDatabase(home / "recochat.sqlite3"), owns_db=True)
        keys = {name: store.create(name)[1] for name in ("owner", "other")}
        store.close()
        r = httpx.post(
            server.url + "/v1/admin/ingest?format=jsonl",
            headers={"Authorization": f"Bearer {ADMIN}"},
            content=(FIXTURES / "web_shop.jsonl").read_bytes(),
            timeout=120,
        )
        assert r.status_code == 200, r.text
        yield server, env, keys, home
    finally:
        server.stop()


def client(server, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


@pytest.mark.e2e
def test_no_llm_turn_without_a_key_on_any_mounted_ui(served):
    server, _, _, _ = served
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        for method, path in [
            ("POST", "/chat/gradio_api/call/send"),
            ("POST", "/chat/gradio_api/queue/join"),
            ("GET", "/chat/gradio_api/queue/data?session_hash=x"),
            ("POST", "/chat/gradio_api/run/send"),
            ("GET", "/chat/"),
        ]:
            r = anon.request(method, path, json={"data": ["a tent", []], "fn_index": 0})
            assert r.status_code == 404, (path, r.status_code)
        assert anon.post("/v1/sessions", json={}).status_code == 401
        metrics = anon.get("/metrics").text
    assert 'recochat_turns_total{outcome="done"}' not in metrics  # no turn ran at all


@pytest.mark.e2e
def test_another_key_gets_404_for_a_session(served):
    server, _, keys, _ = served
    with client(server, keys["owner"]) as owner, client(server, keys["other"]) as other:
        sid = owner.post("/v1/sessions", json={}).json()["session_id"]
        assert (
            owner.post(f"/v1/sessions/{sid}/messages", json={"message": "tea"}).status_code == 200
        )
        calls = [
            ("GET", f"/v1/sessions/{sid}", None),
            ("POST", f"/v1/sessions/{sid}/messages", {"message": "more"}),
            ("POST", f"/v1/sessions/{sid}/feedback", {"item_id": "w1", "kind": "like"}),
            ("POST", f"/v1/sessions/{sid}/handoff", {}),
            (
                "POST",
                "/v1/chat/completions",
                {"session_id": sid, "messages": [{"role": "user", "content": "more"}]},
            ),
        ]
        for method, path, body in calls:
            r = other.request(method, path, json=body)
            assert r.status_code == 404, (path, r.text)
        assert len(owner.get(f"/v1/sessions/{sid}").json()["messages"]) == 2


@pytest.mark.e2e
def test_no_raw_card_number_or_email_in_the_database_or_the_log(served):
    server, _, keys, home = served
    with client(server, keys["owner"]) as http:
        sid = http.post("/v1/sessions", json={}).json()["session_id"]
        for text in [
            f"my card is {CARDS[0]} and my email {EMAILS[0]}",
            f"wireless earbuds, call {PHONE}, refund to {IBAN}",
            f"pay with {CARDS[1]}, write to {EMAILS[1]}",
        ]:
            r = http.post(f"/v1/sessions/{sid}/messages", json={"message": text, "stream": True})
            assert r.status_code == 200
        r = http.post(
            "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": f"tea, card {CARDS[2]}"}]},
        )
        assert r.status_code == 200
        history = http.get(f"/v1/sessions/{sid}").json()["messages"]
    stored = " ".join(m["content"] for m in history)
    assert "<CREDIT_CARD>" in stored and "<EMAIL_ADDRESS>" in stored and "<IBAN_CODE>" in stored
    files = [p for p in home.iterdir() if p.name.endswith((".sqlite3", "-wal", "-shm"))]
    assert files, list(home.iterdir())
    raw = b"".join(p.read_bytes() for p in files) + server.log_path.read_bytes()
    leaks = [v for v in CARDS + EMAILS if v.encode() in raw or v.replace(" ", "").encode() in raw]
    assert leaks == []


@pytest.mark.e2e
def test_bad_input_is_4xx_and_a_reference_to_nothing_is_a_chat_reply(served):
    server, _, keys, _ = served
    with client(server, ADMIN) as admin:
        body = b'{"id": "s1", "title": "Tea \\ud800", "description": "green"}\n'
        r = admin.post("/v1/admin/ingest?format=jsonl", content=body)
        assert r.status_code == 422 and "body:1: field 'title'" in r.json()["error"]["message"]
        assert admin.get("/healthz").status_code == 200  # the same connection still works
    with client(server, keys["owner"]) as http:
        r = http.post("/v1/sessions", json={"user_id": "visitor\u0000admin"})
        assert r.status_code == 422
        sid = http.post("/v1/sessions", json={}).json()["session_id"]
        r = http.post(f"/v1/sessions/{sid}/feedback", json={"item_id": "w1\u0000", "kind": "like"})
        assert r.status_code == 422
        r = http.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
        r = http.post(f"/v1/sessions/{sid}/messages", json={"message": "what about the last one?"})
        assert r.status_code == 200 and "not shown you any items yet" in r.json()["reply"]


@pytest.mark.e2e
def test_a_turn_is_traced_per_stage(served):
    server, _, keys, _ = served
    with client(server, keys["owner"]) as http:
        sid = http.post("/v1/sessions", json={}).json()["session_id"]
        assert http.post(f"/v1/sessions/{sid}/messages", json={"message": "earbuds"}).is_success
    log = server.log_path.read_text()
    for name in ("recochat.turn", "recochat.state", "recochat.recall", "recochat.rank"):
        assert f'"name": "{name}"' in log, name
    assert '"name": "recochat.llm"' in log
    assert '"name": "POST /v1/sessions/{session_id}/messages"' in log
