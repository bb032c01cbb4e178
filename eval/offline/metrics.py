"""Ranking metrics from gold ranks, and beyond-accuracy figures from the lists shown.

Ranks are 0-based positions of the gold item in the ranked catalog, one per
(turn, gold item) sample, which is the ReDial/CRSLab convention.
"""

from __future__ import annotations

from collections import Counter

import numpy as np


def rank_metrics(ranks: list[int], ks: tuple[int, ...] = (1, 10, 50)) -> dict[str, float]:
    r = np.asarray(ranks, dtype=np.float64)
    if len(r) == 0:
        return {}
    out: dict[str, float] = {"samples": len(r)}
    for k in ks:
        out[f"R@{k}"] = float(np.mean(r < k))
    for k in (10, 50):
        out[f"NDCG@{k}"] = float(np.mean(np.where(r < k, 1.0 / np.log2(r + 2), 0.0)))
    out["MRR"] = float(np.mean(1.0 / (r + 1)))
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def rank_of(scores: np.ndarray, gold: int) -> int:
    """0-based rank of gold; equal scores are ordered by catalog position, the
    same stable order the pipeline uses."""
    return int(np.sum(scores > scores[gold]) + np.sum(scores[:gold] == scores[gold]))


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of exposure over all catalog items (0 = everyone shown
    equally often, 1 = one item takes all exposure)."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return 0.0
    cum = np.cumsum(x)
    return float((n + 1 - 2 * np.sum(cum) / cum[-1]) / n)


def beyond_accuracy(
    lists: list[list[int]],
    n_items: int,
    popularity: np.ndarray,
    vectors: np.ndarray | None = None,
    categories: list[str | None] | None = None,
    tail_quantile: float = 0.8,
) -> dict:
    """Coverage, Gini of exposure, intra-list similarity, long-tail share and
    per-category exposure of the recommendation lists (catalog positions)."""
    shown = [p for lst in lists for p in lst]
    exposure = np.bincount(np.asarray(shown, dtype=np.int64), minlength=n_items)
    # the long tail: items below the tail_quantile of popularity (the top 20% are the head)
    cut = np.quantile(popularity, tail_quantile)
    tail = popularity < cut if cut > popularity.min() else popularity <= cut
    out = {
        "lists": len(lists),
        "coverage": round(float((exposure > 0).mean()), 4),
        "gini": round(gini(exposure), 4),
        "long_tail_share": round(float(np.mean(tail[shown])) if shown else 0.0, 4),
        "catalog_tail_share": round(float(tail.mean()), 4),
    }
    if vectors is not None:
        sims = []
        for lst in lists:
            if len(lst) > 1:
                v = vectors[lst]
                s = v @ v.T
                m = len(lst)
                sims.append((s.sum() - np.trace(s)) / (m * (m - 1)))
        out["intra_list_similarity"] = round(float(np.mean(sims)), 4) if sims else None
    if categories is not None:
        shown_cat = Counter(categories[p] or "-" for p in shown)
        catalog_cat = Counter(c or "-" for c in categories)
        total = max(1, sum(shown_cat.values()))
        out["category_exposure"] = {
            c: {
                "shown": round(shown_cat.get(c, 0) / total, 4),
                "catalog": round(n / len(categories), 4),
            }
            for c, n in catalog_cat.most_common(12)
        }
    return out
