"""`recochat eval big-catalog`: the dense stage on a Chroma server holding a catalog
far larger than the shop's (a benchmark, not a test).

Synthetic items (random unit vectors of MiniLM's 384 dimensions, metadata price,
category, brand) go in batches straight into a throw-away `chroma run` (no
embedding model: the vectors are the data). At each size in `--sizes` the dense
stage (ItemStore.query_vector, what a worker's recall runs with a server
configured) answers fixed random query vectors, k=50, without and with a `where`
filter (one category and a price ceiling); it prints the build rate, p50/p95 of
each, recall@50 against the exact answers (brute force, kept up to date batch by
batch), this process's RSS next to the Chroma server's and the server's disk.
Building stops at `--minutes` of wall time, and says at which size. `--worker N`
then starts a real `recochat serve` on the collection and reports its RSS, how
long it took to be ready, and N turns' latency.

The build is the server inserting into its HNSW graph (its CPU, not the client,
HTTP or SQLite: profiled per server thread), so the collection is made with
ef_construction 40 instead of Chroma's 100 (about 1.5x faster to build; recall
cost measured in README.md) and sync_threshold 100,000 (the graph and its id map
are saved to disk every 100k items instead of after every 5,000-item batch; a
crash replays the rest from Chroma's write-ahead log; no difference was measurable
at 20k items). Both are settings of a real deployment's collection too.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

DIM = 384
BATCH = 5000
CATEGORIES = 20
BRANDS = 200
K = 50
PRICE_CEILING = 100.0


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIM), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class Exact:
    """The exact top k of fixed query vectors, by brute force, kept up to date as
    batches are added (so the catalog's vectors are never held): the truth that the
    server's HNSW answers are scored against. A query with a category holds only
    items of that category priced at most PRICE_CEILING (the `where` filter)."""

    def __init__(self, queries: np.ndarray, categories: np.ndarray | None) -> None:
        self.queries = queries
        self.categories = categories
        self.sims = np.full((len(queries), K), -np.inf, dtype=np.float32)
        self.rows = np.full((len(queries), K), -1, dtype=np.int64)

    def add(self, start: int, vectors: np.ndarray, categories: np.ndarray, prices: np.ndarray):
        sims = self.queries @ vectors.T
        if self.categories is not None:
            allowed = (categories[None, :] == self.categories[:, None]) & (
                prices[None, :] <= PRICE_CEILING
            )
            sims[~allowed] = -np.inf
        rows = np.broadcast_to(np.arange(start, start + len(vectors)), sims.shape)
        all_sims = np.concatenate([self.sims, sims], axis=1)
        all_rows = np.concatenate([self.rows, rows], axis=1)
        best = np.argpartition(-all_sims, K - 1, axis=1)[:, :K]
        self.sims = np.take_along_axis(all_sims, best, axis=1)
        self.rows = np.take_along_axis(all_rows, best, axis=1)

    def truth(self, n: int) -> set[str]:
        return {item_id(r) for r, s in zip(self.rows[n], self.sims[n], strict=True) if s > -np.inf}


def item_id(n: int) -> str:
    return f"big-{n:08d}"


class Columns:
    """Every item's price, category and brand as arrays (a few bytes per item), so
    the catalog's facets can be written the way an ingest writes them."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def metas(self) -> list[dict]:
        prices, categories, brands = (np.concatenate(c) for c in zip(*self.parts, strict=True))
        return [
            {"price": float(p), "category": f"cat{c}", "brand": f"brand{b}"}
            for p, c, b in zip(prices, categories, brands, strict=True)
        ]


def insert(
    store,
    rng: np.random.Generator,
    start: int,
    count: int,
    truths: list[Exact],
    columns: Columns,
) -> None:
    vectors = unit_vectors(rng, count)
    categories = np.arange(start, start + count) % CATEGORIES
    prices = rng.uniform(5, 500, count)
    brands = rng.integers(BRANDS, size=count)
    metas = [
        {"price": float(p), "category": f"cat{c}", "brand": f"brand{b}"}
        for p, c, b in zip(prices, categories, brands, strict=True)
    ]
    ids = [item_id(n) for n in range(start, start + count)]
    store.collection.add(ids=ids, embeddings=vectors, metadatas=metas)
    columns.parts.append((prices, categories, brands))
    for truth in truths:
        truth.add(start, vectors, categories, prices)


def measure(store, truth: Exact) -> tuple[list[float], float, int]:
    """Seconds per query, mean recall@K against the exact answers, and how many
    answers broke the filter (must be 0)."""
    from retrieval import Filter

    seconds, recalls, wrong = [], [], 0
    for n, vector in enumerate(truth.queries):
        flt = None
        if truth.categories is not None:
            category = f"cat{truth.categories[n]}"
            flt = Filter(equals={"category": [category]}, ranges={"price": (None, PRICE_CEILING)})
        started = time.perf_counter()
        found = store.query_vector(vector, K, flt)
        seconds.append(time.perf_counter() - started)
        expected = truth.truth(n)
        recalls.append(len(expected & {c.id for c in found}) / max(1, len(expected)))
        if flt is not None:
            wrong += sum(
                c.meta["category"] != category or c.meta["price"] > PRICE_CEILING for c in found
            )
    return seconds, float(np.mean(recalls)), wrong


def create_collection(chroma, args) -> None:
    """The collection with the build settings (see the module docstring), made
    before ItemStore opens it (ItemStore keeps a collection's settings)."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(
        host=chroma.host, port=chroma.port, settings=Settings(anonymized_telemetry=False)
    )
    hnsw = {
        "space": "cosine",
        "ef_construction": args.ef_construction,
        "max_neighbors": args.max_neighbors,
        "ef_search": args.ef_search,
        "sync_threshold": args.sync_threshold,
    }
    client.create_collection(
        "big",
        metadata={"embedder": f"hash:{DIM}"},  # what ItemStore checks on opening
        configuration={"hnsw": hnsw},  # type: ignore[typeddict-item]
        embedding_function=None,
    )


def tree_rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def measure_worker(chroma, turns: int) -> dict[str, object]:
    """A real worker (`recochat serve`, scripted LLM; it holds only each request's
    candidates from `bounded_from_items` on) on the big collection: how long it took
    to be ready, its RSS then and after `turns` turns, the turns' latency, and how
    many recommended items broke the request's filter (must be 0). Each session asks
    for one category under PRICE_CEILING, then for more."""
    import subprocess
    import tempfile

    import httpx

    from eval.perf.scale_out import RECOCHAT, Serve

    with tempfile.TemporaryDirectory(prefix="recochat-big-worker-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECOCHAT_")}
        env.update(
            RECOCHAT_HOME=str(Path(tmp) / "home"),
            RECOCHAT_EMBEDDER=f"hash:{DIM}",
            RECOCHAT_LLM="scripted",
            RECOCHAT_CHROMA_HOST=chroma.host,
            RECOCHAT_CHROMA_PORT=str(chroma.port),
            RECOCHAT_COLLECTION="big",
            RECOCHAT_RATE_LIMIT="100000/minute",
            ANONYMIZED_TELEMETRY="False",
            HF_HUB_OFFLINE="1",
        )
        if "RECOCHAT_BOUNDED_FROM_ITEMS" in os.environ:  # the one setting passed on
            env["RECOCHAT_BOUNDED_FROM_ITEMS"] = os.environ["RECOCHAT_BOUNDED_FROM_ITEMS"]
        key = subprocess.run(
            [RECOCHAT, "keys", "create", "big"], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        started = time.monotonic()
        server = Serve(env, Path(tmp) / "serve.log", 1)
        try:
            server.wait(3600)
            ready_s = time.monotonic() - started
            ready_rss = tree_rss_mb(server.process.pid)
            seconds: list[float] = []
            shown: list[tuple[str, str]] = []  # (item id, the category asked for)
            statuses: dict[int, int] = {}
            stages: dict[str, list[float]] = {}  # the turns' own timings (seconds)
            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=600
            ) as http:
                for n in range(turns):
                    if n % 2 == 0:
                        category = f"cat{(n // 2) % CATEGORIES}"
                        sid = http.post("/v1/sessions", json={}).json()["session_id"]
                    text = f"{category} under ${PRICE_CEILING:.0f}" if n % 2 == 0 else "more"
                    t = time.perf_counter()
                    r = http.post(f"/v1/sessions/{sid}/messages", json={"message": text})
                    seconds.append(time.perf_counter() - t)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        shown += [(card["id"], category) for card in r.json()["items"]]
                        for stage, took in r.json()["timings"].items():
                            stages.setdefault(stage, []).append(took)
            after_rss = tree_rss_mb(server.process.pid)
            wrong = broken_filters(chroma, shown)
            log = server.log()
            return {
                "worker_ready_s": round(ready_s, 1),
                "worker_rss_ready_mb": round(ready_rss),
                "worker_rss_after_turns_mb": round(after_rss),
                "turns": turns,
                "turn_p50_ms": round(1000 * percentile(seconds, 0.5)),
                "turn_p95_ms": round(1000 * percentile(seconds, 0.95)),
                "turn_max_ms": round(1000 * max(seconds)),
                "stage_p50_ms": {k: round(1000 * percentile(v, 0.5)) for k, v in stages.items()},
                "statuses": statuses,
                "items_shown": len(shown),
                "items_breaking_the_filter": wrong,
                "bounded": "each request ranks only its recalled candidates" in log,
                "load_avg": round(os.getloadavg()[0], 2),
            }
        finally:
            server.stop()


def broken_filters(chroma, shown: list[tuple[str, str]]) -> int:
    """How many shown items are not of the category asked for or cost more than
    PRICE_CEILING, read back from the server."""
    import chromadb
    from chromadb.config import Settings

    if not shown:
        return 0
    client = chromadb.HttpClient(
        host=chroma.host, port=chroma.port, settings=Settings(anonymized_telemetry=False)
    )
    ids = list(dict.fromkeys(i for i, _ in shown))
    got = client.get_collection("big").get(ids=ids, include=["metadatas"])
    metas = dict(zip(got["ids"], got["metadatas"] or [], strict=True))
    return sum(
        i not in metas
        or metas[i].get("category") != category
        or float(metas[i].get("price", 0.0)) > PRICE_CEILING  # type: ignore[arg-type]
        for i, category in shown
    )


def run(args) -> int:
    from eval.perf.services import ChromaServer, ServiceMissing
    from retrieval import ItemStore, discover_facets, make_embedder

    try:
        chroma = ChromaServer(Path(args.keep) if args.keep else None)
    except ServiceMissing as e:
        print(e)
        return 2
    if args.reuse:  # the kept directory holds a built collection: only the worker
        try:
            print(f"Chroma server at {chroma.host}:{chroma.port}, data in {chroma.dir}", flush=True)
            print(json.dumps(measure_worker(chroma, args.worker)), flush=True)
        finally:
            chroma.stop()
        return 0
    rng = np.random.default_rng(0)
    plain = Exact(unit_vectors(rng, args.queries), None)
    where = Exact(unit_vectors(rng, args.queries), np.arange(args.queries) % CATEGORIES)
    try:
        create_collection(chroma, args)
        print(f"Chroma server at {chroma.host}:{chroma.port}, data in {chroma.dir}", flush=True)
        store = ItemStore.http(chroma.host, chroma.port, make_embedder(f"hash:{DIM}"), "big")
        began, size, built_s, columns = time.monotonic(), 0, 0.0, Columns()
        for target in sorted(args.sizes):
            started = time.monotonic()
            while size < target and time.monotonic() - began < args.minutes * 60:
                count = min(BATCH, target - size)
                insert(store, rng, size, count, [plain, where], columns)
                size += count
            built_s += time.monotonic() - started
            store.write_facets(discover_facets(columns.metas()))
            store.reload()
            plain_s, plain_recall, _ = measure(store, plain)
            where_s, where_recall, wrong = measure(store, where)
            figures = {
                "items": store.count(),
                "build_items_per_s": round(size / built_s),
                "plain_p50_ms": round(1000 * percentile(plain_s, 0.5), 1),
                "plain_p95_ms": round(1000 * percentile(plain_s, 0.95), 1),
                "plain_recall": round(plain_recall, 3),
                "where_p50_ms": round(1000 * percentile(where_s, 0.5), 1),
                "where_p95_ms": round(1000 * percentile(where_s, 0.95), 1),
                "where_recall": round(where_recall, 3),
                "where_violations": wrong,
                "dense_stage_rss_mb": round(rss_mb(os.getpid())),
                "chroma_server_rss_mb": round(rss_mb(chroma.proc.pid)),
                "chroma_disk_mb": round(disk_mb(chroma.dir)),
                "load_avg": round(os.getloadavg()[0], 2),
            }
            print(
                f"{figures['items']} items in a Chroma server (built at "
                f"{figures['build_items_per_s']} items/s): k={K} p50/p95 "
                f"{figures['plain_p50_ms']}/{figures['plain_p95_ms']} ms, recall@{K} "
                f"{figures['plain_recall']}; with a where filter "
                f"{figures['where_p50_ms']}/{figures['where_p95_ms']} ms, recall@{K} "
                f"{figures['where_recall']} ({wrong} answers broke it); RSS of the dense "
                f"stage's process {figures['dense_stage_rss_mb']} MB, of the Chroma server "
                f"{figures['chroma_server_rss_mb']} MB, its disk {figures['chroma_disk_mb']} MB; "
                f"load average {figures['load_avg']}",
                flush=True,
            )
            print(json.dumps(figures), flush=True)
            if size < target:
                print(f"stopped building at {size} items: the {args.minutes} min budget is spent")
                break
        if args.worker:
            print(json.dumps(measure_worker(chroma, args.worker)), flush=True)
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
    p.add_argument("--ef-construction", type=int, default=40, help="hnsw ef_construction")
    p.add_argument("--max-neighbors", type=int, default=16, help="hnsw max_neighbors (M)")
    p.add_argument("--ef-search", type=int, default=100, help="hnsw ef_search")
    p.add_argument(
        "--sync-threshold", type=int, default=100_000, help="hnsw sync_threshold (items)"
    )
    p.add_argument(
        "--keep",
        metavar="DIR",
        help="the Chroma server's directory, kept afterwards (`chroma run --path DIR/data`)",
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: the directory holds a built collection; only run --worker on it",
    )
    p.add_argument(
        "--worker",
        type=int,
        default=0,
        metavar="TURNS",
        help="then start `recochat serve` on the server and time this many turns",
    )
    p.set_defaults(func=run)
