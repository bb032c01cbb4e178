"""Recall channels: each proposes items for a query, with its own score.

A channel computes a score for every catalog item as one numpy array (cheap:
the catalog lives in a CatalogIndex), then keeps the k best that pass the
query's filter. Features reuse the same arrays, so every candidate gets every
channel's score no matter which channel found it. A channel with nothing to go
on (no liked items, no trained model) returns None and is simply skipped.

    dense           cosine of item vectors to the request (or the Rocchio profile);
                    with a Chroma server, its index answers with `where` filters
                    (StoreDenseChannel) instead of a scan of the in-memory copy
    content         item vectors close to the liked/referenced items
    co_interaction  item-kNN neighbours of liked items over the interaction log
    cf              EASE / item-kNN scores of the user's whole history
    sequence        SASRec next-item scores after the user's history
    popular         popularity within the wanted facets (cold start)
    asked_for       items chosen when the same facet values (or words) were asked
                    for (cf.Transitions over anchors such as "genres=horror")
    similar_requests  items chosen for past requests that read like this one
    <prior>         a fixed per-item prior (e.g. how often an item was chosen)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from retrieval.items.filters import Filter
from retrieval.items.index import CatalogIndex, top_k
from retrieval.items.store import Candidate
from retrieval.models.array_model import ItemScorer
from retrieval.models.cf import RequestKNN, Transitions
from retrieval.models.dialogue import DialogueModels, facet_anchors, word_anchors

HISTORY_TAIL = 50  # long histories: the recent part says most about the next item


@dataclass
class Query:
    """What recall and ranking need from a dialogue (or a user profile)."""

    text: str = ""
    filter: Filter = field(default_factory=Filter)
    liked: list[str] = field(default_factory=list)  # liked or referenced in this chat
    disliked: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # past interactions, oldest first
    user_id: str | None = None
    facets: dict[str, list[str]] = field(default_factory=dict)  # wanted facet values
    avoid: dict[str, list[str]] = field(default_factory=dict)  # unwanted facet values (soft)
    budget: float | None = None
    vector: np.ndarray | None = None  # request embedding, once computed (or Rocchio-moved)
    # per-query scratch shared by channels (see Pipeline.prepare: one pass over the
    # item vectors serves both the dense and the content channel)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def seeds(self) -> list[str]:
        """Items that say what the user likes, oldest first: recent history, then this
        chat's likes (an item liked again counts at its latest place)."""
        order = [*self.history[-HISTORY_TAIL:], *self.liked]
        return list(reversed(dict.fromkeys(reversed(order))))


class Channel:
    name = "channel"
    # candidates must score above this; neighbour channels give 0 to unrelated items
    min_score = -np.inf
    # True: `scores` are known only at the items the channel recalled (0 elsewhere);
    # the pipeline rescores the pooled rows with `exact_at`
    partial_scores = False

    def __init__(self, index: CatalogIndex) -> None:
        self.index = index

    def scores(self, query: Query) -> np.ndarray | None:
        raise NotImplementedError

    def exact_at(self, query: Query, positions: np.ndarray) -> np.ndarray | None:
        """Exact scores at these positions when `scores` may be approximate (the
        vector channels on a compressed catalog, see retrieval/items/ann.py); None: exact."""
        return None

    def recall(self, query: Query, k: int, allowed: np.ndarray | None = None) -> list[Candidate]:
        s = self.scores(query)
        return self.candidates(s, k, query, allowed)

    def top(
        self, s: np.ndarray | None, k: int, query: Query, allowed: np.ndarray | None = None
    ) -> np.ndarray:
        """Catalog positions of the k best allowed items above min_score, best first
        (what the pipeline pools; `candidates` wraps them for other callers)."""
        if s is None or k <= 0:
            return np.zeros(0, dtype=np.int64)
        ok = self.index.mask(query.filter) if allowed is None else allowed.copy()
        ok &= s > self.min_score
        return top_k(s, k, ok)

    def candidates(
        self, s: np.ndarray | None, k: int, query: Query, allowed: np.ndarray | None = None
    ) -> list[Candidate]:
        if s is None:
            return []
        picked = self.top(s, k, query, allowed)
        idx = self.index
        return [
            Candidate(
                idx.ids[p],
                idx.metas[p],
                float(s[p]) if self.name == "dense" else 0.0,
                {self.name: float(s[p])},
            )
            for p in picked
        ]


