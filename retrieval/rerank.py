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

from .index import CatalogIndex
from .rank import ScoredItem


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
        have_vectors = vectors is not None and (positions >= 0).all()
        sims = (
            vectors[positions] @ vectors[positions].T
            if have_vectors and cfg.diversity > 0
            else None
        )
        rel = np.array([it.score for it in pool], dtype=np.float64)
        span = rel.max() - rel.min()
        rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
        pops = np.array(
            [self.index.popularity[p] if p >= 0 else 0.0 for p in positions], dtype=np.float64
        )
        tail = pops < cfg.long_tail_popularity
        stock_rank = np.array([it.meta.get("in_stock") is False for it in pool])

        chosen: list[int] = []
        left = list(range(len(pool)))
        while left and len(chosen) < k:
            mmr = rel[left].copy()
            if sims is not None and chosen:
                mmr = (1 - cfg.diversity) * mmr - cfg.diversity * sims[np.ix_(left, chosen)].max(
                    axis=1
                )
            ok = self._fits(pool, left, chosen, tail, k)
            # never let a rule pull an out-of-stock item above an in-stock one
            ok &= stock_rank[left] <= stock_rank[left].min()
            if not ok.any():
                ok = stock_rank[left] <= stock_rank[left].min()
            best = left[int(np.argmax(np.where(ok, mmr, -np.inf)))]
            chosen.append(best)
            left.remove(best)
        return [pool[i] for i in chosen]

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

    def _fits(
        self, pool: list[ScoredItem], left: list[int], chosen: list[int], tail, k: int
    ) -> np.ndarray:
        cfg = self.config
        ok = np.ones(len(left), dtype=bool)
        if cfg.cap_field:
            # rounded up: in a list of three, a 50% cap allows two from one provider
            # (rounding down to one filled chat answers with unrelated items)
            limit = max(1, math.ceil(cfg.cap_share * k - 1e-9))
            counts: dict[Any, int] = {}
            for i in chosen:
                v = pool[i].meta.get(cfg.cap_field)
                if v is not None:
                    counts[v] = counts.get(v, 0) + 1
            for j, i in enumerate(left):
                v = pool[i].meta.get(cfg.cap_field)
                if v is not None and counts.get(v, 0) >= limit:
                    ok[j] = False
        if cfg.long_tail_share > 0:
            need = int(np.ceil(cfg.long_tail_share * k)) - int(tail[chosen].sum() if chosen else 0)
            slots = k - len(chosen)
            if need >= slots:  # only tail items can still meet the share
                ok &= tail[left]
        return ok
