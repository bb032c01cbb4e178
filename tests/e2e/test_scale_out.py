"""Two workers (`recochat serve --workers 2`) on one PostgreSQL, one Redis and one
Chroma server, all real and throw-away (scripted LLM, hash embedder): many
sessions x turns spread over both workers with every turn and reply stored in
each session's order and no 5xx; a burst to one session never interleaves; the
rate limit is one limit across the workers; an item upserted through one worker
is served by both within the polling delay."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers.servers import FIXTURES, ApiServer, new_key, run_cli

from eval.perf.scale_out import ADMIN, drive, scale_out_env

pytestmark = pytest.mark.e2e
POLL_SECONDS = 1.0  # RECOCHAT_CATALOG_POLL_SECONDS in scale_out_env


@pytest.fixture(scope="module")
def served(tmp_path_factory, postgres, redis_server, chroma_server):
    tmp = tmp_path_factory.mktemp("scale")
    database = postgres.fresh_database("scale" + uuid.uuid4().hex[:8])
    env = scale_out_env(tmp / "home", database, redis_server.url, chroma_server.port)
    run_cli(env, "ingest", str(FIXTURES / "shop_small.jsonl"))
    server = ApiServer(env, tmp / "serve.log", "--workers", "2")
    server.wait()
    yield server, env
    server.stop()


def fresh(url: str, key: str) -> httpx.Client:
    """No keep-alive: each request is a new connection, which either worker may accept."""
    return httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def test_sessions_over_two_workers_are_stored_whole_and_in_order(served):
    server, env = served
    load = drive(server.url, new_key(env, "load"), sessions=12, turns=4, clients=6)
    assert load.server_errors == 0, (load.statuses, server.log())
    assert set(load.statuses) == {200, 201}
    assert len(load.workers) == 2, load.workers  # both workers served turns
    assert load.turns_stored == load.replies_stored == 48
    assert load.stored_in_order == 12


def test_a_burst_to_one_session_is_processed_one_turn_at_a_time(served):
    server, env = served
    key = new_key(env, "burst")
    with fresh(server.url, key) as http:
        sid = http.post("/v1/sessions", json={}).json()["session_id"]
    sent = [f"a quiet coffee grinder, message {n}" for n in range(8)]

    def send(text: str) -> tuple[int, str]:
        with fresh(server.url, key) as http:
            r = http.post(f"/v1/sessions/{sid}/messages", json={"message": text})
            return r.status_code, r.headers.get("x-recochat-worker", "?")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, sent))
    assert [status for status, _ in results] == [200] * 8
    with fresh(server.url, key) as http:
        messages = http.get(f"/v1/sessions/{sid}").json()["messages"]
    # each reply right after its own message: no turn ran inside another
    assert [m["role"] for m in messages] == ["user", "assistant"] * 8
    assert sorted(m["content"] for m in messages if m["role"] == "user") == sorted(sent)


def test_the_rate_limit_is_shared_by_the_workers(served):
    server, env = served
    key = new_key(env, "limited", "--rate-limit", "6/minute")

    def call(_: int) -> tuple[int, str]:
        with fresh(server.url, key) as http:
            r = http.post("/v1/sessions", json={})
            return r.status_code, r.headers.get("x-recochat-worker", "?")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(call, range(16)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 6 + [429] * 10, results
    assert len({worker for _, worker in results}) == 2, results  # both workers counted


def test_an_item_upserted_through_one_worker_is_served_by_both(served):
    server, _ = served
    item = {
        "id": "new-" + uuid.uuid4().hex[:6],
        "title": "Solar Camp Lantern",
        "description": "A solar lantern for camping.",
        "category": "outdoor",
        "price": 25.0,
    }
    with fresh(server.url, ADMIN) as http:
        r = http.put("/v1/admin/items", json={"items": [item]})
    assert r.status_code == 200 and r.json()["added"] == 1, r.text
    upserted = time.monotonic()
    seen: dict[str, float] = {}
    while len(seen) < 2 and time.monotonic() - upserted < POLL_SECONDS + 10:
        with fresh(server.url, ADMIN) as http:
            r = http.get(f"/v1/items/{item['id']}")
        if r.status_code == 200:
            seen.setdefault(r.headers["x-recochat-worker"], time.monotonic() - upserted)
        else:
            assert r.status_code == 404, r.text
        time.sleep(0.05)
    assert len(seen) == 2, seen
    assert max(seen.values()) < POLL_SECONDS + 3, seen
    with fresh(server.url, ADMIN) as http:
        r = http.post("/v1/search", json={"query": "solar lantern for camping", "k": 3})
    assert item["id"] in [card["id"] for card in r.json()["items"]], r.text
