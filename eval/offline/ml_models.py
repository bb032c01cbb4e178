"""Collaborative and sequence models trained on MovieLens ratings mapped to the
catalog, cached as versioned artifacts keyed by the ratings file, the catalog
ids and the model settings (shared by the ReDial and MovieLens evaluations)."""

from __future__ import annotations

import numpy as np

from eval.offline.data import Ratings, cached_model, digest, sequences
from retrieval import EASE, CatalogIndex, InteractionMatrix, ItemKNN, SASRec, SASRecConfig

LIKE_THRESHOLD = 0.0  # every rating is an interaction: a rated film was watched


def interaction_matrix(ratings: Ratings, index: CatalogIndex) -> InteractionMatrix:
    keep = [n for n, v in enumerate(ratings.values) if v >= LIKE_THRESHOLD]
    return InteractionMatrix.build(
        [ratings.users[n] for n in keep], [ratings.items[n] for n in keep], item_ids=index.ids
    )


def train_models(
    ratings: Ratings,
    index: CatalogIndex,
    key: str,
    *,
    sasrec: SASRecConfig | None = None,
    progress=None,
    which: tuple[str, ...] = ("item_knn", "ease", "sasrec"),
) -> dict[str, object]:
    """key: a digest of the ratings used (e.g. the file hash plus a split name)."""
    data = interaction_matrix(ratings, index)
    ids = index.ids
    out: dict[str, object] = {}
    if "item_knn" in which:
        params = {"neighbours": 100, "shrink": 10.0}
        out["item_knn"] = cached_model(
            "item_knn",
            digest(key, ids, params),
            lambda: (ItemKNN(**params).fit(data).to_arrays(), ids, params),
            lambda a: ItemKNN.from_arrays(a.arrays, a.item_ids),
        )
    if "ease" in which:
        params = {"l2": 200.0}
        out["ease"] = cached_model(
            "ease",
            digest(key, ids, params),
            lambda: (EASE(**params).fit(data).to_arrays(), ids, params),
            lambda a: EASE.from_arrays(a.arrays, a.item_ids),
        )
    if "sasrec" in which:
        cfg = sasrec or SASRecConfig()

        def build():
            seqs = list(sequences(ratings, index.pos).values())
            model = SASRec(cfg).fit(seqs, ids, progress=progress)
            return model.to_arrays(), ids, {"config": cfg.__dict__}

        out["sasrec"] = cached_model(
            "sasrec",
            digest(key, ids, cfg.__dict__),
            build,
            lambda a: SASRec.from_arrays(a.arrays, a.item_ids),
        )
    return out


def popularity_counts(ratings: Ratings, index: CatalogIndex) -> np.ndarray:
    return np.bincount([index.pos[i] for i in ratings.items], minlength=len(index)).astype(
        np.float64
    )
