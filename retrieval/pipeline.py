"""The ranking pipeline as named stages: recall channels → features → fusion →
rerank, each timed, with online learning hooked in before recall (Rocchio moves
the request vector) and at fusion (the bandit's arm scales the weights).

`recommend` is what a chat turn calls; `score_catalog` scores every catalog
item the same way, which is what the ReDial/MovieLens protocols need ("rank the
whole catalog"). `FusionRanker` offers the old `Ranker.rank(candidates, prefs,
k)` signature on top of a pipeline, so a caller that still does its own dense
recall gets learned fusion and reranking without other changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .channels import HISTORY_TAIL, Channel, DenseChannel, Query
from .features import FeatureBuilder
from .fusion import FusionModel
from .index import CatalogIndex
from .online import FusionBandit, OnlineState
from .rank import Preferences, ScoredItem
from .rerank import Reranker
from .store import Candidate


@dataclass
class PipelineConfig:
    recall_k: int = 100  # per channel; the merged pool is at most channels × recall_k
    # `in_<channel>` means "in that channel's top flag_k", whatever recall_k is, so
    # weights learned with one pool size still mean the same with another
    flag_k: int = 30
    rerank: bool = True


class Pipeline:
    def __init__(
        self,
        index: CatalogIndex,
        channels: list[Channel],
        fusion: FusionModel | None = None,
        features: FeatureBuilder | None = None,
        reranker: Reranker | None = None,
        config: PipelineConfig | None = None,
    ):
        self.index = index
        self.channels = channels
        self.fusion = fusion or FusionModel.default()
        self.features = features or FeatureBuilder(index)
        self.reranker = reranker
        self.config = config or PipelineConfig()

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    def feature_names(self) -> list[str]:
        return self.features.names(self.channel_names)

    # -- stages ------------------------------------------------------------------

    def prepare(self, query: Query, online: OnlineState | None, timings: dict) -> None:
        """Embed the request once, then let the Rocchio profile move it."""
        query.cache.clear()
        t = time.perf_counter()
        for ch in self.channels:
            if isinstance(ch, DenseChannel):
                ch.query_vector(query)
        _lap(timings, "embed", t)
        if online is not None and self.index.vectors is not None:
            query.vector = online.profile.apply(query.vector, self.index.vectors, self.index.pos)
        self._one_pass(query, timings)

    def _one_pass(self, query: Query, timings: dict) -> None:
        """Dense and content scores in one product with the item matrix: at 100k
        items reading the 150 MB matrix is the cost, not the arithmetic."""
        names = set(self.channel_names)
        vectors = self.index.vectors
        if vectors is None or not {"dense", "content"} <= names:
            return
        seeds = self.index.positions(query.seeds()[-HISTORY_TAIL:])
        if query.vector is None or len(seeds) == 0:
            return
        t = time.perf_counter()
        both = vectors @ np.stack([query.vector, vectors[seeds].mean(axis=0)], axis=1)
        query.cache["dense"], query.cache["content"] = both[:, 0], both[:, 1]
        _lap(timings, "recall:dense+content", t)

    def recall(
        self, query: Query, k: int, timings: dict, skip: frozenset[str] = frozenset()
    ) -> tuple[np.ndarray, dict[str, list[int]], dict[str, np.ndarray | None]]:
        """The merged pool, each channel's recalled positions (best first) and each
        channel's scores over the whole catalog."""
        t = time.perf_counter()
        allowed = self.index.mask(query.filter)
        _lap(timings, "filter", t)
        scores: dict[str, np.ndarray | None] = {}
        recalled: dict[str, list[int]] = {}
        pool: dict[int, None] = {}
        for ch in self.channels:
            t = time.perf_counter()
            s = None if ch.name in skip else ch.scores(query)
            scores[ch.name] = s
            picked = ch.candidates(s, k, query, allowed)
            recalled[ch.name] = [self.index.pos[c.id] for c in picked]
            pool.update(dict.fromkeys(self.index.pos[c.id] for c in picked))
            _lap(timings, f"recall:{ch.name}", t)
        return np.fromiter(pool, np.int64, len(pool)), recalled, scores

    def fuse(
        self,
        query: Query,
        positions: np.ndarray,
        recalled: dict[str, list[int]],
        scores: dict[str, np.ndarray | None],
        timings: dict,
        scale: dict[str, float] | None = None,
        limit: int | None = None,
    ) -> list[ScoredItem]:
        """Fused, best first; only the best `limit` become ScoredItems (building
        hundreds of dicts costs more than the fusion itself)."""
        t = time.perf_counter()
        cols = self.features.build(query, positions, scores, self.flags(recalled))
        t = _lap(timings, "features", t)
        total, contrib = self.fusion.score(cols, scale)
        order = np.lexsort((positions, -total))  # ties by catalog position: stable
        found = {name: set(got) for name, got in recalled.items()}
        items = []
        for j in order[:limit]:
            p = positions[j]
            items.append(
                ScoredItem(
                    self.index.ids[p],
                    self.index.metas[p],
                    float(total[j]),
                    {name: float(col[j]) for name, col in cols.items()},
                    {name: round(float(c[j]), 6) for name, c in contrib.items()},
                    {name: float(scores[name][p]) for name, got in found.items() if p in got},
                )
            )
        _lap(timings, "fusion", t)
        return items

    def flags(self, recalled: dict[str, list[int]]) -> dict[str, set[int]]:
        return {name: set(got[: self.config.flag_k]) for name, got in recalled.items()}

    # -- whole turns ---------------------------------------------------------------

    def recommend(
        self,
        query: Query,
        k: int = 10,
        *,
        online: OnlineState | None = None,
        rng: np.random.Generator | None = None,
        timings: dict | None = None,
    ) -> list[ScoredItem]:
        """Recall, fuse and rerank; with `online`, also play a bandit arm (stored in
        online.last_arm so the feedback can be credited to it)."""
        timings = {} if timings is None else timings
        self.prepare(query, online, timings)
        scale = None
        if online is not None:
            online.last_arm = online.bandit.choose(rng or np.random.default_rng())
            scale = FusionBandit.scale(online.last_arm)
        positions, recalled, scores = self.recall(query, self.config.recall_k, timings)
        # rerank needs some depth to diversify from, not the whole pool
        items = self.fuse(query, positions, recalled, scores, timings, scale, limit=max(50, 5 * k))
        t = time.perf_counter()
        if self.reranker is not None and self.config.rerank:
            items = self.reranker.rerank(items, k)
        _lap(timings, "rerank", t)
        return items[:k]

    def score_catalog(
        self, query: Query, skip: frozenset[str] = frozenset(), recall_k: int | None = None
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Fused score of every catalog item (filtered-out items get -inf), and the
        feature columns; for evaluation protocols that rank the whole catalog."""
        timings: dict = {}
        self.prepare(query, None, timings)
        _, recalled, scores = self.recall(
            query, recall_k or self.config.recall_k, timings, skip=skip
        )
        positions = np.arange(len(self.index))
        cols = self.features.build(query, positions, scores, self.flags(recalled))
        total, _ = self.fusion.score(cols)
        total[~self.index.mask(query.filter)] = -np.inf
        return total, cols


class FusionRanker:
    """`Ranker.rank(candidates, prefs, k)` over a pipeline: the candidates' dense
    similarity is the semantic signal, the other channels score them too."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline

    def rank(
        self, candidates: list[Candidate], prefs: Preferences | None = None, k: int = 10
    ) -> list[ScoredItem]:
        prefs = prefs or Preferences()
        p = self.pipeline
        known = [c for c in candidates if c.id in p.index.pos]
        positions = np.array([p.index.pos[c.id] for c in known], dtype=np.int64)
        query = Query(facets={k_: list(v) for k_, v in prefs.liked.items()}, budget=prefs.budget)
        dense = np.zeros(len(p.index), dtype=np.float32)
        dense[positions] = [c.similarity for c in known]
        scores: dict[str, np.ndarray | None] = {"dense": dense}
        recalled = {"dense": positions.tolist()}
        for ch in p.channels:
            if ch.name != "dense":
                scores[ch.name] = ch.scores(query)
        items = p.fuse(query, positions, recalled, scores, {})
        if p.reranker is not None and p.config.rerank:
            return p.reranker.rerank(items, k)
        return items[:k]


def _lap(timings: dict, stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] = timings.get(stage, 0.0) + (now - since)
    return now
