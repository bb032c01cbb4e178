"""The packaged MiniLM on OpenVINO computes what sentence-transformers computes,
within the rounding of its int8 weights (that a turn does not import torch is
checked in test_pipeline.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.items.embedders import (
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
    # int8 weights: 0.9996 on average over ReDial plots, 0.9991 at worst
    assert cosines.min() > 0.998, texts[int(cosines.argmin())][:80]
    assert cosines.mean() > 0.999
