"""`recochat eval movielens`: leave-one-out next-item ranking on MovieLens.

Ratings are mapped to catalog items through `ml_movieId` (the same mapping
`recochat interactions import --catalog-field ml_movieId` uses). Per user, in
time order: the last item is the test target, the one before it the
validation target, the rest trains the models. Every model ranks all catalog
items except the ones the user already rated; Recall@10 (= hit rate) and
NDCG@10 per model. The fused ranker learns its weights on the validation
targets only, then ranks the test targets with the history up to them.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from tqdm import tqdm

from retrieval.channels import ContentChannel, ModelChannel, PopularChannel, Query
from retrieval.features import FeatureBuilder, FeatureConfig
from retrieval.fusion import Example, learn_fusion
from retrieval.pipeline import Pipeline
from retrieval.sequence import SASRecConfig

from .data import Ratings, file_digest, load_index, load_ratings, sequences
from .metrics import beyond_accuracy, rank_metrics
from .ml_models import popularity_counts, train_models
from .redial import Featurised, rank_pool
from .report import table, write_json

COLUMNS = ["ranker", "R@10", "NDCG@10", "R@50", "MRR", "samples"]
POOL_K = 200


def split(ratings: Ratings, index) -> tuple[Ratings, dict[str, list[int]]]:
    """Training ratings (all but each user's last two) and each user's full sequence."""
    seqs = sequences(ratings, index.pos)
    keep_users = {u for u, s in seqs.items() if len(s) >= 5}
    last_two: dict[str, set[int]] = {}
    order: dict[str, list[int]] = {}
    rows = sorted(range(len(ratings.items)), key=lambda n: (ratings.users[n], ratings.times[n], n))
    for n in rows:
        order.setdefault(ratings.users[n], []).append(n)
    for u, ns in order.items():
        last_two[u] = set(ns[-2:])
    train_rows = [
        n
        for n in range(len(ratings.items))
        if ratings.users[n] in keep_users and n not in last_two[ratings.users[n]]
    ]
    pick = lambda xs: [xs[n] for n in train_rows]  # noqa: E731
    train = Ratings(
        pick(ratings.users), pick(ratings.items), pick(ratings.values), pick(ratings.times), 0
    )
    return train, {u: s for u, s in seqs.items() if u in keep_users}


def model_ranks(scores: np.ndarray, history: list[int], target: int) -> int:
    s = scores.astype(np.float64).copy()
    s[history] = -np.inf
    return int(np.sum(s > s[target]) + np.sum(s[:target] == s[target]))


def top10(scores: np.ndarray, history: list[int]) -> list[int]:
    s = scores.astype(np.float64).copy()
    s[history] = -np.inf
    return np.lexsort((np.arange(len(s)), -s))[:10].tolist()


def run_movielens(args) -> int:
    started = time.perf_counter()
    index = load_index(Path(args.catalog), args.embedder)
    ratings = load_ratings(Path(args.ratings), index)
    train, seqs = split(ratings, index)
    cfg = SASRecConfig(epochs=args.epochs)
    key = f"loo-{file_digest(Path(args.ratings))}"
    bar = lambda it, total: tqdm(it, total=total, desc="SASRec", disable=None, leave=False)  # noqa: E731
    models = train_models(train, index, key, sasrec=cfg, progress=bar)
    pop_counts = popularity_counts(train, index)
    index.set_popularity(pop_counts)

    channels = [
        ContentChannel(index),
        ModelChannel(index, models["item_knn"], "co_interaction"),
        ModelChannel(index, models["ease"], "cf"),
        ModelChannel(index, models["sasrec"], "sequence", use_history_order=True),
        PopularChannel(index),
    ]
    features = FeatureBuilder(index, FeatureConfig(channel_scaling=args.scaling))
    pipe = Pipeline(index, channels, features=features)
    names = pipe.feature_names()
    singles = {
        "popularity": lambda h: pop_counts,
        "item-kNN": lambda h: models["item_knn"].score(np.array(h)),
        "EASE": lambda h: models["ease"].score(np.array(h)),
        "SASRec": lambda h: models["sasrec"].score(np.array(h)),
        "content (MiniLM)": lambda h: index.vectors @ index.vectors[h[-50:]].mean(axis=0),
    }
    ranks = {name: [] for name in singles}
    lists = {name: [] for name in singles}
    val_examples, test_feats = [], []
    users = sorted(seqs)
    for u in tqdm(users, desc="users", disable=None, leave=False):
        s = seqs[u]
        for phase, history, target in (("val", s[:-2], s[-2]), ("test", s[:-1], s[-1])):
            query = Query(history=[index.ids[p] for p in history], user_id=u)
            _, recalled, scores = pipe.recall(query, POOL_K, {})
            pool = dict.fromkeys(p for got in recalled.values() for p in got)
            positions = np.fromiter(pool, np.int64, len(pool))
            cols = pipe.features.build(query, positions, scores, pipe.flags(recalled))
            matrix = np.stack([cols[n] for n in names], axis=1).astype(np.float32)
            hist = set(history)
            if phase == "val":
                keep = np.array([p not in hist for p in positions], dtype=bool)
                rows = positions[keep].tolist()
                if target in rows:
                    val_examples.append(Example(matrix[keep], [rows.index(target)]))
                continue
            test_feats.append((Featurised(positions, matrix), history, target))
            for name, fn in singles.items():
                sc = fn(history)
                ranks[name].append(model_ranks(sc, history, target))
                lists[name].append(top10(sc, history))

    fusion = learn_fusion(val_examples, names)
    w = np.array([fusion.weights[n] for n in names])
    ranks["fused"], lists["fused"] = [], []
    for feats, history, target in test_feats:
        s = feats.matrix @ w
        turn = SimpleNamespace(mentioned=history, gold=[[target]])
        ranks["fused"] += rank_pool(feats, s, turn, True, pop_counts)
        s_ex = np.where(np.isin(feats.positions, history), -np.inf, s)
        lists["fused"].append(feats.positions[np.lexsort((feats.positions, -s_ex))[:10]].tolist())

    rows = [{"ranker": name, **rank_metrics(r, ks=(10, 50))} for name, r in ranks.items()]
    print(table(rows, COLUMNS, "MovieLens leave-one-out, all catalog items ranked"))
    genres = [(m.get("genres") or [None])[0] for m in index.metas]
    beyond = {
        name: beyond_accuracy(lst, len(index), pop_counts, index.vectors, genres)
        for name, lst in lists.items()
    }
    print()
    print(
        table(
            [
                {"ranker": k, **{c: v for c, v in b.items() if c != "category_exposure"}}
                for k, b in beyond.items()
            ],
            [
                "ranker",
                "coverage",
                "gini",
                "intra_list_similarity",
                "long_tail_share",
                "catalog_tail_share",
            ],
            "Beyond accuracy of the top-10 lists",
        )
    )
    stats = {
        "users": len(users),
        "ratings_mapped": len(ratings.items),
        "ratings_not_in_catalog": ratings.skipped_unknown,
        "items": len(index),
        "fusion_examples": len(val_examples),
        "channel_scaling": args.scaling,
        "sasrec": cfg.__dict__,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"\n{stats}")
    report = {
        "stats": stats,
        "rankers": {r["ranker"]: r for r in rows},
        "fusion_weights": fusion.weights,
        "beyond_accuracy": beyond,
    }
    print(f"wrote {write_json(Path(args.out) / 'movielens.json', report)}")
    return 0
