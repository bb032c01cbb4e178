"""The MovieLens leave-one-out protocol's pieces on fixture-sized data."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from eval.offline.data import Ratings
from eval.offline.movielens import choose_fusion, example, fused_margins, list_mrr, split
from eval.offline.turns import Featurised
from retrieval.ranking.fusion import Example


def ratings_of(seqs: dict[str, list[str]]) -> Ratings:
    users, items, times = [], [], []
    for u, s in seqs.items():
        for t, i in enumerate(s):
            users.append(u)
            items.append(i)
            times.append(t)
    return Ratings(users, items, [4.0] * len(items), times, 0)


def test_split_holds_out_each_users_last_items_and_drops_short_users():
    ids = [f"m{n}" for n in range(10)]
    index = SimpleNamespace(pos={i: n for n, i in enumerate(ids)})
    seqs = {"a": ids[:7], "b": ids[3:10], "c": ids[:4]}  # c: under five items
    train, full = split(ratings_of(seqs), index, holdout=3)
    assert set(full) == {"a", "b"}
    assert full["a"] == list(range(7))
    got = {u: [i for v, i in zip(train.users, train.items, strict=True) if v == u] for u in "abc"}
    assert got == {"a": ids[:4], "b": ids[3:7], "c": []}


def test_example_drops_the_history_and_needs_the_target_in_the_pool():
    f = Featurised(np.array([5, 2, 9, 4]), np.arange(8, dtype=np.float32).reshape(4, 2))
    e = example(f, history=[2], target=4)
    assert e.chosen == [2]
    assert e.features.tolist() == [[0, 1], [4, 5], [6, 7]]
    assert example(f, history=[2], target=7) is None


def test_fused_margins_pair_the_users():
    ranks = {"fused": [0, 0, 20, 3], "a": [1, 0, 20, 5], "b": [50, 50, 50, 50]}
    ndcg = fused_margins(ranks, resamples=200)[0]
    assert ndcg["best_single"] == "a"
    assert ndcg["margin"] > 0 and ndcg["ci95"][0] >= 0


def test_choose_fusion_learns_the_informative_column():
    rng = np.random.default_rng(0)

    def lists(n):
        out = []
        for _ in range(n):
            x = rng.normal(size=(12, 3))
            x[0, 1] += 3.0  # column 1 marks the chosen row
            out.append(Example(x, [0]))
        return out

    score, weights, choice = choose_fusion(lists(60), lists(30), ["cf", "sequence", "popular"])
    assert choice["kind"] in {"linear", "trees"}
    assert max(weights, key=weights.get) == "sequence"
    assert list_mrr(lists(30), score) > 0.8
