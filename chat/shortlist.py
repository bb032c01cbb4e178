"""The shortlist of one turn: recall and rank, with what the conversation taught us.

Recall merges two channels, each under the state's hard filter (so seen and
disliked items are never candidates): dense k-NN on the request text, and
item-to-item neighbours of the items the user liked or named as examples. The
base `Ranker` scores its named signals; three conversation signals are added on
top, each kept as a contribution so the card can say why:

  similar_liked   cosine similarity to the closest liked / example item (+)
  disliked_like   similarity to a disliked item, above a floor (−)
  avoided         soft negatives: an avoided facet value or word in the item (−)

Likes therefore pull similar items up on the very next turn, and a disliked
item's look-alikes sink, without waiting for any offline learner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retrieval import Candidate, ItemStore, Ranker, ScoredItem

from .state import DialogueState


@dataclass
class ConversationWeights:
    similar_liked: float = 0.35
    disliked_like: float = 0.3
    disliked_floor: float = 0.5  # only clear look-alikes of a disliked item are pushed down
    avoided: float = 0.2


@dataclass
class Recalled:
    candidates: list[Candidate]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)  # channel → candidates it found


@dataclass
class Ranked:
    items: list[ScoredItem]
    similar_to: dict[str, str] = field(default_factory=dict)  # item id → liked item's title


class Shortlister:
    def __init__(
        self,
        store: ItemStore,
        ranker: Ranker,
        *,
        recall_k: int = 50,
        recommend_k: int = 3,
        weights: ConversationWeights | None = None,
    ):
        self.store = store
        self.ranker = ranker
        self.recall_k = recall_k
        self.recommend_k = recommend_k
        self.weights = weights or ConversationWeights()

    def _vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self.store.collection.get(ids=list(ids), include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(got["ids"], got["embeddings"], strict=True)
        }

    @staticmethod
    def anchors(state: DialogueState) -> list[str]:
        return list(dict.fromkeys(state.anchors + state.liked_ids))

    def recall(self, state: DialogueState) -> Recalled:
        flt = state.filter()
        query = state.query_text() or "popular well rated"
        qv = self.store.embedder.embed([query])[0]
        dense = self.store.query_vector(qv, self.recall_k, flt)
        found = {c.id: c for c in dense}
        channels = {"dense": len(dense)}
        anchors = self.anchors(state)
        vectors = self._vectors(anchors + state.disliked_ids)
        liked = [vectors[a] for a in anchors if a in vectors]
        if liked:
            centroid = np.mean(liked, axis=0)
            near = self.store.query_vector(centroid, self.recall_k, flt)
            channels["similar"] = len(near)
            for c in near:
                if c.id in found:
                    found[c.id].channels["similar"] = c.similarity
                else:
                    c.channels = {"similar": c.similarity}
                    found[c.id] = c
        candidates = list(found.values())
        vectors.update(self._vectors([c.id for c in candidates]))
        for c in candidates:  # neighbours of liked items: their similarity to the request
            if "dense" not in c.channels and c.id in vectors:
                c.similarity = float(np.dot(vectors[c.id], qv))
        return Recalled(candidates, vectors, channels)

    def rank(self, state: DialogueState, recalled: Recalled, k: int | None = None) -> Ranked:
        k = k or self.recommend_k
        prefs = state.preferences()
        scored = self.ranker.rank(recalled.candidates, prefs, k=len(recalled.candidates))
        w = self.weights
        anchors = [a for a in self.anchors(state) if a in recalled.vectors]
        disliked = [d for d in state.disliked_ids if d in recalled.vectors]
        similar_to: dict[str, str] = {}
        terms = [
            re.compile(rf"(?<!not-)(?<!non-)(?<!no )\b{re.escape(t)}", re.I)
            for t in state.avoid_terms
        ]
        for item in scored:
            v = recalled.vectors.get(item.id)
            extra: dict[str, float] = {}
            if v is not None and anchors:
                sims = [(float(np.dot(v, recalled.vectors[a])), a) for a in anchors]
                sim, best = max(sims)
                extra["similar_liked"] = round(w.similar_liked * max(0.0, sim), 6)
                similar_to[item.id] = (
                    self.store.get(best).get("title", best) if self.store.get(best) else best
                )
            if v is not None and disliked:
                sim = max(float(np.dot(v, recalled.vectors[d])) for d in disliked)
                if sim > w.disliked_floor:
                    extra["disliked_like"] = -round(
                        w.disliked_like * (sim - w.disliked_floor) / (1 - w.disliked_floor), 6
                    )
            hits = _avoided(item.meta, state.avoid) + sum(
                1 for t in terms if t.search(_text(item.meta))
            )
            if hits:
                extra["avoided"] = -round(w.avoided * hits, 6)
            if extra:
                item.contributions.update(extra)
                item.score = sum(item.contributions.values())
        scored.sort(key=lambda s: (-s.score, s.id))
        top = scored[:k]
        return Ranked(top, {i.id: similar_to[i.id] for i in top if i.id in similar_to})


def _avoided(meta: dict[str, Any], avoid: dict[str, list[str]]) -> int:
    hits = 0
    for facet, values in avoid.items():
        have = meta.get(facet)
        have = have if isinstance(have, list) else [have]
        hits += sum(1 for v in values if v in have)
    return hits


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
