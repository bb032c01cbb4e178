"""The dense stage answered by the item store's own k-NN index (what a Chroma
server does for a worker, here the embedded store): the query's filter goes to
Chroma as `where`, and the recommendations match the in-memory scan's."""

from __future__ import annotations

from retrieval import Filter, LearningConfig, Recommender
from retrieval.ranking.channels import DenseChannel, StoreDenseChannel


def build(app, from_store: bool) -> Recommender:
    config = LearningConfig(dense_from_store=from_store, online=False, seed=0)
    return Recommender.build(app.store, app.interactions, app.home.artifacts, config)


def test_the_store_answers_with_the_filter_and_agrees_with_the_scan(app):
    asked = []
    query_vector = app.store.query_vector

    def spy(vector, k, flt=None):
        asked.append((k, flt))
        return query_vector(vector, k, flt)

    app.store.query_vector = spy
    scan, store = build(app, False), build(app, True)
    assert isinstance(scan.pipeline.channels[0], DenseChannel)
    assert isinstance(store.pipeline.channels[0], StoreDenseChannel)
    for text, flt in [
        ("a quiet coffee grinder", Filter()),
        ("a tent for camping", Filter(equals={"category": ["outdoor"]})),
        ("something for the kitchen", Filter(ranges={"price": (None, 60.0)})),
    ]:
        asked.clear()
        got = [s.id for s in store.recommend(store.query(text, flt=flt), 3)]
        want = [s.id for s in scan.recommend(scan.query(text, flt=flt), 3)]
        assert got == want, text
        assert asked and asked[0][1] == flt  # one k-NN query to the store, filter and all
        metas = app.store.all_metas()
        assert got and all(flt.matches(i, metas[i]) for i in got)
