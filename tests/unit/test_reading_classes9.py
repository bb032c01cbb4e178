"""Classes of the ninth round, each in wordings of its own (none taken from a dialogue
file): the thing asked for is what the catalog's titles call their items, never a
feature of one nor whom it is for; a synonym that names the same thing; a budget
raised; a comparison between shown items; stock asked of the items on screen; a
question put as a request; Polish read like the other languages; a field's unit."""

from __future__ import annotations

import pytest

from chat.state import DialogueState


def _tracker(catalog: str = "shop"):
    from helpers.trackers import TRACKERS

    return TRACKERS[catalog]


def _after(*texts: str, shown: list[str] | None = None) -> DialogueState:
    from helpers.trackers import shop_after

    return shop_after(*texts, shown=shown)


@pytest.mark.parametrize(
    ("text", "head"),
    [
        ("a settee for the front room", None),  # no synonym known: no guess
        ("need a couch, ours broke", ("tags", "sofa")),  # a synonym the titles use
        ("two sharp knives for the kitchen", ("tags", "knife")),  # "Chef's Knife 8-inch"
        ("a proper frying pan please", ("tags", "frying-pan")),
    ],
)
def test_the_head_is_what_the_titles_call_the_items(text, head):
    msg = _tracker().read(DialogueState(), text)
    assert (head in msg.head) if head else not msg.head


@pytest.mark.parametrize(
    ("text", "kind_of_head"),
    [
        ("a light to take on night walks", None),  # "lights" tags a toy's feature
        ("a nice gift for my boss", None),  # "gift" tags many kinds of thing
        ("off camping with the kids next week", None),  # whom it is for: no head
        ("a kettle for my mum", "kitchen"),
    ],
)
def test_only_a_thing_sold_implies_a_kind(text, kind_of_head):
    tracker = _tracker()
    state = _after(text)
    assert state.equals.get("category", [None]) == [kind_of_head]
    assert "kids" not in state.head.get("tags", [])
    things = [v for f, vs in state.head.items() for v in vs if tracker.is_thing(f, v)]
    assert bool(things) == bool(kind_of_head)


def test_the_readings_of_one_word_are_alternatives_for_the_kind():
    # "trainers" reads as shoes or sneakers: the kinds of either, narrowed by the use
    state = _after("fresh trainers for road running")
    assert state.equals.get("category") == ["sports"]


def test_a_new_thing_of_other_kinds_starts_a_new_topic():
    state = _after("road running shoes", "something else for running, a watch maybe")
    assert state.head == {"tags": ["watch"]} and state.equals.get("category") != ["sports"]


@pytest.mark.parametrize(
    ("text", "cap"),
    [
        ("fine, I could stretch to 45", 45.0),
        ("make it 70", 70.0),
        ("go as high as 90 then", 90.0),
        ("ok bump it up to 60", 60.0),
    ],
)
def test_a_budget_raised_keeps_the_thing_and_moves_the_cap(text, cap):
    state = _after("a yoga mat under 20", text)
    assert state.ranges["price"] == [None, cap]
    assert state.head == {"tags": ["mat"]} and "stretch" not in state.liked.get("tags", [])


def test_text_speak_ends_the_noun_phrase():
    msg = _tracker().read(DialogueState(), "gimme a gud kettle nt 2 pricey")
    assert ("tags", "kettle") in msg.head


def test_which_is_roomier_answers_with_the_measure():
    state = DialogueState()
    state.shown = ["out-015", "out-016"]
    msg = _tracker().read(state, "which is roomier, the 1st or the 2nd?")
    assert msg.intent == "question" and msg.fields == ["capacity_l"]
    assert set(msg.targets) == {"out-015", "out-016"}


@pytest.mark.parametrize(
    "text",
    [
        "which of these can I get today, not backordered",
        "only the ones that are on the shelf now",
        "any of them I can actually order right now?",
    ],
)
def test_stock_asked_of_the_items_on_screen_refines_them(text):
    tracker = _tracker()
    state = tracker.update(DialogueState(), "a burr coffee grinder")
    state.shown = ["kit-007", "kit-009", "kit-010"]
    after = tracker.update(state, text)
    assert after.equals.get("in_stock") == [True]


def test_is_it_in_stock_stays_a_question_about_one():
    state = DialogueState()
    state.shown = ["kit-007", "kit-009"]
    msg = _tracker().read(state, "is the first one in stock?")
    assert msg.intent == "question" and msg.targets == ["kit-007"]


def test_best_reviewed_first_orders_by_rating():
    state = _after("a board game for family night", "show the best reviewed ones first")
    assert state.order == ["rating", "desc"]


@pytest.mark.parametrize(
    "text",
    ["remind me who directed it", "i wonder what the second one costs", "do you know if it ships"],
)
def test_a_question_put_as_a_request_is_a_question(text):
    from chat.understand.intents import is_question

    assert is_question(text)


def test_polish_is_read_like_the_other_languages():
    from chat.understand.language import latin_language

    text = "potrzebuję czajnika elektrycznego do 150 zł"
    assert latin_language(text) == "pl"
    state = _after(text)
    assert state.ranges["price"] == [None, 150.0]
    assert "kettle" in state.liked.get("tags", []) + state.head.get("tags", [])


def test_a_field_named_with_its_unit_is_said_with_the_unit():
    from chat.dialogue.phrases import answer

    meta = {"title": "Trail Daypack 28L", "capacity_l": 28, "weight_kg": 0.9}
    text = answer(meta, ["capacity_l", "weight_kg"], "en")
    assert "capacity: 28 L" in text and "weight: 0.9 kg" in text


def test_the_makers_items_disliked_in_the_plural_refuse_the_maker():
    tracker = _tracker()
    state = tracker.update(DialogueState(), "wireless earbuds")
    state.shown = ["el-003", "el-005", "el-004"]
    brand = tracker.metas["el-003"]["brand"]
    plural = tracker.update(state, f"not the {brand} ones, they broke within a week")
    assert plural.excludes.get("brand") == [brand] and "el-003" in plural.disliked_ids
    single = tracker.update(state, f"not the {brand} one")
    assert not single.excludes.get("brand") and "el-003" in single.disliked_ids


@pytest.mark.parametrize("text", ["a sturdy chair first", "a lamp now please", "a kettle only"])
def test_an_adverb_after_the_thing_ends_its_phrase(text):
    assert _tracker().read(DialogueState(), text).head


@pytest.mark.parametrize(
    ("text", "field"),
    [("did the same author write that one?", "author"), ("who writes these?", "author")],
)
def test_any_form_of_the_verb_asks_the_field(text, field):
    from chat.understand.intents import attributes_asked

    assert field in attributes_asked(text, {"author", "price"})


@pytest.mark.parametrize(
    "text",
    [
        "a present for my grandad who loves birds",
        "something for my niece, she's obsessed with dinosaurs",
    ],
)
def test_what_someone_loves_is_no_thing_asked_for(text):
    state = _after(text)
    assert not state.head and state.liked.get("tags")


@pytest.mark.parametrize("text", ["headphones for the train", "Kopfhörer für die Bahn"])
def test_a_thing_of_another_kind_after_for_the_is_where_it_is_used(text):
    state = _after(text)
    assert "train" not in state.liked.get("tags", []) and state.equals.get("category") == [
        "electronics"
    ]


def test_a_use_of_the_same_kind_stays_a_wish():
    state = _after("a lock for my bike")
    assert "cycling" in state.liked.get("tags", []) or "bike-lock" in state.head.get("tags", [])
