"""Workers on one PostgreSQL, one Redis and one Chroma server, all real and
throw-away (scripted LLM, hash embedder): `recochat serve --workers 2` on one port
and a second `recochat serve` on another (as behind any load balancer). The client
alternates between the two ports, so every check crosses processes by
construction: sessions x turns with every turn and reply stored in each session's
order and no 5xx, spread over all three workers; a burst to one session never
loses a turn's state; the rate limit is one limit for all; an item upserted
through one is served by the other within the polling delay."""

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
    workers = [ApiServer(env, tmp / "pool.log", "--workers", "2"), ApiServer(env, tmp / "one.log")]
    try:
        for worker in workers:
            worker.wait()
        yield [w.url for w in workers], env
    finally:
        for worker in workers:
            worker.stop()


def fresh(url: str, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def test_sessions_over_two_workers_are_stored_whole_and_in_order(served):
    urls, env = served
    load = drive(urls, new_key(env, "load"), sessions=8, turns=4, clients=4)
    assert load.server_errors == 0, load.statuses
    assert set(load.statuses) == {200, 201}
    # each session's turns alternate between the ports; the first port's two workers
    # (SO_REUSEPORT) both take some: responses name their worker process
    assert load.workers.pop(urls[1]) == 16, load.workers
    assert len(load.workers) == 2 and sum(load.workers.values()) == 16, load.workers
    assert load.turns_stored == load.replies_stored == 32
    assert load.stored_in_order == 8


def test_a_burst_to_one_session_over_both_workers_loses_no_turn(served):
    urls, env = served
    key = new_key(env, "burst")
    with fresh(urls[0], key) as http:
        sid = http.post("/v1/sessions", json={}).json()["session_id"]
    sent = [f"a quiet coffee grinder, message {n}" for n in range(8)]

    def send(n: int) -> int:
        with fresh(urls[n % 2], key) as http:
            return http.post(f"/v1/sessions/{sid}/messages", json={"message": sent[n]}).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(send, range(8))) == [200] * 8
    with fresh(urls[1], key) as http:
        messages = http.get(f"/v1/sessions/{sid}").json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 8
    assert sorted(m["content"] for m in messages if m["role"] == "user") == sorted(sent)
    # each turn started from the state the one before stored (the session lock): none lost
    with fresh(urls[0], ADMIN) as http:
        state = http.get(f"/v1/admin/sessions/{sid}/export").json()["session"]["state"]
    assert state["turns"] == 8, state


def test_the_rate_limit_is_shared_by_the_workers(served):
    urls, env = served
    key = new_key(env, "limited", "--rate-limit", "6/minute")

    def call(n: int) -> int:
        with fresh(urls[n % 2], key) as http:
            return http.post("/v1/sessions", json={}).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(call, range(16)))
    assert statuses == [201] * 6 + [429] * 10, statuses


def test_an_item_upserted_through_one_worker_is_served_by_the_other(served):
    urls, _ = served
    item = {
        "id": "new-" + uuid.uuid4().hex[:6],
        "title": "Solar Camp Lantern",
        "description": "A solar lantern for camping.",
        "category": "outdoor",
        "price": 25.0,
    }
    with fresh(urls[1], ADMIN) as http:
        assert http.get(f"/v1/items/{item['id']}").status_code == 404
    with fresh(urls[0], ADMIN) as http:
        r = http.put("/v1/admin/items", json={"items": [item]})
    assert r.status_code == 200 and r.json()["added"] == 1, r.text
    upserted = time.monotonic()
    with fresh(urls[1], ADMIN) as http:
        while http.get(f"/v1/items/{item['id']}").status_code == 404:
            assert time.monotonic() - upserted < POLL_SECONDS + 10, "never seen"
            time.sleep(0.05)
        delay = time.monotonic() - upserted
        r = http.post("/v1/search", json={"query": "solar lantern for camping", "k": 3})
    print(f"item upserted through one worker served by the other after {delay:.2f} s")
    assert delay < POLL_SECONDS + 3
    assert item["id"] in [card["id"] for card in r.json()["items"]], r.text
