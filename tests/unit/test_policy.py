"""The ask-or-recommend policy: information gain, the question budget, never
re-asking, recommending at once when specific, and the nearest relaxation when
nothing matches (with the real figure)."""

from __future__ import annotations

import math

import pytest
from helpers.trackers import TRACKERS

from chat.dialogue.policy import Policy, PolicyConfig
from chat.state import DialogueState


def policy_for(catalog: str, **config) -> Policy:
    t = TRACKERS[catalog]
    return Policy(
        t.facets,
        t.metas,
        PolicyConfig(**config),
        hard=t.hard,
        proper=t.lexicon.proper,
        kind_facet=t.kind_facet,
    )


def decide(catalog, texts, *, policy=None, candidates=None):
    tracker = TRACKERS[catalog]
    policy = policy or policy_for(catalog)
    state = DialogueState()
    msg = None
    for text in texts:
        msg = tracker.read(state, text)
        state = tracker.apply(state, msg)
    flt = state.filter()
    pool = policy.pool_size(flt)
    pooled = candidates
    if pooled is None:  # stand-in for dense recall: items with a liked value, or all
        pooled = [m for i, m in tracker.metas.items() if flt.matches(i, m)]
        liked = [(f, v) for f, vs in state.liked.items() for v in vs]
        near = [m for m in pooled if any(v in _list(m.get(f)) for f, v in liked)]
        pooled = near or pooled
    return policy.decide(state, msg.intent, pooled[:50], pool, force=msg.force), state


def _list(value):
    return value if isinstance(value, list) else [value]


def test_information_gain_is_the_entropy_of_the_split_weighted_by_coverage():
    policy = policy_for("shop")
    candidates = [{"category": c} for c in ("toys", "toys", "books", "books")] + [{"x": 1}] * 4
    gains = policy.information_gain(DialogueState(), candidates)
    # half the candidates have a category, split 50/50: 1 bit × 0.5
    assert gains["category"] == pytest.approx(0.5)
    uniform = [{"category": c} for c in ("toys", "books", "home", "garden")]
    assert policy.information_gain(DialogueState(), uniform)["category"] == pytest.approx(
        math.log2(4)
    )


def test_a_vague_request_asks_the_most_informative_facet():
    decision, _ = decide("shop", ["I need a gift"])
    assert decision.act == "ask" and decision.facet == "category"
    assert decision.gains["category"] == max(decision.gains.values())
    assert 2 <= len(decision.options) <= 4
    assert all(
        o["equals"]["category"] in TRACKERS["shop"].lexicon.counts["category"]
        for o in decision.options
    )


def test_a_specific_request_is_recommended_at_once():
    for text in (
        "a waterproof tent for camping under $150",
        "wireless earbuds for running",
        "a quiet coffee grinder",
        "a horror book, no gore",
    ):
        decision, state = decide("shop", [text])
        assert decision.act == "recommend", (text, decision.reason)
        assert "specific" in decision.reason


@pytest.mark.parametrize(
    "text",
    [
        "birthday gift for a 12 year old girl, max £40",
        "something for my dad as a gift, about 50 quid",
        "a gift for a coworker under 20 euros",
    ],
)
def test_limits_without_a_need_are_asked_about_first(text):
    # a gift, a budget and who it is for narrow the shop but say nothing of what the
    # thing is: one question about the kind comes before a list
    decision, state = decide("shop", [text])
    assert decision.act == "ask", (text, decision.reason)
    assert state.specificity() >= 2 > Policy.specificity(state)


