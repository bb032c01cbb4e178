"""Classes of phrasing read by mechanism, round 5 of issue 12, each in words of its
own (none taken from a dialogue file): a brand called by its first word, a field
asked of an item described rather than pointed at, questions about the shop's
service, "in <colour>" as a filter, size and weight relative to what was shown,
saying one has no idea, a title ruled out, "any good …?" as a request, and
figures that may still grow while a reply streams."""

from __future__ import annotations

import json

import pytest
from helpers.trackers import TRACKERS

from chat.dialogue.policy import need_known
from chat.llm import ScriptedLLM
from chat.reply.copycheck import numbers
from chat.state import DialogueState
from chat.understand.llm_reading import LLMReader

SHOP, MOVIES = TRACKERS["shop"], TRACKERS["movies"]


def read(tracker, text, shown=(), earlier=()):
    state = DialogueState()
    for said in earlier:
        state = tracker.update(state, said)
    state.shown = list(shown)
    msg = tracker.read(state, text)
    return msg, tracker.apply(state, msg)


# -- a brand said by its first word -------------------------------------------------


@pytest.mark.parametrize(
    "text, key, want",
    [
        ("a tent, just nothing from Ridgeway", "excludes", {"brand": ["Ridgeway Gear"]}),
        ("earbuds but not kestrel please", "excludes", {"brand": ["Kestrel Audio"]}),
        ("headphones by Kestrel", "equals", {"brand": ["Kestrel Audio"]}),
    ],
)
def test_a_brand_is_known_by_its_first_word(text, key, want):
    _, after = read(SHOP, text)
    for facet, values in want.items():
        assert getattr(after, key).get(facet) == values


def test_a_first_word_the_catalog_uses_for_other_items_is_no_brand():
    # "orbit" is in a novel's title as well as in the brand Orbit Labs
    msg, _ = read(SHOP, "a novel about a space station orbit")
    assert not any(h.facet == "brand" for h, _ in msg.values)


# -- a field asked of an item described, not pointed at ---------------------------------

TWO_TENTS = ["out-001", "out-002"]


@pytest.mark.parametrize(
    "text, shown, targets, field",
    [
        # another version (colour) of a tent on screen
        ("is the orange version available?", TWO_TENTS, ["out-003"], "in_stock"),
        # the one item of the catalog that fits, nothing on screen
        ("what's the capacity of the slow cooker", [], ["kit-026"], "capacity_l"),
        ("what's the price of the Orbit Labs drone", [], ["el-018"], "price"),
        # capitalised words of a title: both editions of the book
        ("who is the author of Marrow Lane", [], ["bk-001", "bk-002"], "author"),
        ("number of pages in The Quiet Guests?", [], ["bk-004"], "pages"),
    ],
)
def test_a_field_asked_of_a_described_item_is_a_question(text, shown, targets, field):
    msg, _ = read(SHOP, text, shown)
    assert msg.intent == "question"
    assert sorted(msg.targets) == sorted(targets)
    assert field in msg.fields


@pytest.mark.parametrize(
    "text",
    ["any orange ones available?", "do you have an orange one in stock?", "how much is a drone?"],
)
def test_asking_for_items_of_a_kind_stays_a_request(text):
    msg, _ = read(SHOP, text, TWO_TENTS)
    assert msg.intent != "question"


def test_a_page_count_is_asked_in_other_words_too():
    from chat.understand.intents import attributes_asked

    assert attributes_asked("how long is it, page-wise", SHOP.fields) == ["pages"]


# -- the shop's service ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "when do you close on fridays?",
        "do you offer free shipping",
        "what's your return policy on shoes",
        "can you ship a tent to Ireland?",
        "where is my parcel, I ordered last week",
    ],
)
def test_questions_about_the_shop_are_off_topic_and_change_nothing(text):
    msg, after = read(SHOP, text, earlier=["a kettle"])
    assert msg.intent == "out_of_scope"
    assert after.equals == SHOP.update(DialogueState(), "a kettle").equals


# -- "in <colour>": that version of the thing, a filter ----------------------------------

KETTLES = ["kit-001", "kit-003", "kit-002"]


@pytest.mark.parametrize("text", ["do you have that in grey?", "same thing in a grey"])
def test_a_colour_after_in_filters(text):
    _, after = read(SHOP, text, KETTLES, earlier=["electric kettle"])
    assert "grey" in after.equals.get("color", [])


def test_a_colour_after_in_is_the_thing_in_any_shade_of_it():
    # kettles come in "matte black": "in black" means that one, and only kettles
    _, after = read(SHOP, "have you got one in black", KETTLES, earlier=["a tea kettle"])
    assert "matte black" in after.equals["color"]
    assert after.equals.get("tags") == ["kettle"]


def test_a_colour_before_the_thing_only_leans():
    _, after = read(SHOP, "a grey kettle")
    assert "color" not in after.equals and after.liked.get("color") == ["grey"]


# -- size and weight relative to what was shown ----------------------------------------

DAYPACKS = ["out-015", "out-016"]


def test_more_room_than_the_shown_ones_sets_a_floor_on_capacity():
    _, after = read(SHOP, "one with more room than these", DAYPACKS, earlier=["a daypack"])
    low, high = after.ranges["capacity_l"]
    assert low is not None and low > 28 and high is None


def test_lighter_sets_a_ceiling_on_weight():
    _, after = read(SHOP, "lighter please", TWO_TENTS, earlier=["a tent"])
    assert after.ranges["weight_kg"][1] is not None


def test_is_it_lighter_asks_for_the_weight():
    msg, after = read(SHOP, "is the first one lighter than the second?", TWO_TENTS)
    assert msg.intent == "question" and "weight_kg" in msg.fields
    assert "weight_kg" not in after.ranges


