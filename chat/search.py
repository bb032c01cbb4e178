"""Catalog search without a conversation, through the chat's own recommender.

A search is a first chat turn that holds only a request and its hard filters:
`request_state` puts them into a fresh dialogue state, `Recommender.query_for`
turns that into the query (exactly as a turn does), the recommender recalls and
fuses (channels → features → fusion) and reranks, and each card's explanation
comes from the real fused contributions (chat/explain.py). So a search and a
chat rank the same items the same way, with the same configured or learned
fusion weights.

Used by the HTTP API's /v1/search, the LangChain retriever (chat/retriever.py)
and `recochat bench`. The two halves are separate (`shortlist`, `ranked_cards`)
so the bench can time them apart; `search` runs both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval import Filter, ScoredItem

from .events import ItemCard
from .explain import card
from .state import DialogueState

if TYPE_CHECKING:  # the recommender (scipy, the pipeline) loads with the app
    from .recommender import Recommender, Shortlist

RECALL_LIMIT = 50  # fused candidates the rerank picks from (the session's recall_k)


@dataclass
class Found:
    """Search results, best first: the ranked items and their cards."""

    items: list[ScoredItem]
    cards: list[ItemCard]


def request_state(text: str, flt: Filter | None = None) -> DialogueState:
    """A fresh dialogue state holding a request and its hard filters, as the state
    tracker would leave them after a first message that said just that."""
    flt = flt or Filter()
    return DialogueState(
        request=[text.strip()] if text.strip() else [],
        equals={name: list(values) for name, values in flt.equals.items()},
        excludes={name: list(values) for name, values in flt.excludes.items()},
        ranges={name: [low, high] for name, (low, high) in flt.ranges.items()},
        excluded_ids=sorted(flt.exclude_ids),
    )


def shortlist(
    recommender: Recommender,
    state: DialogueState,
    k: int,
    *,
    limit: int = RECALL_LIMIT,
    key: str | None = None,
    timings: dict | None = None,
) -> Shortlist:
    """Recall and fuse for the state, as a turn does. Without a key (a search) no
    online learner takes part and nothing is saved; with one (a session id) they
    do, as in a chat turn."""
    query = recommender.query_for(state)
    return recommender.recall(query, key=key, timings=timings, limit=max(limit, 5 * k))


def ranked_cards(
    recommender: Recommender,
    recalled: Shortlist,
    state: DialogueState,
    k: int,
    *,
    timings: dict | None = None,
) -> Found:
    """Rerank to the k to show, with cards whose reasons are the real contributions
    and name the items the recommender found behind them."""
    ranked = recommender.rank(recalled, k, avoid_terms=state.avoid_terms, timings=timings)
    prefs = state.preferences()
    index = recommender.index
    cards = []
    for item in ranked.items:
        named = {}
        for signal, (other, role) in ranked.evidence.get(item.id, {}).items():
            meta = index.metas[index.pos[other]] if other in index.pos else {}
            named[signal] = (meta.get("title", other), role)
        cards.append(card(item, prefs, language=state.language, evidence=named))
    return Found(ranked.items, cards)


def search(
    recommender: Recommender,
    state: DialogueState,
    k: int,
    *,
    limit: int = RECALL_LIMIT,
    timings: dict | None = None,
) -> Found:
    """Both halves at once: the k best items for the state, with their cards."""
    recalled = shortlist(recommender, state, k, limit=limit, timings=timings)
    return ranked_cards(recommender, recalled, state, k, timings=timings)
