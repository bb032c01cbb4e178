"""What a recommender learns from past conversations: decisions (the context of a
recommendation turn and the items the recommender then picked, as in ReDial)
become channels the pipeline recalls and scores with.

    co_mention        item-kNN over dialogues as sessions: items named together
    dialogue_cf       EASE over the same sessions, on the items they named
    picked_after      cf.Transitions: what was picked after an item was named
    asked_for         cf.Transitions: what was picked when a facet value was asked for
    said              cf.Transitions: what was picked when a word was said
    similar_requests  cf.RequestKNN: the picks for the most similar past requests
    recommended       how often each item was picked (a prior)
    mentions          how often each item came up at all (dialogues it was named
                      or picked in): a popularity prior

`recochat train --dialogues FILE` fits them (chat/learn/dialogue_training.py) and
`recochat eval redial` measures them, cross-validated by dialogue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from retrieval.items.index import CatalogIndex
from retrieval.models.array_model import ArrayFormatError, require_arrays, require_items
from retrieval.models.cf import (
    EASE,
    MAX_EASE_ITEMS,
    InteractionMatrix,
    ItemKNN,
    RequestKNN,
    Transitions,
)

DIALOGUE_MODELS_VERSION = 2
PARTS = ("co_mention", "picked_after", "asked_for", "said", "similar_requests")


@dataclass
class PastPick:
    """One recommendation turn of a past conversation."""

    dialog: str
    text: str  # the context so far: what was asked for
    mentioned: list[str]  # item ids named in the context, in order
    chosen: list[str]  # item ids the recommender picked
    facets: dict[str, list[str]]  # facet values named in the context
    vector: np.ndarray | None = None  # the embedding of `text`


@dataclass
class DialogueConfig:
    co_mention_neighbours: int = 200
    co_mention_shrink: float = 2.0
    ease_l2: float = 200.0
    shrink: float = 5.0  # of the picked-after / asked-for / said frequencies
    recency: float = 1.0  # weight of older mentions in the item-to-item channels


class DialogueModels:
    """Every model learnt from past conversations, saved and loaded as one artifact."""

    kind: ClassVar[str] = "dialogue_models"

    def __init__(self, item_ids: list[str], config: DialogueConfig | None = None) -> None:
        self.item_ids = list(item_ids)
        self.config = config or DialogueConfig()
        c = self.config
        self.co_mention = ItemKNN(c.co_mention_neighbours, c.co_mention_shrink)
        self.dialogue_cf: EASE | None = None  # over the named items only (a few thousand)
        self.picked_after = Transitions(c.shrink)
        self.asked_for = Transitions(c.shrink)
        self.said = Transitions(c.shrink)
        self.similar_requests = RequestKNN()
        self.recommended = np.zeros(len(self.item_ids))
        self.mentions = np.zeros(len(self.item_ids))
        self.decisions = 0

    def fit(self, decisions: list[PastPick]) -> DialogueModels:
        pos = {i: n for n, i in enumerate(self.item_ids)}
        sessions: dict[str, set[str]] = {}
        picks, asked, said = [], [], []
        for d in decisions:
            chosen = [i for i in d.chosen if i in pos]
            sessions.setdefault(d.dialog, set()).update([*d.mentioned, *chosen])
            self.recommended[[pos[i] for i in chosen]] += 1
            picks.append((d.mentioned, chosen))
            asked.append((facet_anchors(d.facets), chosen))
            said.append((word_anchors(d.text), chosen))
        users = [s for s, items in sessions.items() for _ in items]
        items = [i for s in sessions.values() for i in s]
        data = InteractionMatrix.build(users, items, item_ids=self.item_ids)
        self.mentions = data.counts
        self.co_mention.fit(data)
        named = [self.item_ids[p] for p in np.flatnonzero(self.mentions)]
        if 0 < len(named) <= MAX_EASE_ITEMS:
            sessions_on_named = InteractionMatrix.build(users, items, item_ids=named)
            self.dialogue_cf = EASE(self.config.ease_l2).fit(sessions_on_named)
        self.picked_after.fit(picks, self.item_ids)
        self.asked_for.fit(asked, self.item_ids)
        self.said.fit(said, self.item_ids)
        requests = [(d.vector, d.chosen) for d in decisions if d.vector is not None]
        self.similar_requests.fit(
            np.stack([v for v, _ in requests]) if requests else np.zeros((0, 1)),
            [[pos[i] for i in chosen if i in pos] for _, chosen in requests],
            self.item_ids,
        )
        self.decisions = len(decisions)
        return self

    def popularity_on(self, index: CatalogIndex) -> np.ndarray:
        """The mention counts over the catalog's positions (0 for unknown items)."""
        pos = {i: n for n, i in enumerate(self.item_ids)}
        return np.array([self.mentions[pos[i]] if i in pos else 0.0 for i in index.ids])

    # -- artifacts ---------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        c = self.config
        arrays = {
            "version": np.array([DIALOGUE_MODELS_VERSION]),
            "config": np.array(
                [c.co_mention_neighbours, c.co_mention_shrink, c.ease_l2, c.shrink, c.recency]
            ),
            "recommended": self.recommended,
            "mentions": self.mentions,
            "decisions": np.array([self.decisions]),
        }
        for part in PARTS:
            for key, value in getattr(self, part).to_arrays().items():
                arrays[f"{part}__{key}"] = value
        if self.dialogue_cf is not None:
            arrays["dialogue_cf__item_ids"] = np.array(self.dialogue_cf.item_ids, dtype=str)
            for key, value in self.dialogue_cf.to_arrays().items():
                arrays[f"dialogue_cf__{key}"] = value
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], item_ids: list[str]) -> DialogueModels:
        require_arrays(
            arrays, cls.kind, ("version", "config", "recommended", "mentions", "decisions")
        )
        if int(arrays["version"][0]) != DIALOGUE_MODELS_VERSION:
            raise ArrayFormatError(
                f"The dialogue models are version {int(arrays['version'][0])}, this recochat "
                f"reads version {DIALOGUE_MODELS_VERSION}; rerun 'recochat train --dialogues FILE'."
            )
        require_items(cls.kind, len(arrays["recommended"]), item_ids)
        n, s1, l2, s2, r = arrays["config"].tolist()
        models = cls(item_ids, DialogueConfig(int(n), s1, l2, s2, r))
        models.recommended = arrays["recommended"]
        models.mentions = arrays["mentions"]
        models.decisions = int(arrays["decisions"][0])
        for part in PARTS:
            prefix = f"{part}__"
            own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            setattr(models, part, type(getattr(models, part)).from_arrays(own, item_ids))
        if "dialogue_cf__item_ids" in arrays:
            own = {
                k[len("dialogue_cf__") :]: v
                for k, v in arrays.items()
                if k.startswith("dialogue_cf__")
            }
            models.dialogue_cf = EASE.from_arrays(own, own["item_ids"].tolist())
        return models


def facet_anchors(facets: dict[str, list[str]]) -> list[str]:
    """The facet values a request named, as the asked-for model's anchors."""
    return [f"{name}={v.lower()}" for name, values in facets.items() for v in values]


def word_anchors(text: str) -> list[str]:
    """The content words of a request, as the said-words model's anchors."""
    words = (w.strip("'’-") for w in _WORDS.findall(text.lower()))
    return list(dict.fromkeys(f"w={w}" for w in words if len(w) > 2 and w not in _STOP))


_WORDS = re.compile(r"[a-z][a-z'’\-]+")
_STOP = frozenset(
    """the and for you are was but not have has had with that this what any some can
    could would should will just like love liked really very much more most also too
    movie movies film films watch watched watching seen see saw one ones thing things
    good great nice well yes yeah okay hello hey thanks thank there their they them
    then than been being into out about all how who why when where which your yours
    maybe sure lot lots kind sort type types something anything recommend suggest
    think know heard did does don't didn't i'm it's that's i've you've haven't
    from bye have time its our get got looking look want wanted""".split()
)