# -- saying they have no idea -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "my cousin is turning thirty and I have not a clue what to buy",
        "present for my boss, zero idea what she'd want",
    ],
)
def test_having_no_idea_is_no_detail_of_the_need(text):
    _, after = read(SHOP, text)
    assert not after.details and not need_known(after)


def test_the_llm_guess_of_a_kind_is_not_used_when_they_have_no_idea():
    state = DialogueState()
    text = "leaving do for a colleague, no clue what to get"
    says = {"intent": "shop", "item": 0, "thing": "kettle", "min_price": None, "max_price": None}
    msg = LLMReader(ScriptedLLM([json.dumps(says)])).improve(SHOP, state, SHOP.read(state, text))
    assert not any(h.value == "kettle" for h, _ in msg.values)


# -- asking for more is never small talk -------------------------------------------------


@pytest.mark.parametrize("text", ["what else?", "other suggestions?"])
def test_asking_for_more_while_items_are_shown_is_no_chat(text):
    state = DialogueState(shown=list(TWO_TENTS))
    says = {"intent": "chat", "item": 0, "thing": "", "min_price": None, "max_price": None}
    msg = LLMReader(ScriptedLLM([json.dumps(says)])).improve(SHOP, state, SHOP.read(state, text))
    assert msg.intent not in ("smalltalk", "out_of_scope")


# -- a title ruled out; "any good …?" ----------------------------------------------------


@pytest.mark.parametrize("text", ["thrillers, anything except Titanic", "romance but not Titanic"])
def test_a_negated_title_is_ruled_out_not_an_example(text):
    _, after = read(MOVIES, text)
    assert "m17" in after.disliked_ids and "m17" not in after.anchors


def test_any_good_films_is_a_request_and_is_it_any_good_a_question():
    assert read(MOVIES, "any good Halloween sequels?")[0].intent != "question"
    assert read(MOVIES, "is Titanic any good?")[0].intent == "question"


# -- figures while the reply streams -------------------------------------------------------


def test_a_figure_followed_by_a_point_may_still_grow():
    assert numbers("It costs $59.", partial=True) == []
    assert numbers("It costs $59. Great", partial=True) == [59.0]
    assert numbers("It costs $59.", partial=False) == [59.0]


# -- the kind of the thing asked for -----------------------------------------------------


def test_a_kind_said_before_a_thing_of_another_kind_describes_it():
    # "sports" is a kind of the shop, but sports earbuds are electronics
    _, after = read(SHOP, "sports earbuds for the gym")
    assert after.equals.get("category") == ["electronics"]


def test_the_first_word_of_a_pair_shares_the_noun_after_the_second():
    msg, after = read(SHOP, "board and card games for game night")
    assert ("tags", "board-game") in {(h.facet, h.value) for h, _ in msg.values}
    assert not any(h.value == "cutting-board" for h, _ in msg.values)
    assert after.equals.get("category") == ["toys"]


def test_a_head_noun_that_titles_other_things_too_is_no_compound():
    # a kneeling pad is titled a pad as well: "pad" alone is no cotton pad
    msg, after = read(SHOP, "a pad for my knees in the garden")
    assert not any(h.value == "cotton-pads" for h, _ in msg.values)
    assert after.equals.get("category") == ["garden"]
    assert read(SHOP, "some cotton pads")[1].equals.get("category") == ["beauty"]


def test_an_adjective_after_the_thing_ends_its_noun_phrase():
    msg, after = read(SHOP, "I need a tent large enough for six, nothing fancy")
    assert ("tags", "tent") in msg.head and after.equals.get("category") == ["outdoor"]


# -- a question after "and", "so"; a thing the shop does not sell -------------------------


@pytest.mark.parametrize(
    "text, field",
    [("and how heavy is it", "weight_kg"), ("so what does its battery give", "battery_hours")],
)
def test_a_question_led_by_a_conjunction_is_about_the_item_talked_about(text, field):
    state = DialogueState(shown=["el-003", "el-005", "el-004"])
    state.focus = "el-005"
    msg = SHOP.read(state, text)
    assert msg.intent == "question" and msg.targets == ["el-005"] and field in msg.fields


def test_a_thing_the_catalog_has_no_word_for_is_not_turned_into_a_request():
    state = DialogueState()
    text = "got any kayaks?"
    says = {"intent": "shop", "item": 0, "thing": "kayak", "min_price": None, "max_price": None}
    msg = LLMReader(ScriptedLLM([json.dumps(says)])).improve(SHOP, state, SHOP.read(state, text))
    assert msg.intent == "unclear"


# -- the thing in a long, chatty message ------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind",
    [
        (
            "We're hosting the in-laws with their kids this summer, chaos. "
            "What I actually need is a tent for a weekend away, nothing over 300.",
            "outdoor",
        ),
        (
            "I work from home most days and my wrists hurt. "
            "Thinking of a proper office chair with arm rests, under 400.",
            "office",
        ),
        (
            "Brr, the heating is broken again. I want a knitted throw blanket, nothing scratchy.",
            "home",
        ),
    ],
)
def test_the_thing_of_a_long_message_is_the_one_it_says_it_needs(text, kind):
    _, after = read(SHOP, text)
    assert after.equals.get("category") == [kind]


def test_words_taken_back_in_the_same_message_are_dropped():
    msg, after = read(SHOP, "a yoga mat, hmm no, forget that, a kettle for my office")
    assert not any(h.value in ("yoga", "mat") for h, _ in msg.values)
    assert after.equals.get("category") == ["kitchen"]
