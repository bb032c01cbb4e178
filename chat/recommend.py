"""Catalog search without a conversation, through the chat's own recommender.

A search is a first chat turn that holds only a request and its hard filters:
`request_state` puts them into a fresh dialogue state, `query_for` turns that
into the query (exactly as a turn does), the recommender recalls and
fuses (channels → features → fusion) and reranks, and each card's explanation
comes from the real fused contributions (chat/reply/explain.py). So a search and a
chat rank the same items the same way, with the same configured or learned
fusion weights.

Used by the HTTP API's /v1/search, the LangChain retriever (chat/frontends/retriever.py)
`recochat bench` and every chat turn (chat/session.py). The two halves are separate (`shortlist`, `ranked_cards`)
so the bench can time them apart; `search` runs both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat.events import ItemCard
from chat.reply.explain import card, tell_apart
from chat.state import DialogueState
from retrieval import Filter, ScoredItem

if TYPE_CHECKING:  # the recommender (scipy, the pipeline) loads with the app
    from retrieval import Query, Recommender, Shortlist

SHORTLIST_K = 50  # fused candidates the rerank picks from (TurnSettings.shortlist_k)
# a card closest to the request at least this close in meaning (the cosine of their
# embeddings) is a strong match: the request names what it wants (see holds_together)
STRONG_MATCH = 0.40
# how far a card of another kind of thing may then trail it
KIND_MARGIN = 0.10
# how far the best item that is the thing asked for may trail a strong match of
# another kind before the request's noun is taken as said loosely (said_loosely)
LOOSE_MARGIN = 0.15
# how far an item within the limits may trail the thing asked for (none of which is
# within them) and still be that thing by another name (named_otherwise)
SAME_MARGIN = 0.05


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
        budget=flt.ranges.get("price", (None, None))[1],  # a search's price filter is its budget
        excluded_ids=sorted(flt.exclude_ids),
    )


def query_for(recommender: Recommender, state: DialogueState, user_id: str | None = None) -> Query:
    """The dialogue state as a query: its hard constraints (and the seen, disliked,
    passed items) as the filter, its request as the dense text, liked and named
    items as the seeds of the item-to-item channels, avoided values as negatives,
    and the user's logged history."""
    prefs = state.preferences()
    return recommender.query(
        state.query_text(),
        flt=state.filter(),
        liked=list(dict.fromkeys(state.anchors + state.liked_ids)),
        disliked=list(state.disliked_ids),
        facets=prefs.liked,
        avoid={k: list(v) for k, v in state.avoid.items() if v},
        budget=state.ranges.get("price", [None, None])[1],  # the cap in force, stated or not
        user_id=user_id,
    )


def shortlist(
    recommender: Recommender,
    state: DialogueState,
    k: int,
    *,
    limit: int = SHORTLIST_K,
    key: str | None = None,
    user_id: str | None = None,
    timings: dict | None = None,
) -> Shortlist:
    """Recall and fuse for the state. Without a key (a search) no online learner
    takes part and nothing is saved; with one (a session id) they do, as in a
    chat turn."""
    query = query_for(recommender, state, user_id)
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
    index = recommender.index_of(recalled)
    cards = []
    for item in ranked.items:
        named = {}
        for signal, (other, role) in ranked.evidence.get(item.id, {}).items():
            meta = index.metas[index.pos[other]] if other in index.pos else {}
            named[signal] = (meta.get("title", other), role)
        cards.append(card(item, prefs, language=state.language, evidence=named))
    return Found(ranked.items, tell_apart(cards, [i.meta for i in ranked.items]))


def in_order(found: Found, order: list[str], k: int) -> Found:
    """The first k of the found items in the order asked ([field, "asc" | "desc"]);
    items without the field go last, and ties keep the ranking's order."""
    name, way = order
    have = [(i, c) for i, c in zip(found.items, found.cards, strict=True) if _number(i.meta, name)]
    rest = [
        (i, c) for i, c in zip(found.items, found.cards, strict=True) if not _number(i.meta, name)
    ]
    have.sort(key=lambda pair: float(pair[0].meta[name]), reverse=way == "desc")
    kept = (have + rest)[:k]
    return Found([i for i, _ in kept], [c for _, c in kept])


