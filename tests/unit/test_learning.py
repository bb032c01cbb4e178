"""Learners and rerankers: artifacts, fusion learning, rerank rules, online
learning, entity linking, training refusal and graceful degradation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers.learn import by_category, category_share, demo_index, synthetic_events

from retrieval.items.linking import FacetMatcher, TitleLinker
from retrieval.models.artifacts import (
    ARTIFACT_FORMAT,
    Artifact,
    ArtifactError,
    load_artifact,
    save_artifact,
)
from retrieval.models.cf import EASE, InteractionMatrix, ItemKNN, RequestKNN, Transitions
from retrieval.models.online import ARMS, FusionBandit, OnlineState, RocchioProfile
from retrieval.ranking.features import _rank_column
from retrieval.ranking.fusion import (
    Example,
    FusionModel,
    TreeFusion,
    learn_fusion,
    learn_tree_fusion,
    merge_learned,
)
from retrieval.ranking.rerank import RerankConfig, Reranker
from retrieval.ranking.scored import ScoredItem

# -- artifacts ------------------------------------------------------------------------


def test_artifact_round_trip_and_damage_is_detected(tmp_path):
    a = Artifact("knn", "item_knn", ["x", "y"], {"w": np.arange(4.0)}, {"users": 3})
    save_artifact(tmp_path, a)
    got = load_artifact(tmp_path, "knn", "item_knn")
    assert got.item_ids == ["x", "y"] and got.info["users"] == 3
    np.testing.assert_array_equal(got.arrays["w"], np.arange(4.0))

    with pytest.raises(ArtifactError, match="not a ease"):
        load_artifact(tmp_path, "knn", "ease")
    with pytest.raises(ArtifactError, match="recochat train"):
        load_artifact(tmp_path, "missing")

    manifest = tmp_path / "knn" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format": ARTIFACT_FORMAT - 1}))
    with pytest.raises(ArtifactError, match="format"):
        load_artifact(tmp_path, "knn")
    manifest.write_text(json.dumps(data))
    (tmp_path / "knn" / "arrays.npz").write_bytes(b"garbage")
    with pytest.raises(ArtifactError, match="checksum"):
        load_artifact(tmp_path, "knn")
    manifest.write_text("{not json")
    with pytest.raises(ArtifactError, match="corrupt"):
        load_artifact(tmp_path, "knn")


def test_cf_models_round_trip_through_arrays():
    index = demo_index()
    users, items, _ = synthetic_events(index)
    data = InteractionMatrix.build(users, items, item_ids=index.ids)
    probe = np.array([0, 5, 9])
    for model, cls in ((ItemKNN(20).fit(data), ItemKNN), (EASE(30.0).fit(data), EASE)):
        again = cls.from_arrays(model.to_arrays(), model.item_ids)
        np.testing.assert_allclose(again.score(probe), model.score(probe), rtol=1e-2, atol=1e-3)


def test_interaction_matrix_keeps_the_largest_repeat_and_drops_unknown_items():
    m = InteractionMatrix.build(["u", "u", "v"], ["a", "a", "zz"], [1.0, 5.0, 2.0], ["a", "b"])
    assert m.matrix.shape == (2, 2) and m.matrix[m.user_ids.index("u"), 0] == 5.0
    assert m.matrix.nnz == 1


# -- fusion ---------------------------------------------------------------------------


def test_listwise_fusion_recovers_which_feature_matters():
    rng = np.random.default_rng(0)
    examples = []
    for _ in range(200):
        x = rng.random((30, 3))
        chosen = int(np.argmax(3 * x[:, 1] + 0.2 * rng.random(30)))  # feature 1 decides
        examples.append(Example(x, [chosen]))
    model = learn_fusion(examples, ["a", "b", "c"])
    assert model.weights["b"] > 5 * abs(model.weights["a"])
    assert model.weights["b"] > 5 * abs(model.weights["c"])


def test_free_features_escape_the_l2_penalty():
    rng = np.random.default_rng(1)
    examples = []
    for _ in range(150):
        x = rng.random((20, 2))
        examples.append(Example(x, [int(np.argmax(x[:, 0] + 0.3 * x[:, 1]))]))
    shrunk = learn_fusion(examples, ["a", "b"], l2=10.0)
    free = learn_fusion(examples, ["a", "b"], l2=10.0, free=("a",))
    assert free.weights["a"] > 3 * shrunk.weights["a"] > 0
    assert abs(free.weights["b"]) < free.weights["a"] / 3


def test_tree_fusion_learns_an_interaction_and_explains_itself():
    """The chosen row is the best `b` when the list's flag `a` is on, the best `c`
    otherwise: no weighted sum ranks both kinds of list right."""
    rng = np.random.default_rng(0)

    def lists(n):
        out = []
        for k in range(n):
            x = rng.random((30, 3))
            x[:, 0] = k % 2
            out.append(Example(x, [int(np.argmax(x[:, 1] if k % 2 else x[:, 2]))]))
        return out

    train, test = lists(300), lists(100)
    names = ["a", "b", "c"]
    trees = learn_tree_fusion(train, names, rounds=60, params={"min_data_in_leaf": 20})
    linear = learn_fusion(train, names)
    w = np.array([linear.weights[n] for n in names])

    def hits(score):
        return np.mean([np.argmax(score(e.features)) == e.chosen[0] for e in test])

    tree_hits, linear_hits = hits(trees.predict), hits(lambda m: m @ w)
    assert tree_hits > 0.6 and tree_hits > linear_hits + 0.2, (tree_hits, linear_hits)
    again = TreeFusion(names, trees.model)  # as retrieval/ranking/serving.py loads the artifact
    cols = {n: test[0].features[:, i] for i, n in enumerate(names)}
    total, contributions = again.score(cols)
    shift = trees.predict(test[0].features) - total  # the trees' constant expected value
    np.testing.assert_allclose(shift, shift[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(total, sum(contributions.values()), rtol=1e-6, atol=1e-9)
    assert len(trees.importance()) == 3 and sum(trees.importance()) == pytest.approx(1, abs=0.01)


def test_rank_feature_is_one_for_the_best_and_zero_past_the_cap_or_without_score():
    got = _rank_column(np.array([0.2, 0.9, 0.0, 0.5, 0.1]), cap=3)
    assert got[1] == 1.0 and got[3] == pytest.approx(1 / np.log2(3))
    assert got[2] == 0.0 and got[4] == 0.0  # no score; fourth place is past the cap


def test_transitions_are_directed_and_shrunk():
    # after "a" people were given "b" three times out of three; "b" was never followed
    model = Transitions(shrink=1.0).fit([(["a"], ["b"])] * 3 + [(["c"], ["a"])], ["a", "b", "c"])
    s = model.score_anchors(["a"])
    assert s[1] == pytest.approx(3 / 4) and s[0] == s[2] == 0.0
    assert model.score_anchors(["b"]).sum() == 0.0  # never an anchor
    assert model.score(np.array([2])).tolist() == pytest.approx([0.5, 0.0, 0.0])


def test_request_knn_votes_with_the_closest_requests():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    model = RequestKNN(neighbours=2, power=1.0).fit(vectors, [[0], [1], [2]], ["x", "y", "z"])
    s = model.score_vector(np.array([1.0, 0.05]))
    assert s[0] > s[1] > 0 and s[2] == 0.0


def test_merge_keeps_configured_weights_for_what_was_not_learned():
    learned = FusionModel({"cf": 4.0, "semantic": 0.0}, {"learned_features": ["cf"]})
    base = FusionModel({"cf": 0.3, "semantic": 0.6})
    merged = merge_learned(base, learned)
    assert merged.weights == {"cf": 0.3, "semantic": 0.6}  # rescaled to the cf block's mass


def test_fusion_contributions_add_up_to_the_score():
    cols = {"semantic": np.array([0.5, 0.1]), "cf": np.array([0.0, 1.0])}
    total, contrib = FusionModel({"semantic": 1.0, "cf": 0.5}).score(cols, {"cf": 2.0})
    np.testing.assert_allclose(total, contrib["semantic"] + contrib["cf"])
    assert total[1] == pytest.approx(0.1 + 1.0)


# -- rerank ---------------------------------------------------------------------------


def scored(index, ids, scores=None):
    scores = scores or [1.0 - n * 0.01 for n in range(len(ids))]
    return [
        ScoredItem(i, index.metas[index.pos[i]], s, {}, {})
        for i, s in zip(ids, scores, strict=True)
    ]


def test_mmr_diversifies_near_duplicates():
    index = demo_index()
    cats = by_category(index)
    # the fused order is all kitchen first; the vectors cluster by category
    ids = cats["kitchen"][:8] + cats["toys"][:2] + cats["books"][:2]
    plain = Reranker(index, RerankConfig(diversity=0.0, cap_field=None)).rerank(
        scored(index, ids), 4
    )
    diverse = Reranker(index, RerankConfig(diversity=0.7, cap_field=None)).rerank(
        scored(index, ids), 4
    )
    assert category_share(index, [i.id for i in plain], "kitchen") == 1.0
    assert category_share(index, [i.id for i in diverse], "kitchen") < 1.0
    assert diverse[0].id == plain[0].id  # the best item stays first


def test_provider_cap_long_tail_share_stock_and_exclusions():
    index = demo_index()
    ranked = sorted(index.ids, key=lambda i: -index.metas[index.pos[i]].get("rating_count", 0))[:40]
    cfg = RerankConfig(
        diversity=0.0,
        cap_field="brand",
        cap_share=0.25,
        long_tail_share=0.5,
        long_tail_popularity=0.99,
        exclude_ids={ranked[0]},
        exclude_values={"category": ["books"]},
    )
    got = Reranker(index, cfg).rerank(scored(index, ranked), 8)
    assert len(got) == 8 and ranked[0] not in [i.id for i in got]
    brands = [i.meta.get("brand") for i in got]
    assert max(brands.count(b) for b in set(brands)) <= 2
    assert all(i.meta.get("category") != "books" for i in got)
    pops = [index.popularity[index.pos[i.id]] for i in got]
    assert np.mean(np.array(pops) < 0.99) >= 0.5
    stock = [i.meta.get("in_stock") is not False for i in got]
    assert stock == sorted(stock, reverse=True)  # in-stock items before out-of-stock ones


# -- online learning ------------------------------------------------------------------


def test_rocchio_moves_towards_likes_and_away_from_dislikes():
    index = demo_index()
    cats = by_category(index)
    profile = RocchioProfile()
    for i in cats["garden"][:3]:
        profile.feedback(i, True)
    profile.feedback(cats["toys"][0], False)
    q = index.vectors[index.pos[cats["books"][0]]]
    moved = profile.apply(q, index.vectors, index.pos)
    garden = index.vectors[index.positions(cats["garden"])].mean(axis=0)
    toy = index.vectors[index.pos[cats["toys"][0]]]
    assert moved @ garden > q @ garden and moved @ toy < q @ toy
    profile.feedback(cats["toys"][0], True)  # the latest word on an item wins
    assert cats["toys"][0] in profile.liked and cats["toys"][0] not in profile.disliked


@pytest.mark.parametrize("exploration", [1.0, 0.3])
def test_thompson_bandit_finds_the_best_arm(exploration):
    rng = np.random.default_rng(0)
    truth = {arm: 0.2 for arm in ARMS} | {"neighbours": 0.6}
    bandit = FusionBandit(exploration=exploration)
    plays = []
    for _ in range(400):
        arm = bandit.choose(rng)
        bandit.update(arm, float(rng.random() < truth[arm]))
        plays.append(arm)
    assert plays[-100:].count("neighbours") > 60


def test_online_state_is_versioned():
    state = OnlineState()
    state.profile.feedback("x", True)
    state.bandit.update("text", 1.0)
    again = OnlineState.from_dict(json.loads(json.dumps(state.to_dict())), exploration=0.5)
    assert again.profile.liked == ["x"] and again.bandit.wins["text"] == 1.0
    assert again.bandit.exploration == 0.5
    old = {**state.to_dict(), "version": 0}
    assert OnlineState.from_dict(old).profile.liked == []  # an old snapshot starts fresh


# -- linking --------------------------------------------------------------------------


def test_title_linker_prefers_the_longest_title_and_needs_a_name_without_year():
    linker = TitleLinker(
        {
            "1": "The Dark Knight (2008)",
            "2": "The Dark Knight Rises (2012)",
            "3": "It Follows (2014)",
            "4": "Up (2009)",
        }
    )
    text = "Loved The Dark Knight Rises (2012) and It Follows. it follows me. cheer up"
    assert linker.link(text) == ["2", "3"]
    assert linker.link("the dark knight (2008) and Up (2009)") == ["1", "4"]


def test_a_catalog_without_years_links_titles_written_as_names_only():
    linker = TitleLinker({"1": "You", "2": "Prometheus", "3": "Wreck-It Ralph", "4": "Yes"})
    assert linker.link("Could you recommend something like wreck-it ralph?") == []
    assert linker.link("Yes, I enjoyed Prometheus and Wreck-It Ralph. You?") == ["2", "3"]


def test_facet_matcher_reads_genres_and_people():
    metas = [{"genres": ["horror", "comedy"], "stars": ["Tom Hanks"]}] * 2
    found = FacetMatcher(metas, ("genres", "stars")).match("any comedies with tom hanks?")
    assert found == {"stars": ["Tom Hanks"], "genres": ["comedy"]}


def test_an_empty_interaction_matrix_builds_with_no_events():
    data = InteractionMatrix.build([], [], item_ids=["a", "b"])
    assert data.matrix.shape == (0, 2) and data.counts.tolist() == [0.0, 0.0]


def test_tree_fusion_with_cold_rows_ranks_a_new_item_by_its_content():
    """Picks follow content (`semantic`) and past interactions (`popularity`)
    alike. A new item has no interactions: trees that never saw such a row put
    it below every known item whatever its content; trained with a share of
    rows shown as new (features.as_cold), they rank it by its content."""
    rng = np.random.default_rng(0)
    names = ["semantic", "popularity", "in_popular"]

    def lists(n):
        out = []
        for _ in range(n):
            x = rng.random((30, 3))
            x[:, 2] = x[:, 1] > 0.5
            out.append(Example(x, [int(np.argmax(x[:, 0] + x[:, 1]))]))
        return out

    train = lists(400)
    test = lists(200)
    for e in test:  # row 0: a new item that fits best by content
        e.features[0] = [1.0, 0.0, 0.0]

    def new_item_rank(trees):
        return np.mean(
            [np.sum(trees.predict(e.features) > trees.predict(e.features)[0]) for e in test]
        )

    params = {"min_data_in_leaf": 20}
    plain = learn_tree_fusion(train, names, rounds=60, params=params)
    cold = learn_tree_fusion(train, names, rounds=60, params=params, cold_share=0.2)
    assert cold.info["cold_share"] == 0.2
    assert new_item_rank(cold) < 5 < 10 < new_item_rank(plain), (
        new_item_rank(cold),
        new_item_rank(plain),
    )
