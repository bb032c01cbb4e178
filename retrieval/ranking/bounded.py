"""The pipeline of a worker whose catalog stays in a Chroma server (too big to
hold; see retrieval/items/remote.py): each request gets a Pipeline of its own over
a small CatalogIndex of just what it needs, so channels, features, fusion and the
rerank run unchanged, on a few hundred rows instead of the whole catalog.

What goes into a request's index: the k nearest items to the request (the
server's HNSW with the filter as its `where`), the k nearest to the liked items'
mean vector (the content channel's candidates), and the seeds themselves (liked,
disliked and history items, which Rocchio and the explanations read); with no
request text and no seeds, k items passing the filter. Their metadata and
vectors come through the worker's bounded ItemCache.

What does not scale this way is off: the channels over the interaction log and
past dialogues (co_interaction, cf, sequence, co_mention …) and the popularity
channel keep a score for every catalog item, and learned fusion was trained
with them; the fusion is the default (plus configured weights). Features that
are scaled over the catalog (rating, freshness, catalog popularity) are scaled
over the request's candidates instead.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from retrieval.items.index import CatalogIndex
from retrieval.items.remote import ItemCache
from retrieval.items.store import ItemStore
from retrieval.models.online import OnlineState
from retrieval.ranking.channels import (
    HISTORY_TAIL,
    ContentChannel,
    DenseChannel,
    Query,
    SharedFacetsChannel,
)
from retrieval.ranking.features import FeatureBuilder
from retrieval.ranking.fusion import Fusion
from retrieval.ranking.pipeline import Pipeline, PipelineConfig
from retrieval.ranking.rerank import RerankConfig, Reranker

log = logging.getLogger(__name__)

CHANNELS = ["dense", "content", "shared_facets"]


class CandidatePipeline:
    def __init__(
        self,
        store: ItemStore,
        cache: ItemCache,
        fusion: Fusion,
        config: PipelineConfig,
        rerank: RerankConfig,
    ) -> None:
        self.store = store
        self.cache = cache
        self.fusion = fusion
        self.config = replace(config, compress_min_items=None)  # a few hundred rows
        self.rerank_config = rerank
        self.fields = tuple(n for n, f in store.facets().items() if f.kind == "categorical")
        log.warning(
            "%d items in a Chroma server: each request ranks only its recalled candidates "
            "(cache of %d items); the interaction, dialogue and popularity channels and "
            "learned fusion are off at this size",
            store.count(),
            cache.size,
        )

    @property
    def channel_names(self) -> list[str]:
        return list(CHANNELS)

    def embed(self, query: Query, timings: dict) -> None:
        t = time.perf_counter()
        if query.vector is None and query.text.strip():
            query.vector = np.asarray(self.store.embedder.embed([query.text])[0], np.float32)
        timings["embed"] = timings.get("embed", 0.0) + time.perf_counter() - t

    def for_query(self, query: Query, online: OnlineState | None, timings: dict) -> Pipeline:
        """A pipeline over this request's candidates and seeds."""
        t = time.perf_counter()
        seeds = [*query.seeds(), *query.disliked]
        if online is not None:
            seeds += [*online.profile.liked, *online.profile.disliked]
        seeded = self.cache.get(seeds)
        index = _index(seeded)
        vector = query.vector
        if online is not None and vector is not None and index.vectors is not None:
            # the request as Rocchio moves it (the pipeline does the same on its index)
            vector = online.profile.apply(vector, index.vectors, index.pos)
        k = self.config.channel_k
        found: dict[str, None] = {}
        if vector is not None:
            found.update(
                dict.fromkeys(c.id for c in self.store.query_vector(vector, k, query.filter))
            )
        liked = [i for i in query.seeds()[-HISTORY_TAIL:] if i in seeded]
        if liked and index.vectors is not None:
            mean = index.vectors[index.positions(liked)].mean(axis=0)
            found.update(
                dict.fromkeys(c.id for c in self.store.query_vector(mean, k, query.filter))
            )
        if vector is None and not liked:  # nothing to be near: items that pass the filter
            found.update(dict.fromkeys(self.store.ids_matching(query.filter, k)))
        timings["recall:store"] = timings.get("recall:store", 0.0) + time.perf_counter() - t
        t = time.perf_counter()
        index = _index(self.cache.get([*found, *seeded]))
        timings["fetch"] = timings.get("fetch", 0.0) + time.perf_counter() - t
        return Pipeline(
            index,
            [
                DenseChannel(index, self.store.embedder.embed),
                ContentChannel(index),
                SharedFacetsChannel(index, self.fields),
            ],
            fusion=self.fusion,
            features=FeatureBuilder(index),
            reranker=Reranker(index, self.rerank_config),
            config=self.config,
        )


def _index(items: dict[str, tuple[dict, np.ndarray]]) -> CatalogIndex:
    ids = list(items)
    if not ids:
        return CatalogIndex([], [], None)
    return CatalogIndex(ids, [items[i][0] for i in ids], np.stack([items[i][1] for i in ids]))
