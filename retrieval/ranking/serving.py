"""The learning recommender every chat turn and catalog search uses: multi-channel
recall, learned fusion, reranking and online learning, built from the item store
and the artifacts `recochat train` wrote (trained.py loads them).

A turn runs it in two halves: `recall` (channels → features → fusion: the
shortlist the policy asks about) and, when the policy recommends, `rank`
(reranking, plus the evidence each card's explanation names: which liked item
an item is similar to, which one people also liked, what it follows). The
caller's hard constraints are the query's filter, so seen and disliked items are
never candidates.

It reads the user's history and keeps the online learners' state through an
`InteractionLog` (the chat's interaction store implements it).
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.items.filters import Filter
from retrieval.items.index import CatalogIndex
from retrieval.items.remote import ItemCache
from retrieval.items.store import ItemStore
from retrieval.models.online import OnlineState
from retrieval.ranking.bounded import CandidatePipeline
from retrieval.ranking.channels import ModelChannel, Query, StoreSearch
from retrieval.ranking.fusion import FusionModel, TreeFusion
from retrieval.ranking.pipeline import Pipeline, PipelineConfig
from retrieval.ranking.rerank import RerankConfig, Reranker
from retrieval.ranking.scored import ScoredItem
from retrieval.ranking.trained import ArtifactWarning, feature_builder, load_models

POSITIVE = {"like", "click", "purchase"}
NEGATIVE = {"dislike"}


class InteractionLog(Protocol):
    """Where a user's history comes from and the online learners' state is kept."""

    def history(self, user_id: str) -> list[str]: ...

    def load_online(self, key: str) -> dict[str, Any] | None: ...

    def save_online(self, key: str, state: dict[str, Any]) -> None: ...


@dataclass
class LearningConfig:
    channel_k: int = 100  # candidates each recall channel returns
    exploration: float = 1.0  # bandit temperature: 0 greedy, 1 Thompson sampling
    online: bool = True
    learned_fusion: bool = True
    fusion_weights: dict[str, float] = field(default_factory=dict)  # config overrides
    rerank: RerankConfig = field(default_factory=RerankConfig)
    avoided: float = 0.2  # penalty per word the user wants to avoid ("nothing with zombies")
    seed: int | None = None
    # the dense stage queries the item store's k-NN index (a Chroma server) with the
    # filter as `where`, instead of scanning the in-memory vectors
    dense_from_store: bool = False


@dataclass
class Shortlist:
    """One turn's recall: the fused candidates (best first) and what produced them."""

    query: Query
    items: list[ScoredItem]
    channels: dict[str, int]  # channel → candidates it recalled
    key: str | None = None
    online: OnlineState | None = None
    request_vector: np.ndarray | None = None  # the request's embedding before Rocchio
    # what recalled it, and ranks it: the recommender's own pipeline, or one over this
    # request's candidates when the catalog stays in a Chroma server (bounded.py)
    pipeline: Pipeline | None = None


@dataclass
class Ranked:
    items: list[ScoredItem]
    # item id → reason family → (catalog id of the item it names, its role:
    # "liked", "mentioned" or "history")
    evidence: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)


