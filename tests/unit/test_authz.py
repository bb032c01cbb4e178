"""A session belongs to the key that created it: every route that takes a session id
(in its path or its body) answers 404 to any other key, found from the app's route
table, so a route added later is covered without editing this test."""

from __future__ import annotations

import pytest
from helpers.api import api_client, shop_app

from chat.frontends.api.completions import RECOMMENDER

SAMPLE_BODIES = {
    # a valid body per route, so a refusal can only come from the ownership check
    "/v1/sessions/{session_id}/messages": {"message": "a tent please"},
    "/v1/sessions/{session_id}/feedback": {"item_id": "w1", "kind": "like"},
    "/v1/sessions/{session_id}/handoff": {"reason": "asked"},
    "/v1/chat/completions": {
        "model": RECOMMENDER,
        "messages": [{"role": "user", "content": "a tent please"}],
    },
}


def api_routes(routes, prefix: str = ""):
    """Every APIRoute, also those inside included routers (FastAPI keeps an included
    router as one entry of the app's route table)."""
    from fastapi.routing import APIRoute

    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix, route
        elif hasattr(route, "original_router"):
            inner = prefix + route.include_context.prefix
            yield from api_routes(route.original_router.routes, inner)


def session_routes(api) -> list[tuple[str, str, str]]:
    """(method, path, where the id goes: path, body or query) for every route that
    takes a session id."""
    found = []
    for prefix, route in api_routes(api.routes):
        path = prefix + route.path
        in_body = any(
            "session_id" in getattr(p.field_info.annotation, "model_fields", {})
            for p in route.dependant.body_params
        )
        in_query = any(p.name == "session_id" for p in route.dependant.query_params)
        for method in sorted(route.methods):
            if "{session_id}" in path:
                found.append((method, path, "path"))
            elif in_body:
                found.append((method, path, "body"))
            elif in_query:
                found.append((method, path, "query"))
    return found


def call(client, method: str, path: str, where: str, sid: str, headers: dict):
    body = dict(SAMPLE_BODIES.get(path, {}))
    if where == "body":
        body["session_id"] = sid
    url = path.replace("{session_id}", sid)
    params = {"session_id": sid} if where == "query" else None
    return client.request(method, url, headers=headers, json=body or None, params=params)


@pytest.fixture
def client(home, monkeypatch):
    # a webhook nobody answers: the owner gets past the ownership check to a 503
    monkeypatch.setenv("RECOCHAT_HANDOFF_WEBHOOK", "http://127.0.0.1:9/hook")
    with shop_app(rate_limit="1000/minute") as app, api_client(app) as c:
        yield c


@pytest.fixture
def keys(client):
    from chat.frontends.api.keys import KeyStore

    store = KeyStore(client.app.state.ctx.app.db)
    yield store
    store.close()


def test_no_key_reaches_another_keys_session_on_any_route(client, keys):
    # /v1/admin/sessions/…: a person's data rights, for the shop's admin key whoever made
    # the session (chat/frontends/api/data_rights.py); other roles get 403 there
    admin_routes = [r for r in session_routes(client.app) if r[1].startswith("/v1/admin/")]
    routes = [r for r in session_routes(client.app) if not r[1].startswith("/v1/admin/")]
    paths = {p for _, p, _ in routes}
    # the routes this test must find; a new one is found by itself
    assert {
        "/v1/sessions/{session_id}",
        "/v1/sessions/{session_id}/messages",
        "/v1/sessions/{session_id}/feedback",
        "/v1/sessions/{session_id}/handoff",
        "/v1/chat/completions",
    } <= paths
    unknown = paths - set(SAMPLE_BODIES) - {"/v1/sessions/{session_id}"}
    assert not unknown, f"give {unknown} a sample body in SAMPLE_BODIES"

    owner = {"Authorization": f"Bearer {keys.create('owner')[1]}"}
    others = [
        {"Authorization": f"Bearer {keys.create('other')[1]}"},
        {"Authorization": f"Bearer {keys.create('other-llm', role='llm')[1]}"},
        {"Authorization": f"Bearer {keys.create('other-admin', role='admin')[1]}"},
    ]
    sid = client.post("/v1/sessions", headers=owner, json={}).json()["session_id"]
    assert client.post(f"/v1/sessions/{sid}/messages", headers=owner, json={"message": "hi"})

    tried = crossed = 0
    for method, path, where in routes:
        for other in others:
            r = call(client, method, path, where, sid, other)
            tried += 1
            if r.status_code != 404 or r.json()["error"]["code"] != "session_not_found":
                crossed += 1
                print("CROSSED", method, path, r.status_code, r.text[:200])
    print(
        f"authorization: {len(routes)} session routes x {len(others)} other keys = {tried} "
        f"calls, {crossed} cross-key successes"
    )
    assert crossed == 0
    stored = client.get(f"/v1/sessions/{sid}", headers=owner).json()
    assert len(stored["messages"]) == 2 and stored["feedback"] == []  # nothing landed

    # the owner gets through every route: the 404s above are the ownership check
    for method, path, where in routes:
        r = call(client, method, path, where, sid, owner)
        assert r.status_code != 404, (method, path, r.text)
    assert {p for _, p, _ in admin_routes} == {
        "/v1/admin/sessions/{session_id}",
        "/v1/admin/sessions/{session_id}/export",
    }
    for method, path, where in admin_routes:
        for key in (owner, others[0], others[1]):
            assert call(client, method, path, where, sid, key).status_code == 403, (method, path)
