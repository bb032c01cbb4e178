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


def _fusions() -> dict[str, Fusion]:
    trees = learn_tree_fusion(_examples(), NAMES, rounds=30, params={"min_data_in_leaf": 5})
    return {"linear": FusionModel.default(), "trees": trees}


FUSIONS = _fusions()


def _columns(n: int = 30, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.random(n) for name in NAMES}


@pytest.mark.parametrize("name", FUSIONS)
def test_a_fusion_explains_its_scores_exactly(name):
    fusion = FUSIONS[name]
    scores, parts = fusion.score(_columns())
    assert scores.shape == (30,) and set(parts) <= set(NAMES)
    assert np.allclose(scores, np.sum(list(parts.values()), axis=0), atol=1e-6)


@pytest.mark.parametrize("name", FUSIONS)
def test_a_fusion_ranks_the_same_with_contributions_only_for_the_best(name):
    fusion = FUSIONS[name]
    cols = _columns()
    full, _ = fusion.score(cols)
    limited, parts = fusion.score(cols, limit=5)
    assert list(np.argsort(-full)[:5]) == list(np.argsort(-limited)[:5])
    best = set(np.argsort(-limited)[:5])
    for values in parts.values():  # "why" only where it is shown
        assert all(values[i] == 0 for i in range(30) if i not in best) or name == "linear"


@pytest.mark.parametrize("name", FUSIONS)
def test_scaling_a_signal_moves_only_its_share(name):
    fusion = FUSIONS[name]
    cols = _columns()
    _, plain = fusion.score(cols)
    _, scaled = fusion.score(cols, scale={"semantic": 2.0})
    assert np.allclose(scaled["semantic"], 2 * plain["semantic"], atol=1e-6)
    for other in set(plain) - {"semantic"}:
        assert np.allclose(scaled[other], plain[other], atol=1e-6)


def test_learned_trees_put_the_chosen_rows_first():
    trees = FUSIONS["trees"]
    hits = 0
    for example in _examples(seed=5)[:40]:
        scores, _ = trees.score({n: example.features[:, i] for i, n in enumerate(NAMES)})
        hits += int(np.argmax(scores) in example.chosen)
    assert hits >= 20  # chance is 1 in 12


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
