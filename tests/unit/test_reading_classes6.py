"""Classes of the sixth round, each with wordings of its own (none taken from a
dialogue file): an item ruled out rules out the catalog's other entries of the same
work."""

from __future__ import annotations

import pytest

from chat import StateTracker
from chat.state import DialogueState
from retrieval.items.facets import discover_facets

FILMS = {
    "a1": {"title": "Harbour Lights", "year": None, "genres": ["drama"], "director": ["Ada Voss"]},
    "a2": {
        "title": "Harbour Lights (1987)",
        "year": 1987,
        "genres": ["drama"],
        "director": ["Ada Voss"],
    },
    "a3": {
        "title": "Harbour Lights (2011)",
        "year": 2011,
        "genres": ["drama"],
        "director": ["Ben Ruiz"],
    },
    "b1": {"title": "Paper Moons", "year": 1990, "genres": ["comedy"], "director": ["Cy Lund"]},
    "b2": {
        "title": "Paper Moons (Comedy Film)",
        "year": None,
        "genres": ["comedy"],
        "director": ["Cy Lund"],
    },
    "c1": {"title": "Glass Rivers", "year": 1999, "genres": ["drama"], "director": ["Dee Park"]},
    "c2": {"title": "Tin Roofs", "year": 2001, "genres": ["comedy"], "director": ["Eli Moss"]},
}
GOODS = {
    "g1": {"title": "Desk Lamp", "brand": "Lumo", "category": "lighting", "price": 30.0},
    "g2": {"title": "Desk Lamp", "brand": "Brite", "category": "lighting", "price": 25.0},
    "g3": {"title": "Floor Lamp", "brand": "Lumo", "category": "lighting", "price": 60.0},
    "g4": {"title": "Reading Lamp", "brand": "Brite", "category": "lighting", "price": 20.0},
}


def _tracker(metas):
    return StateTracker(discover_facets(list(metas.values())), metas)


@pytest.mark.parametrize(
    "text, blocked, open_",
    [
        ("something like Harbour Lights (1987) please", {"a1", "a2"}, {"a3"}),
        ("I have already watched paper moons, what else", {"b1", "b2"}, {"a1"}),
        ("not Paper Moons, I hated it", {"b1", "b2"}, {"c1"}),
    ],
)
def test_a_ruled_out_film_rules_out_its_other_entries(text, blocked, open_):
    tracker = _tracker(FILMS)
    state = tracker.apply(DialogueState(), tracker.read(DialogueState(), text))
    assert blocked <= state.blocked_ids(), state.blocked_ids()
    assert not open_ & state.blocked_ids()  # a remake by someone else is another film


def test_same_titled_goods_of_two_brands_are_two_items():
    tracker = _tracker(GOODS)
    assert tracker.same_work("g1") == []
    assert _tracker(FILMS).same_work("a1") == ["a2"]  # the 2011 one has another director
    assert _tracker(FILMS).same_work("a2") == ["a1"]


# -- a refinement after a list keeps the thing the list showed ------------------------


def _after(shown: list[str], *texts: str) -> DialogueState:
    from helpers.trackers import TRACKERS

    tracker = TRACKERS["shop"]
    state = DialogueState()
    for text in texts[:-1]:
        state = tracker.update(state, text)
    state.shown = shown
    return tracker.update(state, texts[-1])


@pytest.mark.parametrize(
    "first, shown, then, thing, kind",
    [
        # the request named no thing the shop tags; the cards were all skillets or shoes
        (
            "what is good for searing a steak",
            ["kit-005", "kit-004"],
            "is there a cheaper one",
            "skillet",
            "kitchen",
        ),
        (
            "what is good for searing a steak",
            ["kit-005", "kit-004"],
            "not the second one",
            "skillet",
            "kitchen",
        ),
        (
            "what do you have for jogging on roads",
            ["sp-002", "sp-001"],
            "sort those by price",
            "shoes",
            "sports",
        ),
        # a colour asked of them is that version of the thing, not the thing
        (
            "something for my pilates class",
            ["sp-003", "sp-005"],
            "do you have one in black?",
            "mat",
            "sports",
        ),
    ],
)
def test_a_refinement_keeps_the_thing_the_cards_are(first, shown, then, thing, kind):
    state = _after(shown, first, then)
    assert thing in [v for vs in state.head.values() for v in vs], state.head
    assert state.equals.get("category") == [kind]


def test_a_new_thing_in_a_refinement_is_not_overridden():
    state = _after(["kit-005", "kit-004"], "a heavy frying pan", "actually a kettle instead")
    assert "skillet" not in [v for vs in state.head.values() for v in vs]


def test_another_brand_than_all_shown_falls_back_to_the_top_picks_when_none_is_left():
    # every running shoe of the shop is by one of the two brands shown
    state = _after(["sp-002", "sp-025", "sp-001"], "road running shoes", "any other brand?")
    assert state.excludes.get("brand") == ["Pacerun"]
    # while two shown brands of earbuds leave a third, both are ruled out
    state = _after(["el-003", "el-005"], "wireless earbuds", "a different brand please")
    assert sorted(state.excludes.get("brand", [])) == ["Everyday Basics", "Voltera"]


def TRACKERS_SHOP():
    from helpers.trackers import TRACKERS

    return TRACKERS["shop"]


def test_a_plain_head_widens_to_the_compounds_ending_in_it():
    wide = TRACKERS_SHOP().wider_head({"tags": ["chair"]})
    assert "office-chair" in wide["tags"] and wide["tags"][0] == "chair"
    assert "armchair" not in wide["tags"]  # a word, not a compound's last part


