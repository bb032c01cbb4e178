"""`recochat eval latency`: p50/p95 per pipeline stage (query embedding, filter,
each recall channel, exact rescoring, features, fusion, rerank) on the ReDial
catalog (6.6k movies, real MiniLM vectors, models trained on MovieLens) and on
a synthetic catalog of `--synthetic` items (100k by default).

The synthetic items are built from the real MiniLM vectors (each a real
movie's vector, plus a share of another's and some noise), so a real request
relates to them as it would to a real catalog's items and the recall of the
compressed dense stage means something; random Gaussian vectors would make
every nearest-neighbour search meaningless. Its collaborative and sequence
models come from synthetic sessions (EASE is left out there: its dense
item×item matrix does not fit, which is why item-kNN is the cf channel).

At 100k items the pipeline scans compressed vectors with exact rescoring
(retrieval/items/ann.py); the same queries also run through the exact-scan
pipeline in the same run, query by query in turn, so the speed-up is a ratio
under the same machine load. Their agreement is reported too: recall@100 of
the dense channel's candidates and recall@10 of the final list, each against
the exact scan.

Queries are real ReDial user utterances with the movies they mention as liked
items, so the item-to-item channels do real work. "recall+rank" is every
stage after the query embedding, which depends on the text, not the catalog.
The machine's load average is printed with the figures: on a shared 2-core
box wall-clock percentiles include waiting for a core.
"""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from eval.offline.data import DEFAULT_RATINGS, DEFAULT_TURNS, file_digest, load_index, load_ratings
from eval.offline.ml_models import train_models
from eval.offline.report import table, write_json
from retrieval import (
    CatalogIndex,
    ContentChannel,
    DenseChannel,
    Filter,
    InteractionMatrix,
    ItemKNN,
    ModelChannel,
    Pipeline,
    PipelineConfig,
    PopularChannel,
    Query,
    Reranker,
    SASRec,
    SASRecConfig,
    TitleLinker,
    make_embedder,
    recall_at_k,
    top_k,
)

WARMUP = 10
K = 10


def measure(
    pipes: dict[str, Pipeline], queries: list[Query], k: int = K
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, list[list[str]]]]:
    """Per pipeline, p50/p95 per stage; and each pipeline's top k per query. The
    pipelines take turns query by query, so they see the same machine load."""
    per_stage: dict[str, dict[str, list[float]]] = {name: {} for name in pipes}
    lists: dict[str, list[list[str]]] = {name: [] for name in pipes}
    for n, q in enumerate(tqdm(queries, desc="queries", disable=None, leave=False)):
        for name, pipe in pipes.items():
            query = copy.deepcopy(q)
            timings: dict[str, float] = {}
            started = time.perf_counter()
            for ch in pipe.channels:  # the request's embedding: the text's cost
                if isinstance(ch, DenseChannel):
                    ch.query_vector(query)
            embedded, cpu = time.perf_counter(), time.process_time()
            items = pipe.recommend(query, k, timings=timings)
            done = time.perf_counter()
            cpu = time.process_time() - cpu
            lists[name].append([it.id for it in items])
            if n < WARMUP:
                continue
            timings["embed"] = embedded - started
            timings["recall+rank"] = done - embedded
            timings["total"] = done - started
            # CPU seconds of recall+rank: what it costs when nothing else competes for
            # the cores (the wall-clock figures include waiting for them)
            timings["recall+rank (CPU time)"] = cpu
            for stage, seconds in timings.items():
                per_stage[name].setdefault(stage, []).append(seconds * 1000)
    return {
        name: {
            stage: {
                "p50": round(float(np.percentile(v, 50)), 3),
                "p95": round(float(np.percentile(v, 95)), 3),
            }
            for stage, v in stages.items()
        }
        for name, stages in per_stage.items()
    }, lists


