"""Catalog search without a conversation: dense recall with hard filters, then
the ranker, then cards that carry the ranking's "why". The HTTP API's /v1/search
and the LangChain retriever (chat/retriever.py) both use it."""

from __future__ import annotations

from retrieval import Filter, ItemStore, Preferences, Ranker

from .events import ItemCard
from .explain import card


def search_items(
    store: ItemStore,
    ranker: Ranker,
    query: str,
    k: int,
    flt: Filter | None = None,
    prefs: Preferences | None = None,
    recall_k: int = 50,
) -> list[ItemCard]:
    prefs = prefs or Preferences()
    candidates = store.query(query, max(recall_k, k), flt)
    return [card(item, prefs) for item in ranker.rank(candidates, prefs, k=k)]
