"""Fixtures for the learning tests: the demo catalog as a CatalogIndex with
hash-embedder vectors, and synthetic interactions with a known structure
(each user sticks to one category and walks its items in a fixed order), so a
channel that learns anything puts same-category items first."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

import retrieval
from retrieval import load_catalog
from retrieval.items.embedders import HashEmbedder
from retrieval.items.index import CatalogIndex

USERS_PER_CATEGORY = 12
EVENTS_PER_USER = 10


@lru_cache(maxsize=1)
def demo_items():
    return load_catalog(retrieval.demo_catalog_path()).items


def demo_index() -> CatalogIndex:
    items = demo_items()
    # item vectors with a known structure: a per-category direction plus the item's
    # own text, so "close in content" means "same category" more often than not
    text = HashEmbedder().embed([it.text for it in items])
    rng = np.random.default_rng(7)
    centre = {
        c: rng.normal(size=text.shape[1]) for c in sorted({it.meta["category"] for it in items})
    }
    vectors = np.stack([centre[it.meta["category"]] for it in items]) * 0.08 + text
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return CatalogIndex([it.id for it in items], [dict(it.meta) for it in items], vectors)


def by_category(index: CatalogIndex) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item_id, meta in zip(index.ids, index.metas, strict=True):
        out.setdefault(meta["category"], []).append(item_id)
    return {c: sorted(ids) for c, ids in sorted(out.items())}


def synthetic_events(index: CatalogIndex, seed: int = 0):
    """(users, items, times): users walk a contiguous run of their category's items."""
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for c, ids in by_category(index).items():
        for u in range(USERS_PER_CATEGORY):
            start = int(rng.integers(0, len(ids) - EVENTS_PER_USER))
            for t, item in enumerate(ids[start : start + EVENTS_PER_USER]):
                users.append(f"{c}-{u}")
                items.append(item)
                times.append(t)
    return users, items, times


def category_share(index: CatalogIndex, ids: list[str], category: str) -> float:
    if not ids:
        return 0.0
    return sum(index.metas[index.pos[i]]["category"] == category for i in ids) / len(ids)


def open_recommender():
    """The real App's recommender over the data directory RECOCHAT_HOME names."""
    from chat.app import App
    from chat.config import load_settings

    app = App.open(load_settings())
    return app, app.recommender


def assert_corrupt_artifact_is_skipped(arrays, channel: str, artifact: str) -> None:
    """Truncate an artifact's arrays file: the recommender must start without that
    channel, warn naming the artifact, and still recommend. The file is restored."""
    import warnings

    good = arrays.read_bytes()
    arrays.write_bytes(good[:100])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            app, rec = open_recommender()
        try:
            assert channel not in rec.channel_names
            assert any(artifact in str(w.message) for w in caught)
            assert rec.recommend(rec.query("a funny movie"), 5)  # still recommends
        finally:
            app.close()
    finally:
        arrays.write_bytes(good)
