"""One contract per swappable part, checked over every implementation: fusion
models (linear weights, LightGBM trees) and embedders (the hash fake here; the
packaged MiniLM and multilingual USE in the e2e variant below)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval import Example, Fusion, FusionModel, HashEmbedder, learn_tree_fusion, make_embedder

NAMES = ["semantic", "rating", "popular"]


def _examples(seed: int = 0) -> list[Example]:
    """Lists where the chosen row is the one with the highest first feature."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(80):
        features = rng.random((12, len(NAMES)))
        out.append(Example(features, [int(np.argmax(features[:, 0]))]))
    return out


@pytest.fixture(scope="module")
def trees() -> Fusion:
    return learn_tree_fusion(_examples(), NAMES, rounds=30, params={"min_data_in_leaf": 5})


@pytest.fixture(scope="module", params=["linear", "trees"])
def fusion(request: pytest.FixtureRequest) -> Fusion:
    """Every fusion: the configured linear weights and LightGBM trees."""
    if request.param == "linear":
        return FusionModel.default()
    return request.getfixturevalue("trees")


def _columns(n: int = 30, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.random(n) for name in NAMES}


def test_a_fusion_explains_its_scores_exactly(fusion):
    scores, parts = fusion.score(_columns())
    assert scores.shape == (30,) and parts and set(parts) <= set(NAMES)
    assert np.ptp(scores) > 0  # the scores tell the items apart
    assert np.allclose(scores, np.sum(list(parts.values()), axis=0), atol=1e-6)


def test_a_fusion_scores_and_explains_the_best_alike_with_a_limit(fusion):
    """`limit` may spare the "why" of rows nobody sees, never the scores or the
    shown rows' explanations."""
    cols = _columns()
    full, whole = fusion.score(cols)
    limited, parts = fusion.score(cols, limit=5)
    assert np.allclose(limited, full, atol=1e-6)
    best = np.argsort(-full)[:5]
    assert set(parts) == set(whole)
    for name in whole:
        assert np.allclose(parts[name][best], whole[name][best], atol=1e-6), name
    assert np.allclose(np.sum(list(parts.values()), axis=0)[best], limited[best], atol=1e-6)


def test_the_trees_explain_only_the_rows_a_limit_keeps(trees):
    """TreeSHAP costs ~100 predictions a row: with a limit the other rows get none."""
    scores, parts = trees.score(_columns(), limit=5)
    rest = np.argsort(-scores)[5:]
    assert all(not values[rest].any() for values in parts.values())


def test_scaling_a_signal_moves_only_its_share(fusion):
    cols = _columns()
    _, plain = fusion.score(cols)
    _, scaled = fusion.score(cols, scale={"semantic": 2.0})
    assert np.any(plain["semantic"] != 0)  # so doubling it is seen
    assert np.allclose(scaled["semantic"], 2 * plain["semantic"], atol=1e-6)
    for other in set(plain) - {"semantic"}:
        assert np.allclose(scaled[other], plain[other], atol=1e-6)


def test_learned_trees_put_the_chosen_rows_first(trees):
    hits = 0
    for example in _examples(seed=5)[:40]:
        scores, _ = trees.score({n: example.features[:, i] for i, n in enumerate(NAMES)})
        hits += int(np.argmax(scores) in example.chosen)
    assert hits >= 28  # chance is 1 in 12 (about 3 of 40); the trees find 33


def _embedder_contract(embedder) -> None:
    texts = ["a waterproof tent", "a waterproof tent", "a kitchen knife", ""]
    vectors = embedder.embed(texts)
    assert vectors.shape == (4, embedder.dim) and vectors.dtype == np.float32
    norms = np.linalg.norm(vectors[:3], axis=1)
    assert np.allclose(norms, 1.0, atol=1e-3)  # unit length: a dot product is a cosine
    assert np.allclose(vectors[0], vectors[1])  # deterministic
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embedder.embed([]).shape[0] == 0


def test_the_hash_embedder_keeps_the_embedder_contract():
    _embedder_contract(HashEmbedder())


@pytest.mark.e2e
@pytest.mark.parametrize("spec", ["minilm", "use-multilingual"])
def test_the_packaged_embedders_keep_the_embedder_contract(spec):
    _embedder_contract(make_embedder(spec))
