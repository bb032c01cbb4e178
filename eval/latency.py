"""`recochat eval latency`: p50/p95 per pipeline stage (query embedding, filter,
each recall channel, features, fusion, rerank) on the ReDial catalog (6.6k
movies, real MiniLM vectors, models trained on MovieLens) and on a synthetic
catalog of `--synthetic` items (100k by default: clustered random vectors,
shop metadata, synthetic sessions for item-kNN and SASRec; EASE is left out
there because its dense item×item matrix does not fit, which is why item-kNN
is the collaborative channel at that size).

Queries are real ReDial user utterances with the movies they mention as liked
items, so the item-to-item channels do real work. "recall+rank" is every
stage after the query embedding, which depends on the text, not the catalog.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from retrieval import Filter
from retrieval.cf import InteractionMatrix, ItemKNN
from retrieval.channels import ContentChannel, DenseChannel, ModelChannel, PopularChannel, Query
from retrieval.embedders import make_embedder
from retrieval.index import CatalogIndex
from retrieval.linking import TitleLinker
from retrieval.pipeline import Pipeline
from retrieval.rerank import Reranker
from retrieval.sequence import SASRec, SASRecConfig

from .data import DEFAULT_RATINGS, DEFAULT_TURNS, file_digest, load_index, load_ratings
from .ml_models import train_models
from .report import table, write_json

WARMUP = 10


def measure(pipe: Pipeline, queries: list[Query], k: int = 10) -> dict[str, dict[str, float]]:
    per_stage: dict[str, list[float]] = {}
    for n, q in enumerate(tqdm(queries, desc="queries", disable=None, leave=False)):
        timings: dict[str, float] = {}
        started, cpu = time.perf_counter(), time.process_time()
        pipe.recommend(q, k, timings=timings)
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if n < WARMUP:
            continue
        timings["recall+rank"] = total - timings.get("embed", 0.0)
        timings["total"] = total
        # CPU seconds of the whole query: what it costs when nothing else competes
        # for the cores (the wall-clock figures include waiting for them)
        timings["total (CPU time)"] = cpu
        for stage, seconds in timings.items():
            per_stage.setdefault(stage, []).append(seconds * 1000)
    return {
        stage: {
            "p50": round(float(np.percentile(v, 50)), 3),
            "p95": round(float(np.percentile(v, 95)), 3),
        }
        for stage, v in per_stage.items()
    }


def real_queries(index: CatalogIndex, n: int) -> list[tuple[str, list[str]]]:
    linker = TitleLinker({i: m["title"] for i, m in zip(index.ids, index.metas, strict=True)})
    out = []
    with open(DEFAULT_TURNS, encoding="utf-8") as f:
        for line in f:
            context = [u for u in json.loads(line)["context"] if u.strip()]
            out.append((context[-1], linker.link(" ".join(context))))
            if len(out) == n + WARMUP:
                break
    return out


def synthetic_index(n: int, dim: int, seed: int = 0) -> CatalogIndex:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, dim)).astype(np.float32)
    cluster = rng.integers(0, 200, n)
    vectors = centres[cluster] + rng.normal(scale=1.5, size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cats = [f"cat{c % 20}" for c in cluster]
    metas = [
        {
            "title": f"item {i}",
            "category": cats[i],
            "brand": f"brand{int(b)}",
            "price": float(p),
            "rating": float(r),
            "rating_count": int(c),
            "in_stock": bool(s),
        }
        for i, (b, p, r, c, s) in enumerate(
            zip(
                rng.integers(0, 500, n),
                rng.uniform(5, 500, n).round(2),
                rng.uniform(1, 5, n).round(1),
                rng.zipf(1.6, n).clip(0, 100_000),
                rng.random(n) > 0.1,
                strict=True,
            )
        )
    ]
    return CatalogIndex([f"s{i}" for i in range(n)], metas, vectors), cluster


def synthetic_models(index: CatalogIndex, cluster: np.ndarray, seed: int = 0):
    """Sessions that stay within a cluster: 20k users × 20 events."""
    rng = np.random.default_rng(seed)
    members: dict[int, np.ndarray] = {}
    for c in np.unique(cluster):
        members[int(c)] = np.flatnonzero(cluster == c)
    users, items, seqs = [], [], []
    for u in range(20_000):
        pool = members[int(rng.integers(0, len(members)))]
        picks = rng.choice(pool, 20)
        users += [str(u)] * 20
        items += [index.ids[p] for p in picks]
        seqs.append(picks.tolist())
    data = InteractionMatrix.build(users, items, item_ids=index.ids)
    knn = ItemKNN(50).fit(data)
    sasrec = SASRec(SASRecConfig(epochs=1, max_len=20)).fit(seqs[:2000], index.ids)
    return knn, sasrec


def run_latency(args) -> int:
    started = time.perf_counter()
    embedder = make_embedder(args.embedder)
    index = load_index(Path(args.catalog), args.embedder)
    ratings = load_ratings(DEFAULT_RATINGS, index)
    models = train_models(ratings, index, file_digest(DEFAULT_RATINGS))
    real = Pipeline(
        index,
        [
            DenseChannel(index, embedder.embed),
            ContentChannel(index),
            ModelChannel(index, models["item_knn"], "co_interaction"),
            ModelChannel(index, models["ease"], "cf"),
            ModelChannel(index, models["sasrec"], "sequence", use_history_order=True),
            PopularChannel(index),
        ],
        reranker=Reranker(index),
    )
    # One BLAS thread per query: a 50×50 product took 24 ms at p95 with two
    # (thread hand-off on a busy 2-core box) and 0.02 ms with one; a server
    # runs queries side by side instead.
    limit = threadpool_limits(1)
    texts = real_queries(index, args.queries)
    queries = [Query(text=t, liked=liked) for t, liked in texts]
    results = {f"{len(index):,} items (ReDial)": measure(real, queries)}

    syn, cluster = synthetic_index(args.synthetic, index.vectors.shape[1])
    knn, sasrec = synthetic_models(syn, cluster)
    syn_pipe = Pipeline(
        syn,
        [
            DenseChannel(syn, embedder.embed),
            ContentChannel(syn),
            ModelChannel(syn, knn, "co_interaction"),
            ModelChannel(syn, knn, "cf"),
            ModelChannel(syn, sasrec, "sequence", use_history_order=True),
            PopularChannel(syn),
        ],
        reranker=Reranker(syn),
    )
    rng = np.random.default_rng(1)
    syn_queries = []
    for n, (t, _) in enumerate(texts):
        flt = Filter(equals={"category": [f"cat{n % 20}"]}) if n % 2 else Filter()
        syn_queries.append(
            Query(
                text=t,
                liked=[syn.ids[p] for p in rng.integers(0, len(syn), 3)],
                history=[syn.ids[p] for p in rng.integers(0, len(syn), 10)],
                filter=flt,
            )
        )
    results[f"{len(syn):,} items (synthetic)"] = measure(syn_pipe, syn_queries)

    stages = sorted({s for r in results.values() for s in r}, key=_stage_order)
    rows = []
    for stage in stages:
        row = {"stage": stage}
        for name, r in results.items():
            if stage in r:
                row[f"{name.split(' ')[0]} p50"] = r[stage]["p50"]
                row[f"{name.split(' ')[0]} p95"] = r[stage]["p95"]
        rows.append(row)
    columns = ["stage"] + [f"{n.split(' ')[0]} {p}" for n in results for p in ("p50", "p95")]
    print(table(rows, columns, "Latency per stage, milliseconds (1 thread per query)"))
    machine = {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}
    print(f"machine: {machine}")
    report = {
        "results": results,
        "machine": machine,
        "queries": args.queries,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"wrote {write_json(Path(args.out) / 'latency.json', report)}")
    limit.restore_original_limits()
    return 0


def _stage_order(stage: str) -> tuple[int, str]:
    order = ["embed", "filter", "recall:", "features", "fusion", "rerank", "recall+rank", "total"]
    if stage.startswith("total ("):
        return (len(order), stage)
    for n, prefix in enumerate(order):
        if stage.startswith(prefix) and not (prefix == "recall:" and stage == "recall+rank"):
            return (n, stage)
    return (len(order), stage)