class DenseChannel(Channel):
    name = "dense"

    def __init__(self, index: CatalogIndex, embed: Callable[[list[str]], np.ndarray]) -> None:
        super().__init__(index)
        self.embed = embed

    def query_vector(self, query: Query) -> np.ndarray | None:
        if query.vector is None and query.text.strip():
            query.vector = np.asarray(self.embed([query.text])[0], dtype=np.float32)
        return query.vector

    def scores(self, query: Query) -> np.ndarray | None:
        if "dense" in query.cache:
            return query.cache["dense"]
        vector = self.query_vector(query)
        if vector is None or self.index.vectors is None:
            return None
        return self.index.vectors @ vector

    def exact_at(self, query: Query, positions: np.ndarray) -> np.ndarray | None:
        if query.vector is None or self.index.vectors is None:
            return None
        return self.index.vectors[positions] @ query.vector


# (vector, k, filter) → the k nearest (item id, cosine similarity) that pass the filter
StoreSearch = Callable[[np.ndarray, int, Filter], list[tuple[str, float]]]


class StoreDenseChannel(DenseChannel):
    """The dense stage answered by the item store's own k-NN index: a Chroma server's
    HNSW with the query's filter as its `where`, so a worker does not scan every
    vector per query. Its scores are the similarities of what the index returned
    (0 elsewhere); the pipeline rescores the pooled rows exactly."""

    partial_scores = True

    def __init__(
        self, index: CatalogIndex, embed: Callable[[list[str]], np.ndarray], search: StoreSearch
    ) -> None:
        super().__init__(index, embed)
        self.search = search

    def scores(self, query: Query) -> np.ndarray | None:
        if self.query_vector(query) is None:
            return None
        return np.zeros(len(self.index), dtype=np.float32)  # filled by `top`

    def top(
        self, s: np.ndarray | None, k: int, query: Query, allowed: np.ndarray | None = None
    ) -> np.ndarray:
        if s is None or query.vector is None or k <= 0:
            return np.zeros(0, dtype=np.int64)
        found = self.search(query.vector, k, query.filter)
        # items this worker's index does not hold yet (just upserted elsewhere) wait
        # for its catalog refresh
        pairs = [(self.index.pos[i], sim) for i, sim in found if i in self.index.pos]
        picked = np.array([p for p, _ in pairs], dtype=np.int64)
        if len(picked):
            s[picked] = [sim for _, sim in pairs]
        if allowed is not None and len(picked):
            picked = picked[allowed[picked]]
        return picked


class ContentChannel(Channel):
    """Items whose text/vector is close to the liked items, away from disliked ones."""

    name = "content"
    min_score = 0.0

    def scores(self, query: Query) -> np.ndarray | None:
        vectors = self.index.vectors
        liked = self.index.positions(query.seeds()[-HISTORY_TAIL:])
        if vectors is None or len(liked) == 0:
            return None
        # mean of the cosines to each seed = one product with the seeds' mean vector
        # (linear), so this costs one pass over the catalog whatever the seed count
        s = query.cache.get("content")
        s = vectors @ vectors[liked].mean(axis=0) if s is None else s.copy()
        disliked = self.index.positions(query.disliked)
        if len(disliked):
            product = query.cache.get("product")  # the pipeline's compressed scan, if any
            near = product(vectors[disliked].T) if product else vectors @ vectors[disliked].T
            s = s - 0.5 * near.max(axis=1)
        s[liked] = -np.inf  # neighbours, not the seeds themselves
        return s

    def exact_at(self, query: Query, positions: np.ndarray) -> np.ndarray | None:
        vectors = self.index.vectors
        liked = self.index.positions(query.seeds()[-HISTORY_TAIL:])
        if vectors is None or len(liked) == 0:
            return None
        rows = vectors[positions]
        s = rows @ vectors[liked].mean(axis=0)
        disliked = self.index.positions(query.disliked)
        if len(disliked):
            s = s - 0.5 * (rows @ vectors[disliked].T).max(axis=1)
        s[np.isin(positions, liked)] = -np.inf
        return s