# -- questions about a shown item, pointed at in lower case or by a far position -----


def _read(shown: list[str], text: str):
    tracker = TRACKERS_SHOP()
    state = DialogueState()
    state.shown = shown
    return tracker.read(state, text)


@pytest.mark.parametrize(
    "shown, text, target",
    [
        # one card on screen: its title's word in lower case still points at it
        (["el-006"], "how much is the pulse one", "el-006"),
        (["kit-018"], "how heavy is the artisan one?", "kit-018"),
        (["hm-002"], "is the slate one in stock", "hm-002"),
    ],
)
def test_a_title_word_between_the_and_one_points_at_a_shown_item(shown, text, target):
    msg = _read(shown, text)
    assert msg.intent == "question" and msg.targets == [target], (msg.intent, msg.targets)


@pytest.mark.parametrize("text", ["how heavy is the 6th one", "tell me about the ninth item"])
def test_a_position_beyond_the_list_is_missing(text):
    msg = _read(["hm-001", "hm-002"], text)
    assert msg.intent == "problem" and msg.refs and msg.refs[0].missing


def test_a_date_is_no_position():
    assert _read(["hm-001", "hm-002"], "could it come by the 14th?").intent != "problem"


# -- a series said by its titles' first words ------------------------------------------

SAGA = {
    "s1": {
        "title": "Moon Court: Part One",
        "year": 2001,
        "genres": ["fantasy"],
        "director": ["Ida Holm"],
    },
    "s2": {
        "title": "Moon Court: Part Two",
        "year": 2003,
        "genres": ["fantasy"],
        "director": ["Ida Holm"],
    },
    "s3": {
        "title": "Moon Court Returns",
        "year": 2009,
        "genres": ["fantasy"],
        "director": ["Ida Holm"],
    },
    "t1": {"title": "Salt Road", "year": 2005, "genres": ["fantasy"], "director": ["Jo Berg"]},
    "t2": {
        "title": "Moonlight Courtyard",
        "year": 2010,
        "genres": ["drama"],
        "director": ["Jo Berg"],
    },
}


@pytest.mark.parametrize(
    "text",
    [
        "fantasy please, though ive watched all of the moon court films",
        "we have seen both moon courts, anything else?",
        "something like the moon court movies",
    ],
)
def test_a_series_by_its_first_words_rules_out_every_title(text):
    tracker = _tracker(SAGA)
    state = tracker.apply(DialogueState(), tracker.read(DialogueState(), text))
    assert {"s1", "s2", "s3"} <= state.blocked_ids(), state.blocked_ids()
    assert not {"t1", "t2"} & state.blocked_ids()


def test_first_words_without_a_plural_or_all_are_no_series():
    tracker = _tracker(SAGA)
    state = tracker.apply(
        DialogueState(), tracker.read(DialogueState(), "a moon court kind of story")
    )
    assert not {"s1", "s2", "s3"} & state.blocked_ids()


# -- a change of mind: the thing dropped is ruled out, the one "instead" is the thing --


@pytest.mark.parametrize(
    "first, then, dropped, wanted",
    [
        ("a yoga mat", "scrap the mat, I'd like a foam roller instead", "mat", "foam-roller"),
        (
            "an electric kettle",
            "forget the kettle, a coffee grinder instead",
            "kettle",
            "coffee-grinder",
        ),
        ("a two person tent", "ditch the tent. a sleeping bag rather", "tent", "sleeping-bag"),
    ],
)
def test_a_change_of_mind_drops_one_thing_for_another(first, then, dropped, wanted):
    tracker = TRACKERS_SHOP()
    state = tracker.update(tracker.update(DialogueState(), first), then)
    assert dropped in state.excludes.get("tags", []), state.excludes
    assert wanted in [v for vs in state.head.values() for v in vs], state.head


# -- a question about the people of a title never shown ---------------------------------


@pytest.mark.parametrize(
    "text, target, field",
    [
        ("who directed glass rivers", "c1", "director"),
        ("ok and who directed tin roofs?", "c2", "director"),
    ],
)
def test_a_lower_case_title_after_a_people_verb_is_asked_about(text, target, field):
    tracker = _tracker(FILMS)
    msg = tracker.read(DialogueState(), text)
    assert msg.intent == "question" and msg.targets == [target] and field in msg.fields


@pytest.mark.parametrize(
    "then",
    ["ditch it, a perfume for my aunt", "forget all that, I need a perfume", "scrap that. perfume"],
)
def test_a_change_of_mind_about_it_drops_nothing_that_follows(then):
    tracker = TRACKERS_SHOP()
    state = tracker.update(tracker.update(DialogueState(), "a lamp for my desk"), then)
    assert "perfume" not in state.excludes.get("tags", []), state.excludes


@pytest.mark.parametrize(
    "text", ["can I speak to a real person?", "hmm. let me chat with an agent please"]
)
def test_asking_for_a_person_is_no_wish_about_items(text):
    assert _read(["hm-019"], text).intent == "out_of_scope"


@pytest.mark.parametrize(
    "text", ["the moon court films please", "all the moon court movies, in order"]
)
def test_a_series_asked_for_is_not_ruled_out(text):
    tracker = _tracker(SAGA)
    state = tracker.apply(DialogueState(), tracker.read(DialogueState(), text))
    assert not {"s1", "s2", "s3"} & state.blocked_ids(), state.blocked_ids()
