"""Per-candidate signals, as columns over the candidate list.

Channel scores become features of every candidate, whichever channel found it
(scaled by the channel's best score over the catalog, so "1.0" always means
"this channel's top item"), plus an `in_<channel>` flag for the channels that
actually recalled it. The other signals come from the item and the request:

    semantic     cosine of the item to the request (dense channel score)
    facet_match  share of the wanted facet values the item has
    negative     closeness to disliked items / unwanted facet values (a penalty)
    popularity   log interaction count, scaled to [0, 1]
    catalog_popularity  log of the catalog's own rating_count: a second opinion
                 on popularity from outside the interaction log
    rating       mean rating shrunk towards the median by its count
    price_fit    how well the price uses a stated budget
    novelty      1 - popularity: the long tail
    freshness    the item's year (or another date field), scaled to [0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval.items.index import CatalogIndex
from retrieval.ranking.channels import Query

ITEM_SIGNALS = (
    "semantic",
    "facet_match",
    "negative",
    "popularity",
    "catalog_popularity",
    "rating",
    "price_fit",
    "novelty",
    "freshness",
)
RATING_PRIOR_COUNT = 20  # ratings needed before an item's own mean outweighs the median
# What an item has the day it is added to the catalog: its text, facets, price
# and year, and how they relate to the request and to the items named. Every
# other column is evidence of interactions (mentions, picks, ratings, rating
# counts), which a new item does not have yet.
CONTENT_SIGNALS = frozenset(
    {
        "semantic",
        "dense",
        "facet_match",
        "negative",
        "price_fit",
        "freshness",
        "content",
        "shared_facets",
    }
)


@dataclass
class FeatureConfig:
    freshness_field: str = "year"
    # "max": a channel's scores divided by its best score for this query (1.0 = its
    # top item); "raw": as the channel gives them, so strong evidence (50 shared
    # users) and weak evidence (1) stay apart
    channel_scaling: str = "max"
    # columns that also get a rank feature `rr_<name>` = 1/log2(2 + rank within the
    # candidate list) for the top `rank_cap` (0 below that or without a score):
    # a channel's ordering is comparable across requests where its raw scores
    # are not (a linear fusion cannot rescale per request)
    rank_features: tuple[str, ...] = ()
    rank_cap: int = 50


class FeatureBuilder:
    def __init__(self, index: CatalogIndex, config: FeatureConfig | None = None):
        self.index = index
        self.config = config or FeatureConfig()
        self._rating = self._rating_column()
        self._freshness = self._scaled(self.config.freshness_field)
        counts = np.log1p(np.nan_to_num(index.number("rating_count"), nan=0.0).clip(0))
        self._catalog_pop = counts / counts.max() if len(counts) and counts.max() > 0 else counts

    def names(self, channels: list[str]) -> list[str]:
        """Feature names for a pipeline with these channels, in column order."""
        chans = [c for c in channels if c != "dense"]  # dense score is `semantic`
        base = [*ITEM_SIGNALS, *chans, *(f"in_{c}" for c in channels)]
        return base + [f"rr_{c}" for c in self.config.rank_features if c in base]

    def build(
        self,
        query: Query,
        positions: np.ndarray,
        channel_scores: dict[str, np.ndarray | None],
        recalled: dict[str, set[int]] | None = None,
    ) -> dict[str, np.ndarray]:
        idx = self.index
        recalled = recalled or {}
        pop = idx.popularity[positions]
        cols: dict[str, np.ndarray] = {
            "semantic": _gather(channel_scores.get("dense"), positions, clip=True),
            "facet_match": self._facet_share(query.facets, positions),
            "negative": self._negative(query, positions),
            "popularity": pop,
            "catalog_popularity": self._catalog_pop[positions],
            "rating": self._rating[positions],
            "price_fit": self._price_fit(query.budget, positions),
            "novelty": 1.0 - pop,
            "freshness": self._freshness[positions],
        }
        for name, s in channel_scores.items():
            if name != "dense":
                scaled = _scaled_scores(s) if self.config.channel_scaling == "max" else s
                cols[name] = _gather(scaled, positions)
        for name in channel_scores:
            hits = np.fromiter(recalled.get(name, ()), np.int64)
            cols[f"in_{name}"] = np.isin(positions, hits).astype(float)
        for name in self.config.rank_features:
            if name in cols:
                cols[f"rr_{name}"] = _rank_column(cols[name], self.config.rank_cap)
        return cols

    # -- signals ---------------------------------------------------------------------

    def _facet_share(self, wanted: dict[str, list[str]], positions: np.ndarray) -> np.ndarray:
        pairs = [(f, v) for f, values in wanted.items() for v in values]
        if not pairs:
            return np.zeros(len(positions))
        hits = sum(self.index.has_value(f, v)[positions].astype(float) for f, v in pairs)
        return hits / len(pairs)

    def _negative(self, query: Query, positions: np.ndarray) -> np.ndarray:
        out = self._facet_share(query.avoid, positions)
        vectors = self.index.vectors
        disliked = self.index.positions(query.disliked)
        if vectors is not None and len(disliked):
            sim = (vectors[positions] @ vectors[disliked].T).max(axis=1)
            out = np.maximum(out, np.clip(sim, 0.0, 1.0))
        return out

    def _rating_column(self) -> np.ndarray:
        r = self.index.number("rating")
        n = np.nan_to_num(self.index.number("rating_count"), nan=0.0)
        if np.all(np.isnan(r)):
            return np.zeros(len(self.index))
        lo, mid, hi = np.nanmin(r), np.nanmedian(r), np.nanmax(r)
        shrunk = (np.nan_to_num(r, nan=mid) * n + mid * RATING_PRIOR_COUNT) / (
            n + RATING_PRIOR_COUNT
        )
        span = max(1e-9, hi - lo)
        return np.where(np.isnan(r), 0.0, np.clip((shrunk - lo) / span, 0.0, 1.0))

    def _scaled(self, name: str) -> np.ndarray:
        col = self.index.number(name)
        if np.all(np.isnan(col)):
            return np.zeros(len(self.index))
        lo, hi = np.nanmin(col), np.nanmax(col)
        return np.nan_to_num((col - lo) / max(1e-9, hi - lo), nan=0.0)

    def _price_fit(self, budget: float | None, positions: np.ndarray) -> np.ndarray:
        if not budget or budget <= 0:
            return np.zeros(len(positions))
        price = self.index.number("price")[positions]
        # Shoppers with a budget tend to want good use of it, not the cheapest thing.
        fit = 1.0 - np.abs(price - 0.75 * budget) / budget
        return np.where(np.isnan(price) | (price > budget), 0.0, np.clip(fit, 0.0, 1.0))


def as_cold(matrix: np.ndarray, names: list[str], rows: np.ndarray) -> np.ndarray:
    """A copy of a candidate list's feature matrix in which `rows` look like items
    added after every interaction was logged: interaction columns (and their
    `in_` / `rr_` variants) as a never-seen item gets them (0; novelty 1), content
    columns unchanged."""
    out = matrix.copy()
    for c, name in enumerate(names):
        base = name[3:] if name.startswith(("rr_", "in_")) else name
        if base not in CONTENT_SIGNALS:
            out[rows, c] = 1.0 if name == "novelty" else 0.0
    return out


def _gather(s: np.ndarray | None, positions: np.ndarray, clip: bool = False) -> np.ndarray:
    if s is None:
        return np.zeros(len(positions))
    out = s[positions].astype(np.float64)
    out[~np.isfinite(out)] = 0.0
    return np.clip(out, 0.0, None) if clip else out


def _rank_column(values: np.ndarray, cap: int) -> np.ndarray:
    """1/log2(2 + rank) of each value within the list (best = rank 0), for the
    top `cap` positive values; 0 for the rest."""
    order = np.lexsort((np.arange(len(values)), -values))
    rank = np.empty(len(values))
    rank[order] = np.arange(len(values))
    return np.where((rank < cap) & (values > 0), 1.0 / np.log2(rank + 2), 0.0)


def _scaled_scores(s: np.ndarray | None) -> np.ndarray | None:
    """Divide by the channel's best finite score, so 1.0 is its top item."""
    if s is None:
        return None
    finite = s[np.isfinite(s)]
    top = float(finite.max()) if len(finite) else 0.0
    if top <= 0:
        return np.zeros_like(s, dtype=np.float64)
    return np.clip(np.where(np.isfinite(s), s, 0.0) / top, -1.0, 1.0)
