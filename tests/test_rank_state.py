import pytest

from chat.state import DialogueState
from retrieval import Candidate, Preferences, Ranker, RankWeights


def test_contributions_sum_to_the_score_and_explain_order():
    ranker = Ranker(RankWeights())
    a = Candidate("a", {"title": "A", "tags": ["camping"], "rating": 4.8, "rating_count": 900}, 0.5)
    b = Candidate("b", {"title": "B", "tags": ["office"], "rating": 3.0, "rating_count": 2}, 0.5)
    ranked = ranker.rank([b, a], Preferences(liked={"tags": ["camping"]}))
    assert [s.id for s in ranked] == ["a", "b"]
    for s in ranked:
        assert s.score == pytest.approx(sum(s.contributions.values()))
    assert ranked[0].contributions["facet_match"] > 0 == ranked[1].contributions["facet_match"]


def test_ranking_is_deterministic_on_ties():
    ranker = Ranker()
    cands = [Candidate(i, {"title": i}, 0.3) for i in "dcba"]
    assert [s.id for s in ranker.rank(cands)] == ["a", "b", "c", "d"]


def test_price_fit_only_with_a_budget():
    ranker = Ranker()
    c = Candidate("a", {"price": 75.0}, 0.5)
    assert ranker.features(c, Preferences())["price_fit"] == 0
    assert ranker.features(c, Preferences(budget=100))["price_fit"] == pytest.approx(1.0)
    assert (
        ranker.features(Candidate("b", {"price": 120.0}, 0.5), Preferences(budget=100))["price_fit"]
        == 0
    )


@pytest.fixture
def tracker(app):
    return app.tracker


@pytest.mark.parametrize(
    "text, price",
    [
        ("a tent under $150", [None, 150.0]),
        ("something below 40 dollars", [None, 40.0]),
        ("earbuds, 30 bucks or less", [None, 30.0]),
        ("between 30 and 60 euros", [30.0, 60.0]),
        ("more than $100 please", [100.0, None]),
        ("a film under 2 hours", None),
        ("a backpack under 5 kg", None),
        ("a gift", None),
    ],
)
def test_price_phrases(tracker, text, price):
    assert tracker.update(DialogueState(), text).ranges.get("price") == price


def test_category_is_hard_and_other_facets_are_soft(tracker):
    s = tracker.update(DialogueState(), "some toys with a dinosaur theme")
    assert s.equals == {"category": ["toys"]}
    assert s.liked.get("tags") == ["dinosaur"]
    assert (
        tracker.update(DialogueState(), "a kettle for my kitchen").equals == {}
    )  # "my kitchen" is not a constraint


def test_later_statements_override_and_input_state_is_untouched(tracker):
    first = tracker.update(DialogueState(), "toys under $30")
    second = tracker.update(first, "actually electronics under $50")
    assert first.equals == {"category": ["toys"]} and first.ranges["price"] == [None, 30.0]
    assert second.equals == {"category": ["electronics"]} and second.ranges["price"] == [None, 50.0]
    assert second.turns == 2
    # a different kind of item is a new topic: the old request text does not carry over
    assert "toys" not in second.query_text() and "electronics" in second.query_text()
    # a refinement of the same kind keeps it
    third = tracker.update(second, "something with noise cancelling, under $40")
    assert third.query_text().startswith("actually electronics")


def test_state_round_trips_and_old_versions_reset():
    s = DialogueState(equals={"category": ["toys"]}, shown=["a"])
    assert DialogueState.from_dict(s.to_dict()) == s
    assert DialogueState.from_dict({"version": 0, "equals": {"x": [1]}}) == DialogueState()
