"""One contract for every recall channel and for the fused pipeline: at most k
results, filters honoured, deterministic, ids kept, and a quality floor on a
fixture whose right answer is known (same-category items for a user who only
ever touched one category)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.learn import by_category, category_share, demo_index, synthetic_events

from retrieval import Filter
from retrieval.items.embedders import HashEmbedder
from retrieval.models.cf import EASE, InteractionMatrix, ItemKNN, RequestKNN, Transitions
from retrieval.models.sequence import SASRec, SASRecConfig
from retrieval.ranking.channels import (
    AskedForChannel,
    ContentChannel,
    DenseChannel,
    ModelChannel,
    PopularChannel,
    PriorChannel,
    Query,
    SharedFacetsChannel,
    SimilarRequestsChannel,
    merge,
)
from retrieval.ranking.pipeline import Pipeline


@pytest.fixture(scope="module")
def index():
    return demo_index()


@pytest.fixture(scope="module")
def channels(index):
    users, items, times = synthetic_events(index)
    data = InteractionMatrix.build(users, items, item_ids=index.ids)
    seqs: dict[str, list[int]] = {}
    for u, i in zip(users, items, strict=True):
        seqs.setdefault(u, []).append(index.pos[i])
    sasrec = SASRec(
        SASRecConfig(dim=32, layers=1, epochs=40, max_len=20, lr=3e-3, batch_size=32)
    ).fit(list(seqs.values()), index.ids)
    # decisions: every step of a user's walk is picked after the steps before it;
    # the request ("<category> things") and the category facet ask for the last
    walks: dict[str, list[str]] = {}
    for u, i in zip(users, items, strict=True):
        walks.setdefault(u, []).append(i)
    category = {i: m["category"] for i, m in zip(index.ids, index.metas, strict=True)}
    picks = [(w[:n], [w[n]]) for w in walks.values() for n in range(1, len(w))]
    asked = [([f"category={category[w[-1]]}"], w[-1:]) for w in walks.values()]
    embed = HashEmbedder().embed
    requests = embed([f"{category[w[-1]]} things" for w in walks.values()])
    chosen = [[index.pos[w[-1]]] for w in walks.values()]
    return {
        "dense": DenseChannel(index, embed),
        "content": ContentChannel(index),
        "shared_facets": SharedFacetsChannel(index, ("category", "brand")),
        "item_knn": ModelChannel(index, ItemKNN(50).fit(data), "co_interaction"),
        "ease": ModelChannel(index, EASE(50.0).fit(data), "cf"),
        "sasrec": ModelChannel(index, sasrec, "sequence", use_history_order=True),
        "popular": PopularChannel(index),
        "picked_after": ModelChannel(
            index, Transitions().fit(picks, index.ids), "picked_after", recency=0.7
        ),
        "asked_for": AskedForChannel(index, Transitions().fit(asked, index.ids)),
        "similar": SimilarRequestsChannel(
            index, RequestKNN(neighbours=20).fit(requests, chosen, index.ids), embed=embed
        ),
        "prior": PriorChannel(
            index,
            "recommended",
            np.bincount([index.pos[w[-1]] for w in walks.values()], minlength=len(index)),
        ),
    }


ALL = [
    "dense",
    "content",
    "shared_facets",
    "item_knn",
    "ease",
    "sasrec",
    "popular",
    "picked_after",
    "asked_for",
    "similar",
    "prior",
]
# learn from liked items
BEHAVIOUR = ["content", "shared_facets", "item_knn", "ease", "sasrec", "picked_after"]


def query_for(index, category: str, flt: Filter | None = None) -> Query:
    ids = by_category(index)[category]
    return Query(
        text=f"{category} things",
        liked=ids[3:6],
        history=ids[:3],
        filter=flt or Filter(),
        facets={"category": [category]},
    )


@pytest.mark.parametrize("name", ALL)
def test_returns_at_most_k_known_unique_ids(channels, index, name):
    got = channels[name].recall(query_for(index, "kitchen"), 7)
    assert 0 < len(got) <= 7
    ids = [c.id for c in got]
    assert len(set(ids)) == len(ids)
    for c in got:
        assert c.id in index.pos and c.meta == index.metas[index.pos[c.id]]
        assert set(c.channels) == {channels[name].name}


@pytest.mark.parametrize("name", ALL)
def test_honours_filters(channels, index, name):
    excluded = by_category(index)["toys"][:5]
    flt = Filter(
        equals={"category": ["toys"]}, ranges={"price": (None, 60.0)}, exclude_ids=set(excluded)
    )
    got = channels[name].recall(query_for(index, "toys", flt), 10)
    for c in got:
        assert flt.matches(c.id, c.meta), c.id
    assert len(got) > 0


@pytest.mark.parametrize("name", ALL)
def test_deterministic(channels, index, name):
    first = channels[name].recall(query_for(index, "books"), 10)
    again = channels[name].recall(query_for(index, "books"), 10)
    assert [(c.id, c.channels) for c in first] == [(c.id, c.channels) for c in again]


# chance is 1/11 (eleven categories); SASRec sees only 132 ten-item sequences
FLOORS = {
    "content": 0.6,
    "shared_facets": 0.9,
    "item_knn": 0.6,
    "ease": 0.6,
    "sasrec": 0.25,
    "picked_after": 0.6,
}
# channels that learn from the request (facets, text) rather than liked items
REQUEST = {"asked_for": 0.6, "similar": 0.6}


@pytest.mark.parametrize("name", BEHAVIOUR)
def test_quality_floor_same_category(channels, index, name):
    """A user who only touched garden items gets mostly garden items back."""
    shares = []
    for category in ("garden", "office", "beauty"):
        got = channels[name].recall(query_for(index, category), 5)
        shares.append(category_share(index, [c.id for c in got], category))
    assert np.mean(shares) >= FLOORS[name], shares


@pytest.mark.parametrize("name", sorted(REQUEST))
def test_quality_floor_from_the_request(channels, index, name):
    """Past requests for garden things were answered with garden items."""
    shares = []
    for category in ("garden", "office", "beauty"):
        q = query_for(index, category)
        q.liked, q.history = [], []
        got = channels[name].recall(q, 5)
        shares.append(category_share(index, [c.id for c in got], category))
    assert np.mean(shares) >= REQUEST[name], shares


@pytest.mark.parametrize(
    "name", ["item_knn", "ease", "sasrec", "content", "shared_facets", "picked_after"]
)
def test_no_seeds_means_no_opinion(channels, index, name):
    assert channels[name].recall(Query(text="anything"), 5) == []


def test_request_channels_without_known_anchors_have_no_opinion(channels):
    assert channels["asked_for"].recall(Query(facets={"category": ["nothing"]}), 5) == []
    assert channels["similar"].recall(Query(text=""), 5) == []


def test_unknown_ids_are_ignored(channels, index):
    q = Query(liked=["no-such-item", by_category(index)["toys"][0]], history=["gone"])
    for name in BEHAVIOUR:
        got = channels[name].recall(q, 5)
        assert all(c.id in index.pos for c in got)


def test_merge_keeps_every_channels_provenance(channels, index):
    q = query_for(index, "sports")
    lists = [channels[n].recall(q, 20) for n in ALL]
    merged = merge(lists)
    assert len({c.id for c in merged}) == len(merged)
    found_by = {c.id: set(c.channels) for c in merged}
    for lst in lists:
        for c in lst:
            assert set(c.channels) <= found_by[c.id]


def test_pipeline_contract_and_contributions(channels, index):
    pipe = Pipeline(index, list(channels.values()))
    flt = Filter(equals={"category": ["outdoor"]})
    q1, q2 = query_for(index, "outdoor", flt), query_for(index, "outdoor", flt)
    first, again = pipe.recommend(q1, 5), pipe.recommend(q2, 5)
    assert [i.id for i in first] == [i.id for i in again] and 0 < len(first) <= 5
    for item in first:
        assert flt.matches(item.id, item.meta)
        assert item.score == pytest.approx(sum(item.contributions.values()), abs=1e-4)
        assert item.channels  # provenance: at least one channel recalled it
    assert category_share(index, [i.id for i in first], "outdoor") == 1.0


def test_shared_facets_weigh_a_rare_shared_value_over_a_common_one():
    from retrieval import CatalogIndex

    metas = [
        {"genres": ["drama"], "director": ["Ava"]},  # the liked film
        {"genres": ["drama"], "director": ["Ava"]},  # same rare director
        {"genres": ["drama", "war"], "director": ["Bo"]},  # only the common genre
        *({"genres": ["drama"], "director": [f"D{n}"]} for n in range(6)),
        {"genres": ["comedy"], "director": ["Cy"]},  # nothing shared
    ]
    index = CatalogIndex([str(n) for n in range(len(metas))], metas)
    s = SharedFacetsChannel(index, ("genres", "director")).scores(Query(liked=["0"]))
    assert s[0] == -np.inf  # the seed itself is not its own neighbour
    assert s[1] > s[2] > s[9] == 0
