"""Classes of the seventh round, each with wordings of its own (none taken from a
dialogue file): questions about a shown item pointed at by the middle position, by a
colour's last word or by words of its name without "the", and asked after a comma or
a dash; role-play, weather and browsing; "scratch that"; orders said of "those" and
"the cheapest one only"."""

from __future__ import annotations

import pytest

from chat.state import DialogueState


def _shop():
    from helpers.trackers import TRACKERS

    return TRACKERS["shop"]


def _read(shown: list[str], text: str, catalog: str = "shop"):
    from helpers.trackers import TRACKERS

    state = DialogueState()
    state.shown = list(shown)
    return TRACKERS[catalog].read(state, text)


KETTLES = ["kit-001", "kit-003", "kit-002"]  # matte black, white travel, sage green
THROWS = ["hm-001", "hm-002"]  # oatmeal, slate grey
SPEAKERS = ["el-016", "el-015"]  # Boombox Mini, Boombox Go


# -- the item in the middle of an odd number of cards -----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "the middle one, how much is it",
        "what does the one in the middle cost?",
        "price of the one in the centre?",
    ],
)
def test_the_middle_card_of_three(text):
    msg = _read(KETTLES, text)
    assert msg.intent == "question" and msg.targets == ["kit-003"], (msg.intent, msg.targets)
    assert "price" in msg.fields


def test_no_middle_card_of_two():
    assert not [r for r in _read(THROWS, "the middle one please").refs if r.how == "ordinal"]


# -- a colour said by the last word of the item's colour -----------------------------


@pytest.mark.parametrize(
    "shown, text, target, field",
    [
        (KETTLES, "the green one - is it in stock?", "kit-002", "in_stock"),
        (KETTLES, "and the black one, what material is it", "kit-001", "material"),
        (THROWS, "the grey one: how big is it", "hm-002", "size"),
    ],
)
def test_a_colour_word_points_at_the_card_of_that_shade(shown, text, target, field):
    msg = _read(shown, text)
    assert msg.intent == "question" and msg.targets == [target], (msg.intent, msg.targets)
    assert field in msg.fields


# -- a question after something else was said -----------------------------------------


@pytest.mark.parametrize(
    "text, target",
    [
        ("ok the white one, how much is it", "kit-003"),
        ("hmm the black one — does it come in stock", "kit-001"),
        ("right, the travel one. what is the capacity", "kit-003"),
    ],
)
def test_a_question_after_a_comma_or_a_dash_is_asked(text, target):
    msg = _read(KETTLES, text)
    assert msg.intent == "question" and msg.targets == [target], (msg.intent, msg.targets)


def test_a_request_after_a_comma_is_still_a_request():
    msg = _read(KETTLES, "a cheaper kettle, do you have any?")
    assert msg.intent != "question"


# -- two words of a shown name, without "the", when a field is asked -------------------


@pytest.mark.parametrize(
    "shown, text, targets, field",
    [
        (SPEAKERS, "battery on boombox go?", ["el-015"], "battery_hours"),
        (SPEAKERS, "how many hours per charge for boombox mini", ["el-016"], "battery_hours"),
        (SPEAKERS, "boombox go vs the mini, which lasts longer", ["el-015", "el-016"], None),
        (["bk-022", "bk-029", "bk-015"], "page count of focused hour?", ["bk-029"], "pages"),
    ],
)
def test_words_of_a_shown_name_point_at_it_when_a_field_is_asked(shown, text, targets, field):
    msg = _read(shown, text)
    assert msg.intent == "question" and msg.targets == targets, (msg.intent, msg.targets)
    assert field is None or field in msg.fields


def test_catalog_words_of_a_name_alone_are_no_reference():
    # "bluetooth speaker" is a thing the shop has, not one of the cards named
    msg = _read(SPEAKERS, "is there a bluetooth speaker with a longer battery?")
    assert not [r for r in msg.refs if r.how == "name"]


# -- role-play, the weather, browsing -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "act as my uncle who knows all the discount codes",
        "you are a wizard now. cast a spell on my cart",
        "let's roleplay, you're the store manager",
        "do you think it will rain this weekend",
        "is it going to snow on friday?",
    ],
)
def test_role_play_and_the_weather_are_off_topic(text):
    assert _read(["hm-019"], text).intent == "out_of_scope"


@pytest.mark.parametrize(
    "text", ["only window shopping today", "having a look around", "just looking around, ta"]
)
def test_browsing_is_a_request_whose_need_is_unknown(text):
    msg = _read([], text)
    assert msg.intent == "recommend" and not msg.values, (msg.intent, msg.values)


@pytest.mark.parametrize("text", ["any film for a rainy sunday?", "a book for the plane"])
def test_a_film_or_book_noun_asks_for_items(text):
    assert _read([], text, "movies").intent == "recommend"


# -- resets and orders ----------------------------------------------------------------


def test_scratch_that_resets_and_keeps_the_new_request():
    msg = _read([], "scratch that, I want a yoga mat")
    assert msg.reset and msg.intent == "recommend"


@pytest.mark.parametrize(
    "text, field, way, limit",
    [
        ("sort these by price", "price", "asc", None),
        ("could you order the list by rating", "rating", "desc", None),
        ("give me the cheapest one only", "price", "asc", 1),
        ("the best rated alone please", "rating", "desc", 1),
    ],
)
def test_orders_said_of_the_list(text, field, way, limit):
    msg = _read(KETTLES, text)
    assert msg.order == [field, way] and msg.order_limit == limit, (msg.order, msg.order_limit)