def test_an_answered_facet_is_never_asked_again_and_the_budget_caps_questions():
    tracker, policy = TRACKERS["shop"], policy_for("shop")
    state = DialogueState()
    asked = []
    for text in ("I need a gift", "no preference", "no preference", "no preference"):
        msg = tracker.read(state, text)
        state = tracker.apply(state, msg)
        flt = state.filter()
        pooled = [m for i, m in tracker.metas.items() if flt.matches(i, m)]
        decision = policy.decide(state, msg.intent, pooled[:50], policy.pool_size(flt))
        if decision.act != "ask":
            break
        assert decision.facet not in asked
        asked.append(decision.facet)
        state.asked.append(decision.facet)
        state.questions += 1
        state.pending = {"facet": decision.facet, "options": decision.options}
    assert len(asked) == 2 and decision.act == "recommend"
    assert "budget spent" in decision.reason


@pytest.mark.parametrize("cap", [0, 1])
def test_the_question_cap_is_configurable(cap):
    decision, _ = decide("shop", ["I need a gift"], policy=policy_for("shop", max_questions=cap))
    assert (decision.act == "ask") == (cap > 0)


def test_just_show_me_recommends_without_asking():
    decision, _ = decide("shop", ["just surprise me"])
    assert decision.act == "recommend" and "now" in decision.reason


def test_a_small_pool_is_shown_rather_than_questioned():
    decision, _ = decide("shop", ["something from Hydrora"])
    assert decision.act == "recommend"


def test_candidates_that_are_alike_are_not_asked_about():
    same = [{"category": "toys", "price": 10.0}] * 19 + [{"category": "books", "price": 10.0}]
    decision, _ = decide("shop", ["recommend me something"], candidates=same)
    assert decision.act == "recommend" and "alike" in decision.reason


def test_movies_ask_the_best_split_first_then_the_other_facet():
    policy = policy_for("movies", small_pool=3)
    decision, state = decide("movies", ["recommend me a movie"], policy=policy)
    assert decision.act == "ask" and decision.facet in ("genres", "year")
    assert decision.gains[decision.facet] == max(decision.gains.values())
    state.asked.append(decision.facet)
    state.questions = 1
    flt = state.filter()
    metas = [m for i, m in TRACKERS["movies"].metas.items() if flt.matches(i, m)]
    second = policy.decide(state, "refine", metas, len(metas))
    assert second.act == "ask" and second.facet == ({"genres", "year"} - {decision.facet}).pop()
    if second.facet == "year":
        assert all("ranges" in o for o in second.options)


def test_nothing_under_the_budget_offers_the_cheapest_with_its_real_price():
    decision, state = decide("shop", ["toys under $1"])
    assert decision.act == "no_match"
    offer = decision.offer
    cheapest = min(
        (m["price"], i) for i, m in TRACKERS["shop"].metas.items() if m["category"] == "toys"
    )
    assert (offer["value"], offer["item"]) == cheapest and offer["facet"] == "price"
    assert offer["range"] == ["price", [None, cheapest[0]]]


def test_nothing_that_new_offers_the_closest_year():
    decision, _ = decide("movies", ["a horror movie made after 2018"])
    assert decision.act == "no_match"
    latest = max(m["year"] for m in TRACKERS["movies"].metas.values() if "horror" in m["genres"])
    assert decision.offer["value"] == latest and decision.offer["side"] == "low"


def test_an_impossible_combination_offers_to_drop_a_constraint():
    decision, _ = decide("shop", ["toys from Kestrel Audio"])
    assert decision.act == "no_match"
    assert decision.offer["drop"] in ("brand", "category") and decision.offer["count"] > 0


def test_a_numeric_nudge_is_preferred_to_dropping_the_kind_of_item():
    decision, _ = decide("movies", ["a war movie from the 80s"])
    assert decision.act == "no_match"
    assert decision.offer["facet"] == "year" and decision.offer["value"] == 1998


def test_non_recommend_intents_map_to_their_acts():
    for text, act in (
        ("hello", "ask"),  # a greeting that opens the chat: greeted back with a question
        ("thanks", "smalltalk"),
        ("what's the weather tomorrow?", "refuse"),
        ("start over", "reset"),
        ("asdfgh qwerty", "unclear"),
    ):
        decision, _ = decide("shop", [text])
        assert decision.act == act, text
        assert decision.reason
