"""The learning recommender as the chat uses it: multi-channel recall, learned
fusion, reranking and online learning, built from the item store and the
artifacts `recochat train` wrote.

Artifacts are optional. Each missing, corrupt or old-format one is reported as
a warning and its channel is left out, so a fresh install (no interactions
yet) still recommends with the dense, content and popularity channels and the
configured fusion weights.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval import Filter, ItemStore, ScoredItem
from retrieval.artifacts import ArtifactError, load_artifact
from retrieval.channels import (
    Channel,
    ContentChannel,
    DenseChannel,
    ModelChannel,
    PopularChannel,
    Query,
)
from retrieval.features import FeatureBuilder
from retrieval.fusion import FusionModel
from retrieval.index import CatalogIndex
from retrieval.online import OnlineState
from retrieval.pipeline import Pipeline, PipelineConfig
from retrieval.rerank import RerankConfig, Reranker

from .interactions import Interaction, InteractionStore

POSITIVE = {"like", "click", "purchase"}
NEGATIVE = {"dislike"}


class ArtifactWarning(UserWarning):
    """A learned artifact could not be used; the recommender goes on without it."""


@dataclass
class LearningConfig:
    recall_k: int = 100
    exploration: float = 1.0  # bandit temperature: 0 greedy, 1 Thompson sampling
    online: bool = True
    learned_fusion: bool = True
    fusion_weights: dict[str, float] = field(default_factory=dict)  # config overrides
    rerank: RerankConfig = field(default_factory=RerankConfig)
    seed: int | None = None


def load_models(
    index: CatalogIndex, folder: Path
) -> tuple[list[Channel], FusionModel | None, np.ndarray | None, list[str]]:
    """Channels from the trained artifacts, the learned fusion and popularity; and
    one message per artifact that could not be used."""
    from retrieval.cf import EASE, ItemKNN

    problems: list[str] = []
    channels: list[Channel] = []

    def get(name: str):
        try:
            return load_artifact(folder, name)
        except ArtifactError as e:
            problems.append(str(e))
            return None

    if (a := get("item_knn")) is not None:
        knn = ItemKNN.from_arrays(a.arrays, a.item_ids)
        channels.append(ModelChannel(index, knn, "co_interaction"))
    if (a := get("ease")) is not None:
        channels.append(ModelChannel(index, EASE.from_arrays(a.arrays, a.item_ids), "cf"))
    if (a := get("sasrec")) is not None:
        from retrieval.sequence import SASRec

        try:
            model = SASRec.from_arrays(a.arrays, a.item_ids)
            channels.append(ModelChannel(index, model, "sequence", use_history_order=True))
        except (KeyError, RuntimeError, ValueError) as e:
            problems.append(f"The 'sasrec' artifact does not fit this recochat ({e}); retrain.")
    fusion = None
    if (a := get("fusion")) is not None:
        names = [str(n) for n in a.arrays["names"]]
        fusion = FusionModel(dict(zip(names, map(float, a.arrays["weights"]), strict=True)), a.info)
    popularity = None
    if (a := get("popularity")) is not None:
        pos = {i: n for n, i in enumerate(a.item_ids)}
        counts = a.arrays["counts"]
        popularity = np.array([counts[pos[i]] if i in pos else 0.0 for i in index.ids])
    return channels, fusion, popularity, problems


class Recommender:
    def __init__(
        self,
        pipeline: Pipeline,
        interactions: InteractionStore,
        config: LearningConfig,
        problems: list[str] | None = None,
    ):
        self.pipeline = pipeline
        self.interactions = interactions
        self.config = config
        self.problems = problems or []
        self._rng = np.random.default_rng(config.seed)

    @classmethod
    def build(
        cls,
        store: ItemStore,
        interactions: InteractionStore,
        artifacts: Path,
        config: LearningConfig | None = None,
    ) -> Recommender:
        config = config or LearningConfig()
        index = CatalogIndex.from_store(store)
        trained, fusion, popularity, problems = load_models(index, Path(artifacts))
        for message in problems:
            warnings.warn(message, ArtifactWarning, stacklevel=2)
        if popularity is not None:
            index.set_popularity(popularity)
        channels = [
            DenseChannel(index, store.embedder.embed),
            ContentChannel(index),
            *trained,
            PopularChannel(index),
        ]
        if fusion is None or not config.learned_fusion:
            fusion = FusionModel.default()
        fusion.weights.update(config.fusion_weights)
        pipeline = Pipeline(
            index,
            channels,
            fusion=fusion,
            features=FeatureBuilder(index),
            reranker=Reranker(index, config.rerank),
            config=PipelineConfig(recall_k=config.recall_k),
        )
        return cls(pipeline, interactions, config, problems)

    @property
    def channel_names(self) -> list[str]:
        return self.pipeline.channel_names

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
        history: list[str] = []
        if user_id:
            history = [
                e.item_id
                for e in self.interactions.events()
                if e.user_id == user_id and e.kind not in NEGATIVE
            ]
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

    def recommend(
        self, query: Query, k: int, key: str | None = None, timings: dict | None = None
    ) -> list[ScoredItem]:
        """Recommend; with a key (a session or user id) the online learners take part."""
        online = self._online(key) if (key and self.config.online) else None
        if online is not None:
            query.liked = list(dict.fromkeys([*query.liked, *online.profile.liked]))
            query.disliked = list(dict.fromkeys([*query.disliked, *online.profile.disliked]))
        items = self.pipeline.recommend(query, k, online=online, rng=self._rng, timings=timings)
        if online is not None:
            self.interactions.save_online(key, online.to_dict())
        return items

    def feedback(
        self, key: str, item_id: str, kind: str, user_id: str | None = None, shown: int = 1
    ) -> None:
        """A like/dislike/click on a shown item: update the online learners and log it."""
        import time

        online = self._online(key)
        if kind in POSITIVE or kind in NEGATIVE:
            online.profile.feedback(item_id, positive=kind in POSITIVE)
        if online.last_arm is not None:
            online.bandit.update(online.last_arm, 1.0 / max(1, shown) if kind in POSITIVE else 0.0)
        self.interactions.save_online(key, online.to_dict())
        self.interactions.add(
            [Interaction(user_id or key, item_id, kind, None, time.time(), key, "chat")]
        )

    def _online(self, key: str) -> OnlineState:
        return OnlineState.from_dict(self.interactions.load_online(key), self.config.exploration)


def build_recommender(store: ItemStore, db, artifacts: Path, settings) -> Recommender:
    """From the `learning` settings section (chat/config.py LearningSettings)."""
    rerank = RerankConfig(
        diversity=settings.diversity,
        cap_field=settings.cap_field,
        cap_share=settings.cap_share,
        long_tail_share=settings.long_tail_share,
        in_stock_first=settings.in_stock_first,
    )
    config = LearningConfig(
        recall_k=settings.recall_k,
        exploration=settings.exploration,
        online=settings.online,
        learned_fusion=settings.learned_fusion,
        fusion_weights=dict(settings.fusion_weights),
        rerank=rerank,
    )
    return Recommender.build(store, InteractionStore(db), artifacts, config)
