"""`recochat eval big-catalog`: the dense stage on a Chroma server holding a catalog
far larger than the shop's (a benchmark, not a test).

Synthetic items (random unit vectors of MiniLM's 384 dimensions, metadata price,
category, brand) go in batches straight into a throw-away `chroma run` (no
embedding model: the vectors are the data). At each size in `--sizes` the dense
stage (ItemStore.query_vector, what a worker's recall runs with a server
configured) answers random query vectors, k=50, without and with a `where` filter
(one category and a price ceiling); it prints the build rate, p50/p95 of each, and
this process's RSS next to the Chroma server's: the catalog stays in the server.
Building stops at `--minutes` of wall time, and says at which size.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

DIM = 384
BATCH = 5000
CATEGORIES = 20
BRANDS = 200


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def insert(store, rng: np.random.Generator, start: int, count: int) -> None:
    vectors = rng.standard_normal((count, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"big-{n:08d}" for n in range(start, start + count)]
    metas = [
        {
            "price": float(rng.uniform(5, 500)),
            "category": f"cat{n % CATEGORIES}",
            "brand": f"brand{rng.integers(BRANDS)}",
        }
        for n in range(start, start + count)
    ]
    store.collection.add(ids=ids, embeddings=vectors, metadatas=metas)


def latencies(store, rng: np.random.Generator, queries: int, flt) -> tuple[list[float], int]:
    """Seconds per query, and how many answers broke the filter (must be 0)."""
    seconds, wrong = [], 0
    for n in range(queries):
        vector = rng.standard_normal(DIM).astype(np.float32)
        vector /= np.linalg.norm(vector)
        f = flt(n) if flt else None
        started = time.perf_counter()
        found = store.query_vector(vector, 50, f)
        seconds.append(time.perf_counter() - started)
        if f is not None:
            category = f.equals["category"][0]
            wrong += sum(c.meta["category"] != category or c.meta["price"] > 100 for c in found)
    return seconds, wrong


def run(args) -> int:
    from eval.perf.services import ChromaServer, ServiceMissing
    from retrieval import Filter, ItemStore, make_embedder

    def filtered(n: int) -> Filter:
        return Filter(equals={"category": [f"cat{n % CATEGORIES}"]}, ranges={"price": (None, 100)})

    try:
        chroma = ChromaServer()
    except ServiceMissing as e:
        print(e)
        return 2
    rng = np.random.default_rng(0)
    try:
        store = ItemStore.http(chroma.host, chroma.port, make_embedder(f"hash:{DIM}"), "big")
        began, size, built_s = time.monotonic(), 0, 0.0
        for target in sorted(args.sizes):
            started = time.monotonic()
            while size < target and time.monotonic() - began < args.minutes * 60:
                count = min(BATCH, target - size)
                insert(store, rng, size, count)
                size += count
            built_s += time.monotonic() - started
            store.reload()
            plain, _ = latencies(store, rng, args.queries, None)
            where, wrong = latencies(store, rng, args.queries, filtered)
            figures = {
                "items": store.count(),
                "build_items_per_s": round(size / built_s),
                "plain_p50_ms": round(1000 * percentile(plain, 0.5), 1),
                "plain_p95_ms": round(1000 * percentile(plain, 0.95), 1),
                "where_p50_ms": round(1000 * percentile(where, 0.5), 1),
                "where_p95_ms": round(1000 * percentile(where, 0.95), 1),
                "where_violations": wrong,
                "dense_stage_rss_mb": round(rss_mb(os.getpid())),
                "chroma_server_rss_mb": round(rss_mb(chroma.proc.pid)),
                "load_avg": round(os.getloadavg()[0], 2),
            }
            print(
                f"{figures['items']} items in a Chroma server (built at "
                f"{figures['build_items_per_s']} items/s): k=50 p50/p95 "
                f"{figures['plain_p50_ms']}/{figures['plain_p95_ms']} ms, with a where filter "
                f"{figures['where_p50_ms']}/{figures['where_p95_ms']} ms "
                f"({wrong} answers broke it); RSS of the dense stage's process "
                f"{figures['dense_stage_rss_mb']} MB, of the Chroma server "
                f"{figures['chroma_server_rss_mb']} MB; load average {figures['load_avg']}",
                flush=True,
            )
            print(json.dumps(figures), flush=True)
            if size < target:
                print(f"stopped building at {size} items: the {args.minutes} min budget is spent")
                break
    finally:
        chroma.stop()
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "big-catalog", help="dense recall on a Chroma server with a big synthetic catalog"
    )
    p.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[100_000, 300_000, 1_000_000],
        help="catalog sizes to measure at, comma-separated",
    )
    p.add_argument("--queries", type=int, default=200, help="queries per measurement")
    p.add_argument("--minutes", type=float, default=40, help="building budget")
    p.set_defaults(func=run)