class SharedFacetsChannel(Channel):
    """Items one step from the liked items in the catalog's knowledge graph: they
    share facet values with them (a director, an actor, a writer, a genre). Each
    item is its TF-IDF vector over (field, value) pairs, so a shared director
    counts for more than a shared "Drama"; the score is the cosine to the liked
    items' weighted mean (older seeds weigh recency**age)."""

    name = "shared_facets"
    min_score = 0.0

    def __init__(self, index: CatalogIndex, fields: tuple[str, ...], recency: float = 1.0):
        from scipy import sparse

        super().__init__(index)
        self.recency = recency
        vocab: dict[tuple[str, str], int] = {}
        pairs = set()
        for p, meta in enumerate(index.metas):
            for name in fields:
                have = meta.get(name)
                for v in have if isinstance(have, list) else [have]:
                    if isinstance(v, str) and v.strip():
                        pairs.add((p, vocab.setdefault((name, v.lower()), len(vocab))))
        rows = np.array([p for p, _ in pairs], dtype=np.int64)
        cols = np.array([c for _, c in pairs], dtype=np.int64)
        m = sparse.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(index), max(1, len(vocab)))
        )
        df = np.asarray(m.sum(axis=0)).ravel()
        # a value only one item has links nothing
        idf = np.where(df > 1, np.log(len(index) / np.maximum(df, 1)), 0.0).astype(np.float32)
        m = sparse.csr_matrix(m.multiply(idf[None, :]))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        self._items = sparse.csr_matrix(sparse.diags(1.0 / np.maximum(norms, 1e-9)) @ m)

    def scores(self, query: Query) -> np.ndarray | None:
        liked = self.index.positions(query.seeds()[-HISTORY_TAIL:])
        if len(liked) == 0 or self._items.nnz == 0:
            return None
        weights = self.recency ** np.arange(len(liked) - 1, -1, -1, dtype=np.float64)
        profile = np.asarray(self._items[liked].T @ weights).ravel() / weights.sum()
        s = np.asarray(self._items @ profile, dtype=np.float32).ravel()
        s[liked] = -np.inf  # neighbours, not the seeds themselves
        return s


class ModelChannel(Channel):
    """Wraps a model scoring its own item space (cf.ItemKNN, cf.EASE, cf.Transitions,
    sequence.SASRec) and maps it onto the catalog: items unknown to the model score 0."""

    min_score = 0.0

    def __init__(
        self,
        index: CatalogIndex,
        model: ItemScorer,
        name: str,
        use_history_order: bool = False,
        recency: float = 1.0,
    ) -> None:
        super().__init__(index)
        self.model = model
        self.name = name
        self.use_history_order = use_history_order
        # < 1: the latest seed counts most (weight recency**age); 1: all alike
        self.recency = recency
        model_pos = {i: n for n, i in enumerate(model.item_ids)}
        # catalog position → model position (-1: unknown to the model), and back
        self._to_model = np.array([model_pos.get(i, -1) for i in index.ids], dtype=np.int64)
        self._known = self._to_model >= 0

    def seeds(self, query: Query) -> list[str]:
        if self.use_history_order:  # the sequence model reads history, then this chat
            return [*query.history[-HISTORY_TAIL:], *query.liked]
        return query.seeds()

    def scores(self, query: Query) -> np.ndarray | None:
        cat_pos = self.index.positions(self.seeds(query))
        model_pos = self._to_model[cat_pos] if len(cat_pos) else cat_pos
        model_pos = model_pos[model_pos >= 0]
        if len(model_pos) == 0:
            return None
        weights = None
        if self.recency < 1.0:
            weights = self.recency ** np.arange(len(model_pos) - 1, -1, -1, dtype=np.float64)
        raw = self.model.score(model_pos, weights)
        s = np.zeros(len(self.index), dtype=np.float32)
        s[self._known] = raw[self._to_model[self._known]]
        if self.use_history_order:
            # next-item logits → the model's probability relative to its top item,
            # exp(l - l_max): peaked where the model is sure, and > 0 for every
            # known item so unknown items (0) stay below them
            known = s[self._known]
            s[self._known] = np.maximum(np.exp(known - known.max()), 1e-12)
        s[cat_pos] = 0.0
        return s


class PopularChannel(Channel):
    """Cold start: the most popular items, those with the wanted facet values first."""

    name = "popular"

    def scores(self, query: Query) -> np.ndarray | None:
        s = self.index.popularity.copy()
        for name, values in query.facets.items():
            for v in values:
                s = s + self.index.has_value(name, v)
        return s


