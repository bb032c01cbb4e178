"""The ranking pipeline as named stages: recall channels → features → fusion →
rerank, each timed, with online learning hooked in before recall (Rocchio moves
the request vector) and at fusion (the bandit's arm scales the weights).

`recommend` runs a whole turn; chat turns and catalog searches run its two
halves, `shortlist` and `rerank`, through retrieval/ranking/serving.py. `score_catalog`
scores every catalog item the same way, which is what the ReDial/MovieLens
protocols need ("rank the whole catalog").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from retrieval.items.ann import CompressedVectors, CompressionConfig
from retrieval.items.index import CatalogIndex
from retrieval.models.online import FusionBandit, OnlineState
from retrieval.ranking.channels import HISTORY_TAIL, Channel, DenseChannel, Query
from retrieval.ranking.features import FeatureBuilder
from retrieval.ranking.fusion import Fusion, FusionModel
from retrieval.ranking.rerank import Reranker
from retrieval.ranking.scored import ScoredItem


@dataclass
class PipelineConfig:
    channel_k: int = 100  # per channel; the merged pool is at most channels × channel_k
    # `in_<channel>` means "in that channel's top flag_k", whatever channel_k is, so
    # weights learned with one pool size still mean the same with another
    flag_k: int = 30
    rerank: bool = True
    # from this catalog size on, the dense stage scans compressed vectors and
    # rescores exactly (retrieval/items/ann.py); None: always the exact scan
    compress_min_items: int | None = 20_000
    compression: CompressionConfig = field(default_factory=CompressionConfig)


class Pipeline:
    def __init__(
        self,
        index: CatalogIndex,
        channels: list[Channel],
        fusion: Fusion | None = None,
        features: FeatureBuilder | None = None,
        reranker: Reranker | None = None,
        config: PipelineConfig | None = None,
    ):
        self.index = index
        self.channels = channels
        self.fusion: Fusion = fusion or FusionModel.default()
        self.features = features or FeatureBuilder(index)
        self.reranker = reranker
        self.config = config or PipelineConfig()
        least = self.config.compress_min_items
        self.compressed = (
            CompressedVectors(index.vectors, self.config.compression)
            if least is not None and index.vectors is not None and len(index) >= least
            else None
        )

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    @property
    def _partial(self) -> bool:
        """Some channel scores only what it recalled (the store's own k-NN index)."""
        return any(c.partial_scores for c in self.channels)

    def feature_names(self) -> list[str]:
        return self.features.names(self.channel_names)

    # -- stages ------------------------------------------------------------------

    def embed(self, query: Query, timings: dict) -> None:
        """The request's embedding, computed once: the dense channel keeps it on the query."""
        t = time.perf_counter()
        for ch in self.channels:
            if isinstance(ch, DenseChannel):
                ch.query_vector(query)
        _lap(timings, "embed", t)

    def prepare(self, query: Query, online: OnlineState | None, timings: dict) -> None:
        """Embed the request once, then let the Rocchio profile move it."""
        query.cache.clear()
        self.embed(query, timings)
        if online is not None and self.index.vectors is not None:
            query.vector = online.profile.apply(query.vector, self.index.vectors, self.index.pos)

    def _one_pass(self, query: Query, timings: dict, allowed: np.ndarray, exact: bool) -> bool:
        """Dense and content scores from one scan of the compressed vectors, on a
        large catalog unless `exact` (retrieval/items/ann.py); True then: the pooled rows
        must be rescored exactly (see `recall`). Otherwise the two channels each do
        their own exact matrix-vector product: OpenBLAS runs two of those faster
        than one two-column product (22 vs 26 ms at 100k items, 0.45 vs 0.75 ms at
        6.6k, one thread), so a shared exact pass saves nothing."""
        names = set(self.channel_names)
        vectors = self.index.vectors
        compressed = None if exact else self.compressed
        if vectors is None or compressed is None or "dense" not in names or self._partial:
            return False
        columns = {}
        if query.vector is not None:
            columns["dense"] = query.vector
        seeds = self.index.positions(query.seeds()[-HISTORY_TAIL:])
        if "content" in names and len(seeds):
            columns["content"] = vectors[seeds].mean(axis=0)
        if not columns:
            return False
        t = time.perf_counter()
        both = compressed.scores(np.stack(list(columns.values()), axis=1), allowed)
        for j, name in enumerate(columns):
            query.cache[name] = both[:, j]
        # the content channel's dislike penalty scans the compressed vectors too
        query.cache["product"] = lambda m: compressed.scores(m)
        _lap(timings, "recall:" + "+".join(columns), t)
        return True

    def recall(
        self,
        query: Query,
        k: int,
        timings: dict,
        skip: frozenset[str] = frozenset(),
        exact: bool = False,
    ) -> tuple[np.ndarray, dict[str, list[int]], dict[str, np.ndarray | None]]:
        """The merged pool, each channel's recalled positions (best first) and each
        channel's scores over the whole catalog (exact at the pooled rows; elsewhere
        approximate on a compressed catalog unless `exact`)."""
        t = time.perf_counter()
        allowed = self.index.mask(query.filter)
        _lap(timings, "filter", t)
        approximate = self._one_pass(query, timings, allowed, exact)
        scores: dict[str, np.ndarray | None] = {}
        recalled: dict[str, list[int]] = {}
        pool: dict[int, None] = {}
        for ch in self.channels:
            t = time.perf_counter()
            s = None if ch.name in skip else ch.scores(query)
            scores[ch.name] = s
            recalled[ch.name] = ch.top(s, k, query, allowed).tolist()
            pool.update(dict.fromkeys(recalled[ch.name]))
            _lap(timings, f"recall:{ch.name}", t)
        rows = np.fromiter(pool, np.int64, len(pool))
        if approximate or self._partial:  # features read the pooled rows: make them exact
            t = time.perf_counter()
            for ch in self.channels:
                s = scores[ch.name]
                if s is not None and (got := ch.exact_at(query, rows)) is not None:
                    s[rows] = got
            _lap(timings, "rescore", t)
        return rows, recalled, scores

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
        total, contrib = self.fusion.score(cols, scale, limit)
        order = np.lexsort((positions, -total))  # ties by catalog position: stable
        found = {name: set(got) for name, got in recalled.items()}
        # a channel recalled nothing unless it scored: every found name has scores
        scored = {name: s for name, s in scores.items() if s is not None}
        best = order[:limit]
        # rows of plain floats in one go (tolist), not one numpy scalar per cell
        names, parts = list(cols), list(contrib)
        feats = np.stack([cols[n][best] for n in names], axis=1).tolist() if names else []
        shares = (
            np.round(np.stack([contrib[n][best] for n in parts], axis=1), 6).tolist()
            if parts
            else [[]] * len(best)
        )
        items = []
        for row, j in enumerate(best):
            p = positions[j]
            items.append(
                ScoredItem(
                    self.index.ids[p],
                    self.index.metas[p],
                    float(total[j]),
                    dict(zip(names, feats[row], strict=True)),
                    dict(zip(parts, shares[row], strict=True)),
                    {name: float(scored[name][p]) for name, got in found.items() if p in got},
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
        # rerank needs some depth to diversify from, not the whole pool
        items, _ = self.shortlist(
            query, online=online, rng=rng, timings=timings, limit=max(50, 5 * k)
        )
        return self.rerank(items, k, timings)

    def shortlist(
        self,
        query: Query,
        *,
        online: OnlineState | None = None,
        rng: np.random.Generator | None = None,
        timings: dict | None = None,
        limit: int = 50,
    ) -> tuple[list[ScoredItem], dict[str, list[int]]]:
        """The first half of `recommend`: recall and fuse. The best `limit` fused
        candidates, best first, and each channel's recalled positions. A chat turn
        stops here when it asks a question instead (the shortlist is what it asks about)."""
        timings = {} if timings is None else timings
        self.prepare(query, online, timings)
        scale = None
        if online is not None:
            online.last_arm = online.bandit.choose(rng or np.random.default_rng())
            scale = FusionBandit.scale(online.last_arm)
        positions, recalled, scores = self.recall(query, self.config.channel_k, timings)
        items = self.fuse(query, positions, recalled, scores, timings, scale, limit=limit)
        return items, recalled

    def rerank(
        self, items: list[ScoredItem], k: int, timings: dict[str, float] | None = None
    ) -> list[ScoredItem]:
        """The second half of `recommend`: the k to show."""
        t = time.perf_counter()
        items = distinct(items)
        if self.reranker is not None and self.config.rerank:
            items = self.reranker.rerank(items, k)
        _lap({} if timings is None else timings, "rerank", t)
        return items[:k]

    def score_catalog(
        self, query: Query, skip: frozenset[str] = frozenset(), channel_k: int | None = None
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Fused score of every catalog item (filtered-out items get -inf), and the
        feature columns; for evaluation protocols that rank the whole catalog."""
        timings: dict = {}
        self.prepare(query, None, timings)
        _, recalled, scores = self.recall(
            query, channel_k or self.config.channel_k, timings, skip=skip, exact=True
        )
        positions = np.arange(len(self.index))
        cols = self.features.build(query, positions, scores, self.flags(recalled))
        total, _ = self.fusion.score(cols)
        total[~self.index.mask(query.filter)] = -np.inf
        return total, cols


def distinct(items: list[ScoredItem]) -> list[ScoredItem]:
    """One item per (title, brand), the best-scored: a shop may list one product twice
    (two sellers, a re-listing), and two identical cards in one list help nobody. The
    same title from another brand is another product, and so is an item with no brand
    (a film and its remake share a title): those stay."""
    seen: set[tuple[str, str]] = set()
    out = []
    for item in items:
        brand = " ".join(str(item.meta.get("brand") or "").casefold().split())
        if brand:
            key = (" ".join(str(item.meta.get("title", item.id)).casefold().split()), brand)
            if key in seen:
                continue
            seen.add(key)
        out.append(item)
    return out


def _lap(timings: dict, stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] = timings.get(stage, 0.0) + (now - since)
    return now
