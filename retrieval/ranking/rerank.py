"""Reranking the fused list into what is shown: business rules, MMR diversity,
and exposure limits.

Order of the rules, and why:
1. exclusions drop items (ids, or field values the shop never wants shown);
2. in-stock first: an out-of-stock item is only shown when nothing else fits;
3. greedy MMR (Carbonell & Goldstein 1998) picks each next item by
   λ·relevance − (1−λ)·max similarity to what is already picked, so three
   near-identical items do not fill a list of three;
4. while picking, a cap per provider field (brand, studio …: at most
   ⌈cap_share·k⌉ items each) and a minimum long-tail share are enforced,
   relaxing only when no candidate satisfies them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retrieval.items.index import CatalogIndex
from retrieval.ranking.scored import ScoredItem


@dataclass
class RerankConfig:
    diversity: float = 0.2  # 1 - λ of MMR; 0 keeps the fused order
    cap_field: str | None = "brand"  # provider field whose share is capped
    cap_share: float = 0.5  # at most this share of a list from one provider
    long_tail_share: float = 0.0  # at least this share from the long tail
    long_tail_popularity: float = 0.5  # scaled popularity below which an item is "tail"
    in_stock_first: bool = True
    exclude_ids: set[str] = field(default_factory=set)
    exclude_values: dict[str, list[Any]] = field(default_factory=dict)


class Reranker:
    def __init__(self, index: CatalogIndex, config: RerankConfig | None = None):
        self.index = index
        self.config = config or RerankConfig()

    def rerank(self, items: list[ScoredItem], k: int) -> list[ScoredItem]:
        cfg = self.config
        pool = [it for it in items if self._allowed(it)]
        if cfg.in_stock_first:
            # stable: keeps the fused order within each group
            pool.sort(key=lambda it: it.meta.get("in_stock") is False)
        if not pool or k <= 0:
            return []
        positions = np.array([self.index.pos.get(it.id, -1) for it in pool])
        vectors = self.index.vectors
        sims = None
        if vectors is not None and (positions >= 0).all() and cfg.diversity > 0:
            sims = vectors[positions] @ vectors[positions].T
        rel = np.array([it.score for it in pool], dtype=np.float64)
        span = rel.max() - rel.min()
        rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
        pops = np.array(
            [self.index.popularity[p] if p >= 0 else 0.0 for p in positions], dtype=np.float64
        )
        tail = pops < cfg.long_tail_popularity
        stock_rank = np.array([it.meta.get("in_stock") is False for it in pool])

        # greedy picks over arrays: what is left, each item's closest similarity to
        # what was picked, picks per provider
        providers = self._providers(pool)
        counts = np.zeros(providers.max(initial=-1) + 2, dtype=np.int64)
        limit = max(1, math.ceil(cfg.cap_share * k - 1e-9)) if cfg.cap_field else None
        want_tail = int(np.ceil(cfg.long_tail_share * k)) if cfg.long_tail_share > 0 else 0
        left = np.ones(len(pool), dtype=bool)
        nearest = np.full(len(pool), -np.inf)
        chosen: list[int] = []
        while left.any() and len(chosen) < k:
            mmr = rel
            if sims is not None and chosen:
                mmr = (1 - cfg.diversity) * rel - cfg.diversity * nearest
            # never let a rule pull an out-of-stock item above an in-stock one
            stock_ok = left & (stock_rank <= stock_rank[left].min())
            ok = stock_ok.copy()
            if limit is not None:
                ok &= (providers < 0) | (counts[providers] < limit)
            if want_tail and want_tail - int(tail[chosen].sum()) >= k - len(chosen):
                ok &= tail  # only tail items can still meet the share
            if not ok.any():
                ok = stock_ok
            best = int(np.argmax(np.where(ok, mmr, -np.inf)))
            chosen.append(best)
            left[best] = False
            if providers[best] >= 0:
                counts[providers[best]] += 1
            if sims is not None:
                nearest = np.maximum(nearest, sims[:, best])
        return [pool[i] for i in chosen]

    def _providers(self, pool: list[ScoredItem]) -> np.ndarray:
        """A code per item for the capped field's value (-1: none, or no cap)."""
        name = self.config.cap_field
        codes: dict = {}
        out = np.full(len(pool), -1, dtype=np.int64)
        if name:
            for i, it in enumerate(pool):
                v = it.meta.get(name)
                if v is not None:
                    key = tuple(v) if isinstance(v, list) else v
                    out[i] = codes.setdefault(key, len(codes))
        return out

    def _allowed(self, item: ScoredItem) -> bool:
        cfg = self.config
        if item.id in cfg.exclude_ids:
            return False
        for name, values in cfg.exclude_values.items():
            have = item.meta.get(name)
            have = have if isinstance(have, list) else [have]
            if any(v in have for v in values):
                return False
        return True