def dense_recall(pipe: Pipeline, queries: list[Query], k: int = 100) -> float:
    """Mean recall@k of the compressed dense stage's top k (with rescoring) against
    the exact scan, under each query's filter."""
    if pipe.compressed is None:
        return 1.0
    found = []
    for q in queries:
        if q.vector is None:
            continue
        allowed = pipe.index.mask(q.filter)
        exact = top_k(pipe.index.vectors @ q.vector, k, allowed)
        approx = top_k(pipe.compressed.scores(q.vector[:, None], allowed)[:, 0], k, allowed)
        found.append(recall_at_k(exact, approx))
    return round(float(np.mean(found)), 4) if found else 1.0


def list_recall(exact: list[list[str]], approximate: list[list[str]]) -> float:
    """Mean share of the exact pipeline's final list that the other one shows too."""
    shares = [len(set(e) & set(a)) / len(e) for e, a in zip(exact, approximate, strict=True) if e]
    return round(float(np.mean(shares)), 4) if shares else 1.0


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


def synthetic_index(real: np.ndarray, n: int, seed: int = 0) -> tuple[CatalogIndex, np.ndarray]:
    """n items whose vectors look like real ones: a real vector, 0.3 of another and
    noise of norm ~0.5, normalised; a group per base item's block for the sessions."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, len(real), n)
    partner = rng.integers(0, len(real), n)
    noise = rng.normal(scale=0.5 / np.sqrt(real.shape[1]), size=(n, real.shape[1]))
    vectors = (real[base] + 0.3 * real[partner] + noise.astype(np.float32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cluster = base * 200 // len(real)
    metas = [
        {
            "title": f"item {i}",
            "category": f"cat{c % 20}",
            "brand": f"brand{int(b)}",
            "price": float(p),
            "rating": float(r),
            "rating_count": int(k),
            "in_stock": bool(s),
        }
        for i, (c, b, p, r, k, s) in enumerate(
            zip(
                cluster,
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
    """Sessions that stay within a group: 20k users × 20 events."""
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
    load_before = os.getloadavg()
    embedder = make_embedder(args.embedder)
    index = load_index(Path(args.catalog), args.embedder)
    real = _real_pipeline(index, embedder)
    # One BLAS thread per query: a 50×50 product took 24 ms at p95 with two
    # (thread hand-off on a busy 2-core box) and 0.02 ms with one; a server
    # runs queries side by side instead.
    limit = threadpool_limits(1)
    texts = real_queries(index, args.queries)
    queries = [Query(text=t, liked=liked) for t, liked in texts]
    timed, _ = measure({"real": real}, queries)
    results = {f"{len(index):,} items (ReDial)": timed["real"]}

    syn, cluster = synthetic_index(index.vectors, args.synthetic)
    compressed, exact, build_s = _synthetic_pipelines(syn, cluster, embedder)
    syn_queries = _synthetic_queries(syn, queries, embedder)
    timed, lists = measure({"compressed": compressed, "exact": exact}, syn_queries)
    size = f"{len(syn):,}"
    results[f"{size} items (synthetic)"] = timed["compressed"]
    results[f"{size} items, exact scan"] = timed["exact"]
    quality = {
        "dense_recall@100": dense_recall(compressed, syn_queries),
        f"final_list_recall@{K}": list_recall(lists["exact"], lists["compressed"]),
        "compressed_dims": compressed.config.compression.dims,
        "exact_rescored_rows": compressed.config.compression.exact_top,
        "build_seconds": build_s,
    }
    ratio = {
        p: round(timed["exact"]["recall+rank"][p] / timed["compressed"]["recall+rank"][p], 2)
        for p in ("p50", "p95")
    }

    print(_stage_table(results))
    print(
        f"{size} items: compressed dense stage vs the exact scan, same run: "
        f"recall+rank {ratio['p50']}× faster at p50, {ratio['p95']}× at p95; "
        f"dense recall@100 {quality['dense_recall@100']:.3f}, "
        f"final top-{K} recall {quality[f'final_list_recall@{K}']:.3f} "
        f"({quality['compressed_dims']} dims, {quality['exact_rescored_rows']} rows rescored "
        f"exactly, built in {build_s} s)"
    )
    load_after = os.getloadavg()
    machine = {
        "cpus": os.cpu_count(),
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in load_after],
    }
    print(f"machine: {machine} (load average 1/5/15 min, as `uptime` shows it)")
    report = {
        "results": results,
        "speedup_vs_exact_scan": ratio,
        "quality_vs_exact_scan": quality,
        "machine": machine,
        "queries": args.queries,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"wrote {write_json(Path(args.out) / 'latency.json', report)}")
    limit.restore_original_limits()
    return 0


def _real_pipeline(index, embedder) -> Pipeline:
    """The serving channels on the ReDial catalog, with models trained on MovieLens."""
    ratings = load_ratings(DEFAULT_RATINGS, index)
    models = train_models(ratings, index, file_digest(DEFAULT_RATINGS))
    return Pipeline(
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


def _synthetic_pipelines(syn, cluster, embedder) -> tuple[Pipeline, Pipeline, float]:
    """The same channels on the synthetic catalog, compressed (and the seconds its
    build took) and with the exact scan."""
    knn, sasrec = synthetic_models(syn, cluster)

    def synthetic_pipeline(config: PipelineConfig) -> Pipeline:
        channels = [
            DenseChannel(syn, embedder.embed),
            ContentChannel(syn),
            ModelChannel(syn, knn, "co_interaction"),
            ModelChannel(syn, knn, "cf"),
            ModelChannel(syn, sasrec, "sequence", use_history_order=True),
            PopularChannel(syn),
        ]
        return Pipeline(syn, channels, reranker=Reranker(syn), config=config)

    t = time.perf_counter()
    compressed = synthetic_pipeline(PipelineConfig())
    build_s = round(time.perf_counter() - t, 2)
    exact = synthetic_pipeline(PipelineConfig(compress_min_items=None))
    return compressed, exact, build_s


def _synthetic_queries(syn, queries: list[Query], embedder) -> list[Query]:
    """The real requests on the synthetic catalog: random likes and history, and a
    category filter on every other one."""
    rng = np.random.default_rng(1)
    vectors = embedder.embed([q.text for q in queries])
    syn_queries = []
    for n, (q, vector) in enumerate(zip(queries, vectors, strict=True)):
        flt = Filter(equals={"category": [f"cat{n % 20}"]}) if n % 2 else Filter()
        syn_queries.append(
            Query(
                text=q.text,
                vector=np.asarray(vector, np.float32),  # the text's cost is not the catalog's
                liked=[syn.ids[p] for p in rng.integers(0, len(syn), 3)],
                history=[syn.ids[p] for p in rng.integers(0, len(syn), 10)],
                filter=flt,
            )
        )
    return syn_queries


def _stage_table(results: dict[str, dict]) -> str:
    """p50 and p95 per stage (rows) and catalog (columns)."""
    stages = sorted({s for r in results.values() for s in r}, key=_stage_order)
    columns = ["stage"]
    for name in results:
        short = name.split(" items")[0] + (" exact" if "exact" in name else "")
        columns += [f"{short} p50", f"{short} p95"]
    rows = []
    for stage in stages:
        row = {"stage": stage}
        for name, r in results.items():
            short = name.split(" items")[0] + (" exact" if "exact" in name else "")
            if stage in r:
                row[f"{short} p50"] = r[stage]["p50"]
                row[f"{short} p95"] = r[stage]["p95"]
        rows.append(row)
    return table(rows, columns, "Latency per stage, milliseconds (1 thread per query)")


def _stage_order(stage: str) -> tuple[int, str]:
    order = [
        "embed",
        "filter",
        "recall:",
        "rescore",
        "features",
        "fusion",
        "rerank",
        "recall+rank",
        "total",
    ]
    if stage.endswith("(CPU time)"):
        return (len(order), stage)
    for n, prefix in enumerate(order):
        if stage.startswith(prefix) and not (prefix == "recall:" and stage == "recall+rank"):
            return (n, stage)
    return (len(order), stage)
