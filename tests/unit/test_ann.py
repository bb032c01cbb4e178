"""The compressed dense stage (retrieval/items/ann.py) against the exact scan: the same
filters, exact scores wherever features read them, and high recall."""

from __future__ import annotations

import numpy as np
from helpers.learn import demo_index

from retrieval import Filter
from retrieval.items.ann import CompressedVectors, CompressionConfig, recall_at_k
from retrieval.items.index import top_k
from retrieval.ranking.channels import ContentChannel, DenseChannel, PopularChannel, Query
from retrieval.ranking.pipeline import Pipeline, PipelineConfig


def pipelines(index, dims=16, exact_top=40):
    def build(config):
        embed = lambda texts: np.stack([index.vectors[0]] * len(texts))  # noqa: E731
        channels = [DenseChannel(index, embed), ContentChannel(index), PopularChannel(index)]
        return Pipeline(index, channels, config=config)

    compression = CompressionConfig(dims=dims, exact_top=exact_top)
    return (
        build(PipelineConfig(compress_min_items=1, compression=compression, rerank=False)),
        build(PipelineConfig(compress_min_items=None, rerank=False)),
    )


def test_small_catalogs_keep_the_exact_scan():
    index = demo_index()
    assert Pipeline(index, [PopularChannel(index)]).compressed is None


def test_the_best_rows_are_rescored_exactly():
    index = demo_index()
    cv = CompressedVectors(index.vectors, CompressionConfig(dims=24, exact_top=30))
    q = index.vectors[3]
    approx, exact = cv.scores(q[:, None])[:, 0], index.vectors @ q
    picked = top_k(approx, 10)
    assert np.allclose(approx[picked], exact[picked], atol=1e-5)
    assert recall_at_k(top_k(exact, 10), picked) >= 0.8


def test_the_pipeline_scores_the_pool_exactly_and_honours_filters():
    index = demo_index()
    fast, exact = pipelines(index)
    category = index.metas[0]["category"]

    def query():
        return Query(
            text="x",
            liked=[index.ids[5]],
            disliked=[index.ids[7]],
            filter=Filter(equals={"category": [category]}, exclude_ids={index.ids[1]}),
        )

    got, want = fast.recommend(query(), 10), exact.recommend(query(), 10)
    assert got and all(i.meta["category"] == category and i.id != index.ids[1] for i in got)
    for item in got:  # features see exact dense scores, whatever the scan was
        cosine = float(index.vectors[index.pos[item.id]] @ index.vectors[0])
        assert abs(item.features["semantic"] - max(0.0, cosine)) < 1e-5
    assert recall_at_k(np.array([i.id for i in want]), np.array([i.id for i in got])) >= 0.8
