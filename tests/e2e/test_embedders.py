"""The packaged MiniLM on OpenVINO computes what sentence-transformers computes,
within the rounding of its int8 weights (that a turn does not import torch is
checked in test_pipeline.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.items.bert_openvino import latin_part
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
    assert type(ours).__name__ == "OpenVINOBert" and ours.latin_only
    reference = SentenceTransformerEmbedder("minilm", packaged_minilm_path())
    # MiniLM reads the Latin-script words of a text (the demo's rows in Chinese by their
    # English tags, bert_openvino.latin_part): the reference is given what it reads
    cosines = (ours.embed(texts) * reference.embed([latin_part(t) for t in texts])).sum(axis=1)
    # int8 weights: 0.9996 on average over ReDial plots, 0.9991 at worst
    assert cosines.min() > 0.998, texts[int(cosines.argmin())][:80]
    assert cosines.mean() > 0.999