# -- a shown price said back, "just the one" ------------------------------------------


@pytest.mark.parametrize("text", ["£899?? for a coffee maker", "899 bucks, you are joking"])
def test_a_shown_price_said_back_asks_for_cheaper(text):
    msg = _read(["kit-012"], text)
    assert not msg.reading.ranges and [c.direction for c in msg.reading.comparatives] == ["lower"]


def test_a_budget_said_with_a_limit_word_stays_a_budget():
    msg = _read(["kit-012"], "899 at most")
    assert msg.reading.ranges and not msg.reading.comparatives


@pytest.mark.parametrize(
    "text, field",
    [("your top rated blender - only one", "rating"), ("cheapest tent, just one", "price")],
)
def test_a_superlative_with_just_one_is_one_item(text, field):
    msg = _read([], text)
    assert msg.order[:1] == [field] and msg.order_limit == 1, (msg.order, msg.order_limit)


def test_anything_else_after_a_list_asks_for_more():
    assert _read(["bty-006", "bty-028"], "got anything else with that feel?").intent == "refine"


# -- a title in lower case at the end of a question about one of its fields ------------

FILMS = {
    "f1": {"title": "Copper Harbor", "year": 1994, "genres": ["drama"], "stars": ["Ana Lutz"]},
    "f2": {"title": "Velvet Tundra", "year": 2003, "genres": ["comedy"], "stars": ["Bo Kerr"]},
}


@pytest.mark.parametrize(
    "text, target, field",
    [
        ("who's in copper harbor?", "f1", "stars"),
        ("how old is velvet tundra", "f2", "year"),
    ],
)
def test_a_lower_case_title_ending_a_field_question_is_asked_about(text, target, field):
    from chat import StateTracker
    from retrieval.items.facets import discover_facets

    tracker = StateTracker(discover_facets(list(FILMS.values())), FILMS)
    msg = tracker.read(DialogueState(), text)
    assert msg.intent == "question" and msg.targets == [target] and field in msg.fields


# -- a long misspelt brand without a cue ------------------------------------------------


@pytest.mark.parametrize(
    "text, brand", [("a hearthwel kettle", "Hearthwell"), ("nestorra throw pls", "Nestora")]
)
def test_a_long_brand_one_edit_off_is_that_brand(text, brand):
    assert ("brand", brand, "+") in [(h.facet, h.value, p) for h, p in _read([], text).values]


def test_a_short_unknown_word_is_no_brand():
    assert not [h for h, _ in _read([], "a voltr speaker").values if h.facet == "brand"]


# -- a kind after "for" or "in" is where the thing is used -------------------------------


@pytest.mark.parametrize(
    "text, kind",
    [
        ("need a laser printer for home", "office"),
        ("a bluetooth speaker for the garden", "electronics"),
        ("a kettle in the office", "kitchen"),
    ],
)
def test_a_kind_after_for_is_a_use_when_the_thing_is_of_another_kind(text, kind):
    state = _shop().update(DialogueState(), text)
    assert state.equals.get("category") == [kind], state.equals


def test_a_kind_after_for_stays_when_the_thing_is_of_it():
    assert _shop().update(DialogueState(), "gloves for the garden").equals["category"] == ["garden"]


# -- a colour nothing in the catalog has is said to be missing ------------------------


@pytest.mark.parametrize(
    "first, then, colour",
    [
        ("an electric kettle", "got it in turquoise?", "turquoise"),
        ("a yoga mat", "a lilac one?", "lilac"),
        ("", "a magenta scarf", "magenta"),
    ],
)
def test_a_colour_the_catalog_never_has_is_a_missing_value(first, then, colour):
    tracker = _shop()
    state = tracker.update(DialogueState(), first) if first else DialogueState()
    msg = tracker.read(state, then)
    assert msg.intent == "problem" and msg.problem and colour in msg.problem[1], msg.problem


@pytest.mark.parametrize(
    "first, then", [("an electric kettle", "in green?"), ("a lamp", "not turquoise")]
)
def test_a_colour_the_catalog_has_or_a_colour_ruled_out_is_no_problem(first, then):
    tracker = _shop()
    assert tracker.read(tracker.update(DialogueState(), first), then).problem is None


# -- the model may not take a browsing or a film/book message away from shopping -------


@pytest.mark.parametrize(
    "text", ["only window shopping today", "a book for the plane?", "having a look around"]
)
def test_the_model_cannot_make_a_shopping_cue_small_talk(text):
    import json

    from chat.llm import ScriptedLLM
    from chat.understand.llm_reading import LLMReader

    said = {"intent": "chat", "item": 0, "thing": "", "min_price": None, "max_price": None}
    tracker = _shop()
    state = DialogueState()
    msg = LLMReader(ScriptedLLM([json.dumps(said)])).improve(
        tracker, state, tracker.read(state, text)
    )
    assert msg.intent == "recommend", msg.notes


@pytest.mark.parametrize("text", ["yoga mats pls", "yoga mats under 40", "got any yoga mats?"])
def test_the_first_words_of_several_titles_that_are_catalog_words_name_a_kind(text):
    # "Yoga Mat 4mm", "Yoga Mat 6mm", "Yoga Mat 8mm": "yoga mats" is the kind, not a series
    msg = _read([], text)
    assert msg.intent == "recommend" and ("tags", "mat") in msg.head and not msg.titles