class AskedForChannel(Channel):
    """Items chosen in past decisions whose context asked for the same things: a
    cf.Transitions model whose anchors are "field=value" facet strings
    (`anchors="facets"`) or the request's content words ("w=scary",
    `anchors="words"`): what people were given when they said "superhero" or
    "something for the kids", which no catalog field spells out."""

    min_score = 0.0

    def __init__(
        self,
        index: CatalogIndex,
        model: Transitions,
        name: str = "asked_for",
        anchors: Literal["facets", "words"] = "facets",
    ) -> None:
        super().__init__(index)
        self.model, self.name = model, name
        self.kind = anchors
        model_pos = {i: n for n, i in enumerate(model.item_ids)}
        self._to_model = np.array([model_pos.get(i, -1) for i in index.ids], dtype=np.int64)

    def anchors(self, query: Query) -> list[str]:
        if self.kind == "words":
            return word_anchors(query.text)
        return facet_anchors(query.facets)

    def scores(self, query: Query) -> np.ndarray | None:
        anchors = [a for a in self.anchors(query) if a in self.model]
        if not anchors:
            return None
        # the mean over anchors: a long message is not more certain than a short one
        raw = self.model.score_anchors(anchors, [1.0 / len(anchors)] * len(anchors))
        return np.where(self._to_model >= 0, raw[self._to_model], 0.0).astype(np.float32)


class SimilarRequestsChannel(Channel):
    """Items chosen for past requests that read like this one (cf.RequestKNN over
    request embeddings)."""

    name = "similar_requests"
    min_score = 0.0

    def __init__(
        self,
        index: CatalogIndex,
        model: RequestKNN,
        name: str = "similar_requests",
        embed: Callable[[list[str]], np.ndarray] | None = None,
    ) -> None:
        super().__init__(index)
        self.model, self.name, self.embed = model, name, embed
        model_pos = {i: n for n, i in enumerate(model.item_ids)}
        self._to_model = np.array([model_pos.get(i, -1) for i in index.ids], dtype=np.int64)

    def scores(self, query: Query) -> np.ndarray | None:
        # the request vector is the dense channel's (Pipeline.prepare embeds it once)
        if query.vector is None and self.embed is not None and query.text.strip():
            query.vector = np.asarray(self.embed([query.text])[0], dtype=np.float32)
        if query.vector is None:
            return None
        raw = self.model.score_vector(query.vector)
        return np.where(self._to_model >= 0, raw[self._to_model], 0.0).astype(np.float32)


class PriorChannel(Channel):
    """A fixed score per item, whatever the query: e.g. how often each item was
    chosen in the training decisions. Recalls that prior's head."""

    min_score = 0.0

    def __init__(self, index: CatalogIndex, name: str, prior: np.ndarray) -> None:
        super().__init__(index)
        self.name = name
        self.prior = np.asarray(prior, dtype=np.float32)

    def scores(self, query: Query) -> np.ndarray | None:
        return self.prior


def merge(lists: list[list[Candidate]]) -> list[Candidate]:
    """One candidate per item; its channels dict records every channel that found it."""
    merged: dict[str, Candidate] = {}
    for candidates in lists:
        for c in candidates:
            have = merged.get(c.id)
            if have is None:
                merged[c.id] = Candidate(c.id, c.meta, c.similarity, dict(c.channels))
            else:
                have.channels.update(c.channels)
                have.similarity = max(have.similarity, c.similarity)
    return list(merged.values())


def dialogue_channels(models: DialogueModels, index: CatalogIndex) -> list[Channel]:
    """The recall channels of what past conversations teach (see models/dialogue.py)."""
    recency = models.config.recency
    prior = np.zeros(len(index), dtype=np.float32)
    known = [(index.pos[i], n) for n, i in enumerate(models.item_ids) if i in index.pos]
    if known:
        at, rows = map(np.array, zip(*known, strict=True))
        prior[at] = np.log1p(models.recommended[rows])
    cf = models.dialogue_cf
    return [
        ModelChannel(index, models.co_mention, "co_mention", recency=recency),
        *([ModelChannel(index, cf, "dialogue_cf", recency=recency)] if cf else []),
        PriorChannel(index, "recommended", prior),
        ModelChannel(index, models.picked_after, "picked_after", recency=recency),
        AskedForChannel(index, models.asked_for),
        AskedForChannel(index, models.said, "said", anchors="words"),
        SimilarRequestsChannel(index, models.similar_requests),
    ]
