"""Rounds 11 and 12, in wordings of their own (none taken from a dialogue file): the
list holds together by meaning (cards of another kind far behind a strong match are
not shown); a title's noun ends before its size; a word naming every shown item
points at all of them in a question; a misspelling as near to a thing sold as to a
tag is no guess; off topic and small talk where a shopper is talking. The real embedder's side is in tests/e2e/test_list_meaning_e2e.py."""

from __future__ import annotations

import pytest

from chat.events import ItemCard
from chat.recommend import Found, holds_together
from chat.state import DialogueState
from retrieval import ScoredItem


def _found(*rows: tuple[str, str, float]) -> Found:
    """Cards (id, kind, closeness to the request), in the ranked order."""
    items = [
        ScoredItem(i, {"title": i, "kind": kind}, 1.0, {"semantic": close}, {})
        for i, kind, close in rows
    ]
    return Found(items, [ItemCard(i.id, i.id, "", [], 1.0) for i in items])


def _ids(found: Found) -> list[str]:
    assert [c.id for c in found.cards] == [i.id for i in found.items]
    return [i.id for i in found.items]


def _kind(meta: dict) -> str:
    return meta["kind"]


def test_a_card_of_another_kind_far_behind_a_strong_match_is_not_shown():
    found = _found(("wool-1", "jumper", 0.62), ("wool-2", "jumper", 0.58), ("sock", "sock", 0.35))
    assert _ids(holds_together(found, _kind)) == ["wool-1", "wool-2"]


def test_a_kind_near_the_best_stays_and_so_do_its_weaker_cards():
    found = _found(
        ("bombs", "bath-bomb", 0.60), ("lotion", "lotion", 0.55), ("bombs-2", "bath-bomb", 0.30)
    )
    assert _ids(holds_together(found, _kind)) == ["bombs", "lotion", "bombs-2"]


def test_the_first_card_goes_too_when_a_strong_match_of_another_kind_follows():
    found = _found(("slow", "cooker", 0.46), ("stove", "stove", 0.64), ("pot", "stove", 0.40))
    assert _ids(holds_together(found, _kind)) == ["stove", "pot"]


def test_an_open_request_matches_nothing_strongly_and_keeps_its_variety():
    found = _found(("plush", "plush", 0.36), ("bricks", "set", 0.22), ("candle", "candle", 0.20))
    assert _ids(holds_together(found, _kind)) == ["plush", "bricks", "candle"]


def test_without_a_closeness_the_list_is_left_as_it_is():
    found = _found(("a", "x", 0.9), ("b", "y", 0.1))
    found.items[1].features.pop("semantic")
    assert _ids(holds_together(found, _kind)) == ["a", "b"]


@pytest.mark.parametrize(
    ("title", "noun"),
    [
        ("Camp Griddle 12-inch", "griddle"),
        ("Wooden Blocks 100 Pieces", "block"),
        ("Travel Flask 0.5L", "flask"),
        ("Balance Board 3-Pack", "board"),
        ("Summit 900 Down Parka", "parka"),  # a model number inside the name stays
        ("Ceramic Planter with Saucer", "planter"),
    ],
)
def test_a_titles_noun_ends_before_its_size(title, noun):
    from chat.understand.vocabulary import title_noun

    assert title_noun({"title": title}) == noun


def test_a_word_naming_every_shown_item_in_a_question_points_at_all_of_them():
    from helpers.trackers import TRACKERS, state_after

    tracker = TRACKERS["shop"]
    state = state_after(tracker, [], "earbuds")
    assert len(state.shown) == 3
    for text in ("what do the earbuds cost?", "what are those earbuds made of?"):
        msg = tracker.read(state, text)
        assert msg.intent == "question" and msg.targets == state.shown, text
    # a wish besides the name still asks for other items
    assert tracker.read(state, "are the earbuds waterproof?").intent != "question"


def test_the_shared_words_of_the_items_on_screen():
    from chat.understand.references import shared_name

    shown = [("a", {"title": "Cedar Beard Oil"}), ("b", {"title": "Argan Hair Oil"})]
    assert shared_name("what do the oils smell like?", shown) == {"oil"}
    assert shared_name("does the beard oil smell?", shown) == set()  # singles one out
    assert shared_name("what does the oil cost", shown[:1]) == set()


def test_a_misspelling_as_near_to_a_thing_sold_as_to_a_tag_is_no_guess():
    from helpers.trackers import TRACKERS

    lexicon = TRACKERS["shop"].lexicon
    # "sheers": the tag "sheets" or the "Shears" of a title, one letter from each
    assert lexicon._fuzzy("sheers") == []
    assert lexicon._fuzzy("blendr")  # one thing near: the blender
    msg = TRACKERS["shop"].read(DialogueState(), "sheers for cutting back the hedge")
    assert ("tags", "sheets") not in msg.head


def test_a_kind_or_a_thing_sold_named_mid_chat_needs_a_sure_model_to_be_off_topic():
    from helpers.trackers import TRACKERS, shop_after

    tracker = TRACKERS["shop"]
    said = tracker.read(
        shop_after("scented candles"), "she mentioned wanting a yoga mat the other day"
    )
    assert said.intent != "out_of_scope", said.notes
    for text in ("how do I get candle wax off a rug", "random q, who wrote the odyssey?"):
        assert tracker.read(DialogueState(), text).intent == "out_of_scope", text
    # the shop's own things asked about, however sure the model is of off topic
    asked = tracker.read(DialogueState(), "say something about your cheapest tents")
    assert asked.intent != "out_of_scope", asked.notes


def test_no_preference_answering_the_question_asked_is_no_small_talk():
    from helpers.trackers import TRACKERS

    tracker = TRACKERS["shop"]
    state = DialogueState()
    state.pending = {"facet": "price", "options": []}
    for text in ("whatever", "dunno, anything"):
        assert tracker.read(state, text).intent == "answer", text