def holds_together(found: Found, kind_of: Callable[[dict], str | None]) -> Found:
    """The cards that answer the request, for a catalog of products. When the closest
    card is a strong match, the cards about as close in meaning to the request say
    which kinds of thing are wanted (`kind_of` a record), and a card of another kind
    far behind them is not shown. Sweaters end before the socks that share the word
    "crew" (0.33 against 0.61), a bath night's bath bombs and lotion before a jigsaw
    tagged "relaxing"; an open request ("a present for dad", "he cooks a bit") matches
    nothing strongly and keeps its variety."""
    if len(found.items) < 2 or any("semantic" not in i.features for i in found.items):
        return found
    close = [i.features["semantic"] for i in found.items]
    if max(close) < STRONG_MATCH:
        return found
    near = max(close) - KIND_MARGIN
    kind = [kind_of(i.meta) for i in found.items]
    wanted = {k for k, c in zip(kind, close, strict=True) if c >= near}
    kept = [n for n, c in enumerate(close) if c >= near or kind[n] in wanted]
    return Found([found.items[n] for n in kept], [found.cards[n] for n in kept])


def matches_strongly(recalled: Shortlist) -> bool:
    """Is some recalled item a strong match for the request in meaning? Then the request
    says what it wants even in words the catalog does not use ("wellies for my 3 year
    old": the rain boots, 0.49), and a question would only delay the answer."""
    return max((i.features.get("semantic", 0.0) for i in recalled.items), default=0.0) >= (
        STRONG_MATCH
    )


def said_loosely(recommender: Recommender, wide: DialogueState, head: dict[str, list[str]]) -> bool:
    """Is the thing asked for (`head`) a word the request uses for something else?
    "A little cooker to boil water on at the campsite" says "cooker", which the catalog
    sells as a slow cooker (0.46 close to the request in meaning), while its camping
    stove is a strong match (0.64): the whole request, not its noun, says what is
    wanted. `wide` is the request without the head as a limit; measured without the
    session's learners."""
    close = _closeness(recommender, wide)
    best = max((c for _, c in close), default=0.0)
    named = Filter(equals={f: list(v) for f, v in head.items() if v})
    said = max((c for i, c in close if named.matches(i.id, i.meta)), default=None)
    return best >= STRONG_MATCH and said is not None and said < best - LOOSE_MARGIN


def named_otherwise(recommender: Recommender, wide: DialogueState, thing: DialogueState) -> bool:
    """None of the thing asked for is within the request's other limits (`wide`): is an
    item within them about as close to the request as the thing itself (`thing`, the
    head alone), the thing by another name? A cast iron skillet for "a cast iron frying
    pan under 40", but no sun shelter for "a tent under 20"."""
    best = max((c for _, c in _closeness(recommender, wide)), default=0.0)
    if best < STRONG_MATCH:
        return False
    itself = max((c for _, c in _closeness(recommender, thing)), default=None)
    return itself is not None and best >= itself - SAME_MARGIN


def _closeness(recommender: Recommender, state: DialogueState) -> list[tuple[ScoredItem, float]]:
    """The state's recalled items and how close each is to its request in meaning."""
    recalled = shortlist(recommender, state, 1)
    return [(i, i.features.get("semantic", 0.0)) for i in recalled.items]


def _number(meta: dict, name: str) -> bool:
    value = meta.get(name)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def search(
    recommender: Recommender,
    state: DialogueState,
    k: int,
    *,
    limit: int = SHORTLIST_K,
    timings: dict | None = None,
) -> Found:
    """Both halves at once: the k best items for the state, with their cards."""
    recalled = shortlist(recommender, state, k, limit=limit, timings=timings)
    return ranked_cards(recommender, recalled, state, k, timings=timings)
