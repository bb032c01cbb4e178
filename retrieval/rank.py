"""Baseline ranker: a weighted sum of named signals, keeping each signal's
contribution so copy and UI can say *why* an item was chosen.

Signals (each in [0, 1]):
  semantic     cosine similarity of the item text to the request
  facet_match  share of the user's liked facet values the item has
  popularity   log rating count, relative to the catalog's maximum
  rating       rating shrunk towards the catalog median by its count (Bayesian)
  price_fit    how well the price uses a stated budget (0 without one)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from .facets import Facet
from .store import Candidate


@dataclass
class RankWeights:
    semantic: float = 0.6
    facet_match: float = 0.2
    popularity: float = 0.08
    rating: float = 0.08
    price_fit: float = 0.04

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Preferences:
    """What the ranker needs from the dialogue state (soft, not filters)."""

    liked: dict[str, list[str]] = field(default_factory=dict)  # facet → values the user wants
    budget: float | None = None  # price ceiling, when stated


@dataclass
class ScoredItem:
    id: str
    meta: dict[str, Any]
    score: float
    features: dict[str, float]
    contributions: dict[str, float]  # weight × feature, per signal
    channels: dict[str, float] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.meta.get("title", self.id)

    def top_reasons(self, n: int = 3) -> list[str]:
        ranked = sorted(self.contributions.items(), key=lambda kv: -kv[1])
        return [name for name, value in ranked[:n] if value > 0]


RATING_PRIOR_COUNT = 20  # ratings needed before an item's own mean outweighs the median


class Ranker:
    def __init__(self, weights: RankWeights | None = None, facets: dict[str, Facet] | None = None):
        self.weights = weights or RankWeights()
        facets = facets or {}
        count = facets.get("rating_count")
        self._log_max_count = math.log1p(count.max) if count and count.max else 1.0
        rating = facets.get("rating")
        self._rating_lo = rating.min if rating else 0.0
        self._rating_hi = rating.max if rating else 5.0
        self._rating_mid = rating.quartiles[1] if rating and rating.quartiles else 3.5

    def features(self, c: Candidate, prefs: Preferences) -> dict[str, float]:
        meta = c.meta
        return {
            "semantic": max(0.0, c.similarity),
            "facet_match": self._facet_match(meta, prefs),
            "popularity": math.log1p(meta.get("rating_count") or 0) / self._log_max_count,
            "rating": self._rating(meta),
            "price_fit": self._price_fit(meta, prefs),
        }

    def rank(
        self, candidates: list[Candidate], prefs: Preferences | None = None, k: int = 10
    ) -> list[ScoredItem]:
        prefs = prefs or Preferences()
        w = self.weights.as_dict()
        scored = []
        for c in candidates:
            feats = self.features(c, prefs)
            contrib = {name: round(w[name] * value, 6) for name, value in feats.items()}
            scored.append(
                ScoredItem(c.id, c.meta, sum(contrib.values()), feats, contrib, dict(c.channels))
            )
        # ties broken by id so equal scores rank the same on every run
        scored.sort(key=lambda s: (-s.score, s.id))
        return scored[:k]

    @staticmethod
    def _facet_match(meta: dict[str, Any], prefs: Preferences) -> float:
        wanted = [(f, v) for f, values in prefs.liked.items() for v in values]
        if not wanted:
            return 0.0
        hits = 0
        for name, value in wanted:
            have = meta.get(name)
            have = have if isinstance(have, list) else [have]
            hits += any(str(h).lower() == value.lower() for h in have if h is not None)
        return hits / len(wanted)

    def _rating(self, meta: dict[str, Any]) -> float:
        r = meta.get("rating")
        if r is None:
            return 0.0
        n = meta.get("rating_count") or 0
        shrunk = (r * n + self._rating_mid * RATING_PRIOR_COUNT) / (n + RATING_PRIOR_COUNT)
        span = max(1e-9, self._rating_hi - self._rating_lo)
        return min(1.0, max(0.0, (shrunk - self._rating_lo) / span))

    @staticmethod
    def _price_fit(meta: dict[str, Any], prefs: Preferences) -> float:
        price = meta.get("price")
        if prefs.budget is None or price is None or prefs.budget <= 0:
            return 0.0
        if price > prefs.budget:
            return 0.0
        # Shoppers with a budget tend to want good use of it, not the cheapest thing.
        return 1.0 - abs(price - 0.75 * prefs.budget) / prefs.budget
