"""features.as_cold: a row shown as an item added after training must carry
exactly the interaction columns a never-seen item gets from the FeatureBuilder."""

from __future__ import annotations

import numpy as np

from retrieval.items.index import CatalogIndex
from retrieval.ranking.channels import Query
from retrieval.ranking.features import CONTENT_SIGNALS, FeatureBuilder, FeatureConfig, as_cold


def test_a_cold_row_has_every_interaction_column_of_a_never_seen_item():
    # item 0 was never seen: no interactions, no ratings, no collaborative score;
    # items 1-3 were, and the channels found them
    metas = [
        {"price": 30.0, "year": 2024},
        {"price": 20.0, "year": 2001, "rating": 4.5, "rating_count": 300},
        {"price": 60.0, "year": 1995, "rating": 3.0, "rating_count": 40},
        {"price": 45.0, "year": 2010, "rating": 4.0, "rating_count": 5},
    ]
    index = CatalogIndex(["new", "a", "b", "c"], metas)
    index.set_popularity(np.array([0.0, 50.0, 8.0, 2.0]))
    scores = {
        "dense": np.array([0.9, 0.5, 0.3, 0.2]),
        "content": np.array([0.7, 0.6, 0.1, 0.4]),
        "cf": np.array([0.0, 0.8, 0.4, 0.1]),
        "popular": np.array([0.0, 0.3, 1.0, 0.05]),
    }
    recalled = {"dense": {0, 1, 2, 3}, "content": {0, 1}, "cf": {1, 2}, "popular": {2, 3}}
    every_column = ("semantic", "content", "cf", "popular", "popularity", "rating", "novelty")
    builder = FeatureBuilder(index, FeatureConfig(rank_features=every_column))
    names = builder.names(list(scores))
    cols = builder.build(Query(budget=50.0), np.arange(4), scores, recalled)
    matrix = np.column_stack([cols[n] for n in names])

    cold = as_cold(matrix, names, np.array([False, True, True, True]))

    interaction = [
        c
        for c, n in enumerate(names)
        if (n[3:] if n.startswith(("rr_", "in_")) else n) not in CONTENT_SIGNALS
    ]
    assert {"novelty", "rr_novelty", "rr_cf", "in_popular", "catalog_popularity"} <= {
        names[c] for c in interaction
    }
    for c in interaction:  # each seen row now looks like the never-seen item
        assert (cold[1:, c] == matrix[0, c]).all(), names[c]
        assert (matrix[1:, c] != matrix[0, c]).any(), names[c]  # and did not before
    content = [c for c in range(len(names)) if c not in interaction]
    assert content and (cold[:, content] == matrix[:, content]).all()
    assert (cold[0] == matrix[0]).all()  # rows not asked for are untouched
