"""A worker on a catalog it does not hold: `recochat serve` against a real Chroma
server with RECOCHAT_BOUNDED_FROM_ITEMS=0 (what a 1M-item catalog gets by default),
started on 5,000 items and again on 20,000. Its memory must not follow the
catalog (a worker holding it grows about 8 KB per item: ~120 MB for these 15,000),
and its turns must still recommend items that satisfy the request's filter."""

from __future__ import annotations

import json
import random

import httpx
import pytest
from helpers.servers import ApiServer, new_key, run_cli, server_env

pytestmark = pytest.mark.e2e

KINDS = ["kettle", "lamp", "chair", "backpack", "blender", "jacket", "speaker", "tent"]
GROWTH_MIB = 40  # allowed RSS growth from 5,000 to 20,000 items


def write_catalog(path, count: int) -> None:
    rng = random.Random(7)
    with open(path, "w") as out:
        for n in range(count):
            kind = KINDS[n % len(KINDS)]
            brand = f"Maker{rng.randrange(60)}"
            item = {
                "id": f"it{n:06d}",
                "title": f"{brand} {kind.title()} {n}",
                "description": f"A {rng.choice(['small', 'sturdy', 'light'])} {kind}.",
                "category": kind,
                "brand": brand,
                "price": round(rng.uniform(5, 300), 2),
            }
            out.write(json.dumps(item) + "\n")


def serve_and_talk(env, log, key_name: str) -> tuple[float, list[tuple[str, dict]]]:
    """Start a worker, run a few sessions' turns, and return its RSS after them and
    each recommended card with what its request asked for."""
    server = ApiServer(env, log)
    try:
        server.wait()
        key = new_key(env, key_name)
        shown = []
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
        ) as http:
            for kind, ceiling in [("kettle", 40), ("lamp", 80), ("tent", 150), ("chair", 60)]:
                sid = http.post("/v1/sessions", json={}).json()["session_id"]
                for text in [f"a {kind} under ${ceiling}", "show me more"]:
                    r = http.post(f"/v1/sessions/{sid}/messages", json={"message": text})
                    assert r.status_code == 200, r.text
                    shown += [
                        (card["id"], {"kind": kind, "ceiling": ceiling})
                        for card in r.json()["items"]
                    ]
        return server.rss_mb(), shown
    finally:
        server.stop()


def test_a_bounded_worker_does_not_grow_with_the_catalog(tmp_path, chroma_server):
    import chromadb
    from chromadb.config import Settings

    env = server_env(
        tmp_path / "home",
        chroma_host="127.0.0.1",
        chroma_port=str(chroma_server.port),
        collection="bounded",
        bounded_from_items="0",
        rate_limit="100000/minute",
    )
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    write_catalog(small, 5_000)
    write_catalog(big, 20_000)  # the same first 5,000 items, and 15,000 more

    run_cli(env, "ingest", str(small))
    rss_small, shown_small = serve_and_talk(env, tmp_path / "small.log", "small")
    run_cli(env, "ingest", str(big))
    rss_big, shown_big = serve_and_talk(env, tmp_path / "big.log", "big")
    print(f"bounded worker RSS: {rss_small:.0f} MiB on 5,000 items, {rss_big:.0f} MiB on 20,000")
    assert rss_big - rss_small < GROWTH_MIB, (rss_small, rss_big)
    assert "each request ranks only its recalled candidates" in (tmp_path / "big.log").read_text()

    # every card satisfies the filter its request asked for
    client = chromadb.HttpClient(
        host="127.0.0.1", port=chroma_server.port, settings=Settings(anonymized_telemetry=False)
    )
    shown = shown_small + shown_big
    assert len(shown) >= 8, shown
    ids = list(dict.fromkeys(i for i, _ in shown))
    metas = client.get_collection("bounded").get(ids=ids, include=["metadatas"])
    by_id = dict(zip(metas["ids"], metas["metadatas"], strict=True))
    wrong = [
        (i, by_id[i], asked)
        for i, asked in shown
        if by_id[i]["category"] != asked["kind"] or by_id[i]["price"] > asked["ceiling"]
    ]
    assert not wrong, wrong