class Recommender:
    def __init__(
        self,
        pipeline: Pipeline | CandidatePipeline,
        interactions: InteractionLog,
        config: LearningConfig,
        problems: list[str] | None = None,
    ):
        self.pipeline = pipeline
        self.interactions = interactions
        self.config = config
        self.problems = problems or []
        self._rng = np.random.default_rng(config.seed)
        self._model_pos: dict[str, dict[str, int]] = {}  # channel → item id → model row

    @classmethod
    def build(
        cls,
        store: ItemStore,
        interactions: InteractionLog,
        artifacts: Path,
        config: LearningConfig | None = None,
    ) -> Recommender:
        config = config or LearningConfig()
        index = CatalogIndex.from_store(store)
        trained = load_models(index, Path(artifacts))
        for message in trained.problems:
            warnings.warn(message, ArtifactWarning, stacklevel=2)
        if (popularity := trained.serving_popularity(index)) is not None:
            index.set_popularity(popularity)
        fusion = trained.fusion if config.learned_fusion else None
        if fusion is None or (isinstance(fusion, TreeFusion) and config.fusion_weights):
            # configured weights are a linear fusion: they replace learned trees
            fusion = FusionModel.default()
        if isinstance(fusion, FusionModel):
            fusion.weights.update(config.fusion_weights)
        pipeline = Pipeline(
            index,
            trained.serving_channels(
                index,
                store.embedder.embed,
                _store_search(store) if config.dense_from_store else None,
            ),
            fusion=fusion,
            features=feature_builder(index, fusion),
            reranker=Reranker(index, config.rerank),
            config=PipelineConfig(channel_k=config.channel_k),
        )
        return cls(pipeline, interactions, config, trained.problems)

    @classmethod
    def bounded(
        cls,
        store: ItemStore,
        interactions: InteractionLog,
        config: LearningConfig | None = None,
        cache: ItemCache | None = None,
    ) -> Recommender:
        """For a catalog that stays in a Chroma server: what the worker holds does
        not grow with it (retrieval/ranking/bounded.py says what is off)."""
        config = config or LearningConfig()
        fusion = FusionModel.default()
        fusion.weights.update(config.fusion_weights)
        pipeline = CandidatePipeline(
            store,
            cache or ItemCache(store),
            fusion,
            PipelineConfig(channel_k=config.channel_k),
            config.rerank,
        )
        return cls(pipeline, interactions, config)

    @property
    def channel_names(self) -> list[str]:
        return self.pipeline.channel_names

    # -- queries -----------------------------------------------------------------

    def query(
        self,
        text: str = "",
        *,
        flt: Filter | None = None,
        liked: list[str] | None = None,
        disliked: list[str] | None = None,
        facets: dict[str, list[str]] | None = None,
        avoid: dict[str, list[str]] | None = None,
        budget: float | None = None,
        user_id: str | None = None,
    ) -> Query:
        """A Query from what the dialogue knows, plus the user's logged history."""
        history = self.interactions.history(user_id) if user_id else []
        return Query(
            text=text,
            filter=flt or Filter(),
            liked=list(liked or []),
            disliked=list(disliked or []),
            history=history,
            user_id=user_id,
            facets=dict(facets or {}),
            avoid=dict(avoid or {}),
            budget=budget,
        )

    # -- the two halves of a turn --------------------------------------------------------

    def recall(
        self,
        query: Query,
        *,
        key: str | None = None,
        timings: dict | None = None,
        limit: int = 50,
    ) -> Shortlist:
        """Recall and fuse; with a key (a session or user id) the online learners
        take part: the Rocchio profile moves the request, the bandit plays an arm."""
        timings = {} if timings is None else timings
        online = self._online(key) if (key and self.config.online) else None
        if online is not None:
            query.liked = list(dict.fromkeys([*query.liked, *online.profile.liked]))
            query.disliked = list(dict.fromkeys([*query.disliked, *online.profile.disliked]))
        self.pipeline.embed(query, timings)  # before Rocchio moves it (in `shortlist`)
        request = None if query.vector is None else query.vector.copy()
        pipeline = self._pipeline_for(query, online, timings)
        items, recalled = pipeline.shortlist(
            query, online=online, rng=self._rng, timings=timings, limit=limit
        )
        channels = {name: len(got) for name, got in recalled.items() if got}
        return Shortlist(query, items, channels, key, online, request, pipeline)

    def _pipeline_for(self, query: Query, online: OnlineState | None, timings: dict) -> Pipeline:
        if isinstance(self.pipeline, CandidatePipeline):
            return self.pipeline.for_query(query, online, timings)
        return self.pipeline

    def rank(
        self,
        shortlist: Shortlist,
        k: int,
        *,
        avoid_terms: Sequence[str] = (),
        timings: dict | None = None,
    ) -> Ranked:
        """The k to show, each with the evidence its explanation names. The online
        state (the arm played) is saved, so feedback on these items credits it."""
        items = _penalise_terms(list(shortlist.items), avoid_terms, self.config.avoided)
        pipeline = self._recalled_by(shortlist)
        shown = pipeline.rerank(items, k, timings)
        t = time.perf_counter()
        evidence = self._evidence(pipeline, shortlist, shown)
        if timings is not None:
            timings["explain"] = timings.get("explain", 0.0) + time.perf_counter() - t
        if shortlist.online is not None and shortlist.key is not None:  # online needs a key
            self.interactions.save_online(shortlist.key, shortlist.online.to_dict())
        return Ranked(shown, evidence)

    def recommend(
        self, query: Query, k: int, key: str | None = None, timings: dict | None = None
    ) -> list[ScoredItem]:
        """Both halves at once, without the evidence (evaluation, tests); a catalog
        search runs the halves itself for its cards (chat/recommend.py)."""
        shortlist = self.recall(query, key=key, timings=timings, limit=max(50, 5 * k))
        return self.rank(shortlist, k, timings=timings).items

    # -- feedback ------------------------------------------------------------------------

    def feedback(self, key: str, item_id: str, kind: str, shown: int = 1) -> None:
        """A like/dislike/click on a shown item: update the online learners at once
        (the next recall already uses them). The event itself is logged by the
        conversation (chat/persist/feedback.py), which the interaction store reads as chat
        events for the next `recochat train`."""
        online = self._online(key)
        if kind in POSITIVE or kind in NEGATIVE:
            online.profile.feedback(item_id, positive=kind in POSITIVE)
        if online.last_arm is not None and kind in POSITIVE | NEGATIVE:
            online.bandit.update(online.last_arm, 1.0 / max(1, shown) if kind in POSITIVE else 0.0)
        self.interactions.save_online(key, online.to_dict())

    def _online(self, key: str) -> OnlineState:
        return OnlineState.from_dict(self.interactions.load_online(key), self.config.exploration)

    # -- what the explanations name ------------------------------------------------------

    def _recalled_by(self, shortlist: Shortlist) -> Pipeline:
        """The pipeline that recalled the shortlist (it holds the candidates' rows)."""
        if shortlist.pipeline is not None:
            return shortlist.pipeline
        if isinstance(self.pipeline, CandidatePipeline):
            raise ValueError("a shortlist of a bounded recommender carries its pipeline")
        return self.pipeline

    def index_of(self, shortlist: Shortlist) -> CatalogIndex:
        """The rows the shortlist's items and seeds are in (their metadata, vectors)."""
        return self._recalled_by(shortlist).index

    def _evidence(
        self, pipeline: Pipeline, shortlist: Shortlist, shown: list[ScoredItem]
    ) -> dict[str, dict[str, tuple[str, str]]]:
        """Per shown item, the seed each item-to-item signal rests on: the liked item
        closest in content, the one whose co-interaction weight is largest, the last
        item of the sequence; and the Rocchio part of the semantic signal is split
        off as `online` (its contribution moves from `semantic`, the sum stays)."""
        idx, query = pipeline.index, shortlist.query
        if not shown or idx.vectors is None:
            return {}
        roles = {i: "history" for i in query.history}
        roles.update({i: "liked" for i in query.liked})
        if shortlist.online is not None:
            roles.update({i: "liked" for i in shortlist.online.profile.liked})
        positions = idx.positions([it.id for it in shown])
        vectors = idx.vectors[positions]
        out: dict[str, dict[str, tuple[str, str]]] = {it.id: {} for it in shown}
        seeds = [s for s in query.seeds() if s in idx.pos]
        if seeds:
            sims = vectors @ idx.vectors[idx.positions(seeds)].T
            for row, it in enumerate(shown):
                best = seeds[int(np.argmax(sims[row]))]
                out[it.id]["content"] = (best, roles.get(best, "liked"))
        for ch in pipeline.channels:
            if isinstance(ch, ModelChannel):
                self._model_evidence(ch, query, shown, roles, out)
        if shortlist.online is not None:
            self._online_split(idx, shortlist.online, shortlist, shown, vectors, roles, out)
        return out

    def _model_evidence(
        self,
        ch: ModelChannel,
        query: Query,
        shown: list[ScoredItem],
        roles: dict[str, str],
        out: dict[str, dict[str, tuple[str, str]]],
    ) -> None:
        rows = self._model_pos.get(ch.name)
        if rows is None:
            rows = self._model_pos[ch.name] = {i: n for n, i in enumerate(ch.model.item_ids)}
        seeds = [s for s in ch.seeds(query) if s in rows]
        if not seeds:
            return
        if ch.use_history_order:  # a sequence model reads the whole sequence: name its end
            for it in shown:
                out[it.id][ch.name] = (seeds[-1], roles.get(seeds[-1], "liked"))
            return
        targets = np.array([rows.get(it.id, -1) for it in shown])
        seeds = list(dict.fromkeys(seeds))
        # (seeds, shown): each seed's part of the item's score (the models are linear
        # in their seeds: item-kNN and EASE sum one row per seed)
        weight = np.stack([ch.model.score(np.array([rows[s]]))[targets] for s in seeds])
        weight[:, targets < 0] = 0.0
        for col, it in enumerate(shown):
            if weight[:, col].max() > 0:
                best = seeds[int(np.argmax(weight[:, col]))]
                out[it.id][ch.name] = (best, roles.get(best, "liked"))

    def _online_split(
        self,
        idx: CatalogIndex,
        online: OnlineState,
        shortlist: Shortlist,
        shown: list[ScoredItem],
        vectors: np.ndarray,
        roles: dict[str, str],
        out: dict[str, dict[str, tuple[str, str]]],
    ) -> None:
        profile = online.profile
        if idx.vectors is None:  # _evidence checked; a vector-less index has no Rocchio
            return
        request, feedback = profile.split(shortlist.request_vector, idx.vectors, idx.pos, vectors)
        liked = [i for i in profile.liked if i in idx.pos]
        for row, it in enumerate(shown):
            total = request[row] + feedback[row]
            semantic = it.contributions.get("semantic", 0.0)
            if not semantic or total <= 0 or not feedback[row]:
                continue
            part = round(float(semantic * feedback[row] / total), 6)
            it.contributions["semantic"] = round(semantic - part, 6)
            it.contributions["online"] = part
            if liked:
                sims = idx.vectors[idx.positions(liked)] @ vectors[row]
                best = liked[int(np.argmax(sims))]
                out[it.id]["online"] = (best, roles.get(best, "liked"))


def _penalise_terms(
    items: list[ScoredItem], terms: Sequence[str], weight: float
) -> list[ScoredItem]:
    """Soft negatives in words ("nothing with zombies"): each avoided word in an
    item's text costs `weight`, kept as the `avoided` contribution."""
    if not terms or not weight:
        return items
    patterns = [re.compile(rf"(?<!not-)(?<!non-)(?<!no )\b{re.escape(t)}", re.I) for t in terms]
    for it in items:
        text = _text(it.meta)
        hits = sum(1 for p in patterns if p.search(text))
        if hits:
            it.contributions["avoided"] = -round(weight * hits, 6)
            it.score -= weight * hits
    items.sort(key=lambda it: -it.score)  # stable: ties keep the fused order
    return items


def _text(meta: dict[str, Any]) -> str:
    parts = []
    for key, value in meta.items():
        if key.startswith("_"):
            continue
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.append(" ".join(map(str, value)))
    return " ".join(parts)


def _store_search(store: ItemStore) -> StoreSearch:
    def search(vector: np.ndarray, k: int, flt: Filter) -> list[tuple[str, float]]:
        return [(c.id, c.similarity) for c in store.query_vector(vector, k, flt)]

    return search
