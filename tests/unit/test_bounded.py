"""A worker on a catalog it does not hold (retrieval/items/remote.py,
retrieval/ranking/bounded.py), here over the embedded store: each request ranks
only the candidates the store recalls, fetched through a bounded cache, and still
recommends what the in-memory recommender does, within the filter."""

from __future__ import annotations

import pytest

from retrieval import CatalogMetas, Filter, ItemCache, LearningConfig, Recommender

QUERIES = [
    ("a quiet coffee grinder", Filter()),
    ("a tent for camping", Filter(equals={"category": ["outdoor"]})),
    ("something for the kitchen", Filter(ranges={"price": (None, 60.0)})),
]


def recommenders(app, cache_size: int) -> tuple[Recommender, Recommender, ItemCache]:
    config = LearningConfig(online=False, seed=0)
    full = Recommender.build(app.store, app.interactions, app.home.artifacts, config)
    cache = ItemCache(app.store, size=cache_size)
    return full, Recommender.bounded(app.store, app.interactions, config, cache), cache


def test_the_bounded_recommender_agrees_with_the_in_memory_one(app):
    full, bounded, cache = recommenders(app, cache_size=4)
    for text, flt in QUERIES:
        got = [s.id for s in bounded.recommend(bounded.query(text, flt=flt), 3)]
        want = [s.id for s in full.recommend(full.query(text, flt=flt), 3)]
        assert got and got[0] == want[0], text
        assert all(flt.matches(i, app.store.get(i)) for i in got), text
        assert len(cache) <= 4  # the least recently used items were dropped


def test_liked_items_seed_the_bounded_recall_and_are_not_recommended_again(app):
    _, bounded, _ = recommenders(app, cache_size=100)
    first = bounded.recommend(bounded.query("a quiet coffee grinder"), 1)[0]
    again = bounded.recommend(bounded.query("", liked=[first.id]), 3)
    assert again and first.id not in [s.id for s in again]
    assert all("content" in s.channels or "shared_facets" in s.channels for s in again)


def test_catalog_metas_looks_up_every_item_but_iterates_a_fixed_sample(app):
    metas = CatalogMetas(ItemCache(app.store), sample=2)
    every = app.store.all_metas()
    outside = next(i for i in every if i not in metas.sample)
    assert len(metas) == 2 and list(metas) == list(metas.sample)
    assert metas[outside] == every[outside] and outside in metas
    assert "no-such-item" not in metas
    with pytest.raises(KeyError):
        metas["no-such-item"]


def test_the_store_lists_matching_ids_up_to_a_limit(app):
    flt = Filter(equals={"category": ["outdoor"]})
    every = app.store.all_metas()
    matching = {i for i, m in every.items() if flt.matches(i, m)}
    assert set(app.store.ids_matching(flt, 1000)) == matching
    assert len(app.store.ids_matching(flt, 1)) == 1
    skip = next(iter(matching))
    without = Filter(equals=flt.equals, exclude_ids={skip})
    assert set(app.store.ids_matching(without, 1000)) == matching - {skip}
