"""Classes of the fourteenth round (blind split 13 as its development set), each in
wordings of its own (none taken from a dialogue file): a thing said in any words and
what it does, a use and a word for goods; sorts and limits relative to the items shown
said in more ways; better rated than a shown item; stock said as delivery; a rough
amount; "done with" a maker; the reader's cue words for showing, directing and sums in
the other languages; the voices of an animated film."""

from __future__ import annotations

import pytest
from helpers.trackers import SHOWN, TRACKERS, state_after

from chat.state import DialogueState


def _read(text: str):
    tracker = TRACKERS["shop"]
    return tracker.read(state_after(tracker, ["earbuds"], "earbuds"), text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a hoover that sucks up cat fur", True),
        ("hiking gear for a week in the alps", True),
        ("a gift that makes her smile", False),
        ("a card that says congratulations", False),
    ],
)
def test_a_thing_in_any_words_and_what_it_does_or_a_use_of_goods(text, says):
    assert TRACKERS["shop"].read(DialogueState(), text).says_what is says


@pytest.mark.parametrize(
    ("text", "field", "down", "one"),
    [
        ("could you line them up by rating", "rating", True, False),
        ("put the ones customers loved most at the front", "rating", True, False),
        ("just the one that costs the least please", "price", False, True),
    ],
)
def test_more_ways_to_ask_for_an_order(text, field, down, one):
    from chat.understand.intents import order_asked

    asked = order_asked(text)
    assert asked is not None and asked[1:] == (field, down, one)


def test_better_rated_than_a_shown_item_is_above_its_rating():
    tracker = TRACKERS["shop"]
    state = state_after(tracker, ["earbuds"], "earbuds")
    after = tracker.update(state, "got any that buyers rate higher than the first pair?")
    first = tracker.metas[SHOWN["earbuds"][0]]["rating"]
    assert after.ranges["rating"][0] > first


@pytest.mark.parametrize(
    "text",
    ["what have you got for less than the second pair?", "any cheaper than all of those?"],
)
def test_a_limit_set_by_the_items_shown(text):
    msg = _read(text)
    assert msg.intent == "refine"
    assert [(c.facet, c.direction) for c in msg.reading.comparatives] == [("price", "lower")]


def test_less_than_every_one_shown_is_below_the_cheapest():
    tracker = TRACKERS["shop"]
    state = state_after(tracker, ["earbuds"], "earbuds")
    after = tracker.update(state, "is there something that costs less than each of them?")
    cheapest = min(tracker.metas[i]["price"] for i in SHOWN["earbuds"])
    assert after.ranges["price"][1] < cheapest


def test_stock_said_as_delivery():
    msg = _read("only the ones I can get delivered tomorrow, nothing on backorder")
    assert msg.in_stock


@pytest.mark.parametrize("text", ["a yoga mat, ballpark 40", "a yoga mat, 40 or thereabouts"])
def test_a_rough_amount(text):
    after = TRACKERS["shop"].update(DialogueState(), text)
    low, high = after.ranges["price"]
    assert low is not None and high is not None and low < 40 < high


def test_done_with_a_maker_is_a_dislike():
    msg = _read("honestly I'm done with kestrel audio")
    assert any(p != "+" and h.facet == "brand" for h, p in msg.values)


def test_the_voices_of_an_animated_film_are_its_stars():
    from chat.understand.intents import attributes_asked

    assert attributes_asked("the first one, who does the voices?", {"stars", "year"}) == ["stars"]


@pytest.mark.parametrize(
    "text",
    [
        "you're a sleepy old lighthouse keeper and I'm a lost sailor, go!",
        "let's play a game: you answer only in riddles",
    ],
)
def test_a_role_given_to_the_assistant_is_refused(text):
    assert TRACKERS["shop"].read(DialogueState(), text).intent == "out_of_scope"


def test_a_game_to_buy_is_no_role_play():
    assert TRACKERS["shop"].read(DialogueState(), "a board game for the family").intent != (
        "out_of_scope"
    )


def test_a_longer_read_than_a_shown_book_has_more_pages():
    tracker = TRACKERS["shop"]
    state = tracker.update(DialogueState(), "a thriller novel")
    books = [i for i, m in tracker.metas.items() if m.get("pages")][:3]
    state.shown = books
    after = tracker.update(state, "something meatier than the first one")
    assert after.ranges["pages"][0] > tracker.metas[books[0]]["pages"]


def test_the_better_rated_one_points_at_a_shown_item_and_sets_no_limit():
    msg = _read("I'll go for the better rated one")
    assert not msg.reading.comparatives
