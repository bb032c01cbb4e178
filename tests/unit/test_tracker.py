"""The state tracker, as a table: utterance (after some earlier turns) → what the
state must hold. Two catalogs: the shipped demo shop and a small movie list
(tests/fixtures/movies_small.jsonl, ReDial field names), so nothing here is
written for one catalog. No store and no model: the tracker reads the items'
metadata only."""

from __future__ import annotations

import pytest
from helpers.trackers import SHOWN, TRACKERS, check_case, state_after

from chat.state import DialogueState

# (catalog, earlier messages, shown before this one, utterance, expectations)
CASES = [
    # --- categorical values, synonyms, plurals, misspellings ------------------------
    ("shop", [], None, "some toys please", {"equals": {"category": ["toys"]}}),
    ("shop", [], None, "a toy for my nephew", {"equals": {"category": ["toys"]}}),
    ("shop", [], None, "electornics under $60", {"equals": {"category": ["electronics"]}}),
    ("shop", [], None, "a new book", {"equals": {"category": ["books"]}}),
    ("shop", [], None, "kitchen stuff", {"equals": {"category": ["kitchen"]}}),
    # a kind said as a place or a use ("for my kitchen") is not the kind wanted: the
    # head noun's kind is, when all the items it names are of one kind
    ("shop", [], None, "a kettle for my kitchen", {"equals": {"category": ["kitchen"]}}),
    (
        "shop",
        [],
        None,
        "resistance bands to use in my office",
        {"equals": {"category": ["sports"]}},
    ),
    ("shop", [], None, "a hammock for our garden", {"equals": {"category": ["outdoor"]}}),
    # the kinds a head noun spans include the items whose title names it ("Desk Lamp"
    # has no tag "lamp"): "a chair" may be for the office or the campsite; the other
    # words of the request pick among them
    ("shop", [], None, "a chair", {"no_equals": ["category"]}),
    ("shop", [], None, "a lamp for the desk", {"equals": {"category": ["office"]}}),
    ("shop", [], None, "wireless earbuds", {"liked": {"tags": ["wireless", "earbuds"]}}),
    ("shop", [], None, "a dino toy", {"liked": {"tags": ["dinosaurs"]}}),
    ("shop", [], None, "dinosaur stuff", {"liked": {"tags": ["dinosaurs"]}}),
    ("shop", [], None, "a waterprof jacket", {"liked": {"tags": ["waterproof"]}}),
    ("shop", [], None, "a coffee grinder", {"liked": {"tags": ["coffee-grinder"]}}),
    ("shop", [], None, "noise canceling headphones", {"liked": {"tags": ["noise-cancelling"]}}),
    ("shop", [], None, "a cast iron pan", {"liked": {"tags": ["cast-iron"]}}),
    ("shop", [], None, "something from Kestrel Audio", {"equals": {"brand": ["Kestrel Audio"]}}),
    ("shop", [], None, "a book in Spanish", {"equals": {"language": ["Spanish"]}}),
    ("shop", [], None, "something in black", {"liked": {"color": ["black"]}}),
    ("shop", [], None, "a gift for my dad", {"liked": {"tags": ["gift"]}}),
    ("movies", [], None, "a scary movie", {"equals": {"genres": ["horror"]}}),
    ("movies", [], None, "a horor film", {"equals": {"genres": ["horror"]}}),
    ("movies", [], None, "something funny", {"equals": {"genres": ["comedy"]}}),
    ("movies", [], None, "a comdy", {"equals": {"genres": ["comedy"]}}),
    ("movies", [], None, "a sci fi movie", {"equals": {"genres": ["sci-fi"]}}),
    ("movies", [], None, "a cartoon for the kids", {"equals": {"genres": ["animation", "family"]}}),
    ("movies", [], None, "romantic films", {"equals": {"genres": ["romance"]}}),
    ("movies", [], None, "a thriller", {"equals": {"genres": ["thriller"]}}),
    ("movies", [], None, "horror or thriller", {"equals": {"genres": ["horror", "thriller"]}}),
    # --- numeric ranges -------------------------------------------------------------
    ("shop", [], None, "a tent under $150", {"ranges": {"price": [None, 150.0]}}),
    ("shop", [], None, "below 40 dollars", {"ranges": {"price": [None, 40.0]}}),
    ("shop", [], None, "30 bucks or less", {"ranges": {"price": [None, 30.0]}}),
    ("shop", [], None, "between 30 and 60 euros", {"ranges": {"price": [30.0, 60.0]}}),
    ("shop", [], None, "$30-$60", {"ranges": {"price": [30.0, 60.0]}}),
    ("shop", [], None, "from $20 to $45", {"ranges": {"price": [20.0, 45.0]}}),
    ("shop", [], None, "more than $100", {"ranges": {"price": [100.0, None]}}),
    ("shop", [], None, "at least 200 dollars", {"ranges": {"price": [200.0, None]}}),
    ("shop", [], None, "around $50", {"ranges": {"price": [40.0, 60.0]}}),
    ("shop", [], None, "my budget is $80", {"ranges": {"price": [None, 80.0]}}),
    ("shop", [], None, "toys for kids under 10", {"no_range": ["price"]}),
    ("shop", [], None, "a backpack under 5 kg", {"no_range": ["price"]}),
    ("shop", [], None, "speakers with 20+ hours of battery", {"no_range": ["price"]}),
    ("shop", [], None, "over 20 hours battery", {"ranges": {"battery_hours": [20.0, None]}}),
    ("shop", [], None, "at least 4 stars", {"ranges": {"rating": [4.0, None]}}),
    ("shop", [], None, "a puzzle with more than 500 pieces", {"ranges": {"pieces": [500.0, None]}}),
    ("shop", [], None, "cheap earbuds", {"price_level": "low", "range_high_at_most": 60.0}),
    ("shop", [], None, "an affordable tent", {"price_level": "low"}),
    ("shop", [], None, "a high-end tent", {"price_level": "high", "range_low_at_least": 139.0}),
    ("shop", [], None, "premium headphones", {"price_level": "high"}),
    ("shop", [], None, "a mid-range office chair", {"price_level": "mid"}),
    ("shop", [], None, "我想要100元以下的耳机", {"ranges": {"price": [None, 100.0]}}),
    ("movies", [], None, "something from the 90s", {"ranges": {"year": [1990, 1999]}}),
    ("movies", [], None, "an 80's movie", {"ranges": {"year": [1980, 1989]}}),
    ("movies", [], None, "films from the 1970s", {"ranges": {"year": [1970, 1979]}}),
    ("movies", [], None, "late nineties", {"ranges": {"year": [1995, 1999]}}),
    ("movies", [], None, "early 2000s", {"ranges": {"year": [2000, 2004]}}),
    ("movies", [], None, "made after 2010", {"ranges": {"year": [2011, None]}}),
    ("movies", [], None, "since 2010", {"ranges": {"year": [2010, None]}}),
    ("movies", [], None, "before 1980", {"ranges": {"year": [None, 1979]}}),
    ("movies", [], None, "2015 or later", {"ranges": {"year": [2015, None]}}),
    ("movies", [], None, "from 1994", {"ranges": {"year": [1994, 1994]}}),
    ("movies", [], None, "between 1990 and 2000", {"ranges": {"year": [1990, 2000]}}),
    ("movies", [], None, "something recent", {"ranges": {"year": [2010.0, None]}}),
    ("movies", [], None, "an old classic", {"ranges": {"year": [None, 1990.0]}}),
    (
        "movies",
        [],
        None,
        "90年代的恐怖片",
        {"ranges": {"year": [1990, 1999]}, "equals": {"genres": ["horror"]}},
    ),
    # --- negation: hard and soft ----------------------------------------------------
    ("movies", [], None, "not horror", {"excludes": {"genres": ["horror"]}}),
    (
        "movies",
        [],
        None,
        "no horror or thrillers",
        {"excludes": {"genres": ["horror", "thriller"]}},
    ),
    ("movies", [], None, "anything but a thriller", {"excludes": {"genres": ["thriller"]}}),
    (
        "movies",
        [],
        None,
        "a comedy without romance",
        {"equals": {"genres": ["comedy"]}, "excludes": {"genres": ["romance"]}},
    ),
    ("movies", [], None, "I don't like horror", {"excludes": {"genres": ["horror"]}}),
    ("movies", [], None, "I hate gore", {"avoid_terms": ["gore"]}),
    ("movies", [], None, "nothing with zombies", {"avoid_terms": ["zombie"]}),
    ("movies", [], None, "not too scary", {"no_excludes": ["genres"], "no_equals": ["genres"]}),
    (
        "movies",
        [],
        None,
        "no horror, but I like comedy",
        {"excludes": {"genres": ["horror"]}, "equals": {"genres": ["comedy"]}},
    ),
    ("movies", [], None, "不要恐怖片", {"excludes": {"genres": ["horror"]}}),
    ("shop", [], None, "no Kestrel Audio", {"excludes": {"brand": ["Kestrel Audio"]}}),
    (
        "shop",
        [],
        None,
        "headphones, not from Kestrel Audio",
        {"excludes": {"brand": ["Kestrel Audio"]}},
    ),
    (
        "shop",
        [],
        None,
        "a horror book, no gore",
        {"equals": {"category": ["books"]}, "excludes": {"tags": ["gory"]}},
    ),
    ("shop", [], None, "not waterproof", {"excludes": {"tags": ["waterproof"]}}),
    (
        "shop",
        [],
        None,
        "I hate plastic toys",
        {"avoid": {"material": ["plastic"]}, "equals": {"category": ["toys"]}},
    ),
    (
        "shop",
        ["a quiet coffee grinder"],
        None,
        "no blade grinders",
        {"excludes": {"tags": ["blade"]}, "no_avoid_terms": ["grinder"]},
    ),
    # --- later statements override; start over -------------------------------------
    (
        "movies",
        ["not horror"],
        None,
        "actually horror is fine",
        {"equals": {"genres": ["horror"]}, "no_excludes": ["genres"]},
    ),
    (
        "movies",
        ["a horror movie"],
        None,
        "no horror after all",
        {"excludes": {"genres": ["horror"]}, "no_equals": ["genres"]},
    ),
    ("movies", ["a horror movie"], None, "make it a comedy", {"equals": {"genres": ["comedy"]}}),
    (
        "movies",
        ["a horror movie"],
        None,
        "also comedy",
        {"equals": {"genres": ["horror", "comedy"]}},
    ),
    ("movies", ["from the 90s"], None, "after 2010 instead", {"ranges": {"year": [2011, None]}}),
    (
        "shop",
        ["a tent under $150"],
        None,
        "under $100 actually",
        {"ranges": {"price": [None, 100.0]}},
    ),
    ("shop", ["electronics under $60"], None, "over $100", {"ranges": {"price": [100.0, None]}}),
    ("shop", ["over $20"], None, "under $50", {"ranges": {"price": [20.0, 50.0]}}),
    (
        "shop",
        ["cheap earbuds"],
        None,
        "under $25",
        {"ranges": {"price": [None, 25.0]}, "price_level": None},
    ),
    (
        "shop",
        ["toys under $30"],
        None,
        "start over",
        {"intent": "reset", "no_equals": ["category"], "no_range": ["price"]},
    ),
    (
        "movies",
        ["a horror movie from the 90s"],
        None,
        "let's start again",
        {"intent": "reset", "no_equals": ["genres"]},
    ),
    ("movies", ["not horror"], None, "重新开始", {"intent": "reset", "no_excludes": ["genres"]}),
    # --- new topic: a different kind of item does not carry the old request ---------
    (
        "shop",
        ["wireless earbuds for running"],
        None,
        "now I need a tent for camping",
        {"new_topic": True, "query_lacks": "earbuds"},
    ),
    (
        "shop",
        ["toys under $30"],
        None,
        "electronics please",
        {"new_topic": True, "equals": {"category": ["electronics"]}, "no_range": ["price"]},
    ),
    (
        "shop",
        ["a quiet coffee grinder"],
        None,
        "a kettle for my kitchen",
        {"new_topic": True, "query_lacks": "grinder"},
    ),
    (
        "shop",
        ["wireless earbuds for running"],
        None,
        "under $50",
        {"new_topic": False, "query_has": "earbuds"},
    ),
    (
        "shop",
        ["wireless earbuds for running"],
        "earbuds",
        "something cheaper",
        {"new_topic": False, "range_high_at_most": 29.99},
    ),
    # --- titles as anchors and feedback ---------------------------------------------
    ("movies", [], None, "something like The Others", {"anchors": ["m01"]}),
    ("movies", [], None, "I loved Inception", {"liked_ids": ["m07"], "intent": "feedback"}),
    ("movies", [], None, "movies like Incepton", {"anchors": ["m07"]}),
    ("movies", [], None, "something like Halloween from 2018", {"anchors": ["m06"]}),
    ("movies", [], None, "like the original Halloween (1978)", {"anchors": ["m04"]}),
    ("movies", [], None, "I've already seen Alien", {"seen_ids": ["m02"]}),
    ("movies", [], None, "I hated Titanic", {"disliked_ids": ["m17"]}),
    ("movies", [], None, "a movie like Up", {"anchors": ["m13"]}),
    ("movies", [], None, "something different from the others", {"anchors": []}),
    ("movies", [], None, "a big movie night with friends", {"anchors": []}),
    ("movies", [], None, '"It" was great', {"liked_ids": ["m25"]}),
    (
        "movies",
        [],
        None,
        "I loved Alien but hated Aliens",
        {"liked_ids": ["m02"], "disliked_ids": ["m03"]},
    ),
    # --- references to the items just shown -----------------------------------------
    ("shop", [], "earbuds", "I like the second one", {"liked_ids": ["el-005"]}),
    ("shop", [], "earbuds", "not the first one", {"disliked_ids": ["el-003"]}),
    ("shop", [], "earbuds", "I already have the third one", {"seen_ids": ["el-004"]}),
    ("shop", [], "earbuds", "I don't like the cheaper one", {"disliked_ids": ["el-005"]}),
    ("shop", [], "earbuds", "I like the most expensive one", {"liked_ids": ["el-004"]}),
    ("shop", [], "earbuds", "the last one looks great", {"liked_ids": ["el-004"]}),
    ("shop", [], "earbuds", "I've seen them all", {"seen_ids": ["el-003", "el-005", "el-004"]}),
    ("shop", [], "earbuds", "I like number 2", {"liked_ids": ["el-005"]}),
    (
        "shop",
        [],
        "earbuds",
        "seen the first, but I like the second",
        {"seen_ids": ["el-003"], "liked_ids": ["el-005"]},
    ),
    (
        "shop",
        [],
        "earbuds",
        "how much is the second one?",
        {"intent": "question", "targets": ["el-005"]},
    ),
    (
        "shop",
        [],
        "earbuds",
        "is the third one waterproof?",
        {"intent": "question", "targets": ["el-004"]},
    ),
    ("shop", [], "earbuds", "the cheaper one", {"intent": "question", "targets": ["el-005"]}),
    # the shown item as the yardstick of a refinement, not the subject of a question
    (
        "shop",
        ["wireless earbuds"],
        "earbuds",
        "the third one is too pricey, anything cheaper?",
        {"intent": "refine", "range_high_at_most": 119.98, "query_lacks": "pricey"},
    ),
    (
        "shop",
        ["wireless earbuds"],
        "earbuds",
        "the first one is too expensive",
        {"intent": "refine", "range_high_at_most": 29.98},
    ),
    (
        "shop",
        ["wireless earbuds"],
        "earbuds",
        "is the third one cheaper than the first?",
        {"intent": "question", "targets": ["el-004", "el-003"], "no_range": ["price"]},
    ),
    ("shop", ["wireless earbuds"], None, "not too expensive please", {"price_level": "low"}),
    (
        "shop",
        ["wireless earbuds"],
        "earbuds",
        "is it cheaper than the others?",
        {"intent": "question", "no_range": ["price"]},
    ),
    (
        "shop",
        ["wireless earbuds"],
        "earbuds",
        "is there anything cheaper than the second one?",
        {"intent": "refine", "range_high_at_most": 14.98},
    ),
    (
        "movies",
        ["a horror movie"],
        "films",
        "the second one is too old, anything newer?",
        {"intent": "refine", "ranges": {"year": [1981, None]}},
    ),
    ("movies", [], None, "too much gore for me", {"no_range": ["year"]}),
    (
        "shop",
        ["wireless earbuds"],
        "earbuds",
        "something like the first one but cheaper",
        {"intent": "refine", "anchors": ["el-003"], "range_high_at_most": 29.98},
    ),
    ("movies", ["a horror movie"], "films", "more like the second one", {"anchors": ["m08"]}),
    ("shop", [], "earbuds", "I like the first one", {"liked_ids": ["el-003"], "anchors": []}),
    # the head noun names a kind of item when all the items it describes are of one kind
    ("shop", [], None, "a high-end office chair", {"equals": {"category": ["office"]}}),
    ("shop", [], None, "a tent for camping", {"equals": {"category": ["outdoor"]}}),
    ("shop", [], None, "an electric kettle for tea", {"equals": {"category": ["kitchen"]}}),
    ("shop", [], None, "something for running", {"no_equals": ["category"]}),
    (
        "shop",
        ["a tent for camping"],
        None,
        "wireless earbuds",
        {"new_topic": True, "equals": {"category": ["electronics"]}, "query_lacks": "tent"},
    ),
    (
        "shop",
        ["electronics under $60"],
        None,
        "something more expensive, over $100",
        {"ranges": {"price": [100.0, None]}},
    ),
    (
        "shop",
        [],
        "tents",
        "tell me more about the first one",
        {"intent": "question", "targets": ["out-001"]},
    ),
    ("shop", [], "two", "the third one", {"problem": "bad_reference"}),
    ("shop", [], "two", "I like the fourth one", {"problem": "bad_reference"}),
    ("shop", [], "earbuds", "I've seen it", {"problem": "ambiguous_reference"}),
    ("shop", [], None, "the second one", {"problem": "nothing_shown"}),
    ("movies", [], "films", "I've seen the second one", {"seen_ids": ["m08"]}),
    (
        "movies",
        [],
        "films",
        "who directed the first one?",
        {"intent": "question", "targets": ["m01"]},
    ),
    ("movies", [], "films", "第二个多少钱", {"intent": "question", "targets": ["m08"]}),
    (
        "movies",
        [],
        "films",
        "something else",
        {"intent": "refine", "passed": ["m01", "m08", "m24"]},
    ),
    # --- intents ----------------------------------------------------------------------
    # a greeting that opens a conversation: a request whose need is open (the policy asks)
    ("shop", [], None, "hi there", {"intent": "recommend", "vague": True}),
    ("shop", ["a kettle"], None, "hi there", {"intent": "smalltalk"}),
    ("shop", [], None, "thanks!", {"intent": "smalltalk"}),
    ("shop", [], None, "who are you?", {"intent": "smalltalk"}),
    ("shop", [], None, "what's the weather tomorrow?", {"intent": "out_of_scope"}),
    ("shop", [], None, "who won the election?", {"intent": "out_of_scope"}),
    ("shop", [], None, "what is 12*7?", {"intent": "out_of_scope"}),
    ("shop", [], None, "asdfgh qwerty", {"intent": "unclear"}),
    ("shop", [], None, "recommend me something", {"intent": "recommend"}),
    ("shop", [], None, "just surprise me", {"force": True}),
    ("shop", ["wireless earbuds"], None, "something cheaper", {"intent": "refine"}),
    ("movies", [], None, "你好", {"intent": "recommend", "vague": True, "language": "zh"}),
    (
        "movies",
        [],
        None,
        "推荐一部 sci-fi 电影",
        {"language": "zh", "equals": {"genres": ["sci-fi"]}},
    ),
    (
        "movies",
        [],
        None,
        "I want a 恐怖 movie please",
        {"language": "en", "equals": {"genres": ["horror"]}},
    ),
]


def _ids(case):
    return f"{case[0]}: {' / '.join(case[1])}{' → ' if case[1] else ''}{case[3]}"


def test_the_table_has_at_least_a_hundred_utterances():
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_utterance_to_state(case):
    check_case(case)


def test_a_reference_problem_changes_nothing_but_the_message_is_explained():
    tracker = TRACKERS["shop"]
    state = state_after(tracker, ["coffee grinders"], "two")
    msg = tracker.read(state, "the third one")
    assert msg.problem[0] == "bad_reference"
    assert "2 items" in msg.problem[1] and "1, 2" in msg.problem[1]


def test_cheap_is_relative_to_the_category():
    tracker = TRACKERS["shop"]
    cheap_laptop_range = tracker.update(DialogueState(), "a cheap laptop").ranges["price"]
    cheap_toy_range = tracker.update(DialogueState(), "cheap toys").ranges["price"]
    assert cheap_toy_range[1] < 60 < cheap_laptop_range[1]


def test_unsupported_script_is_detected():
    tracker = TRACKERS["shop"]
    assert tracker.read(DialogueState(), "Привет, как дела?").unsupported == "cyrillic"
    assert tracker.read(DialogueState(), "木製けん玉はありますか").unsupported is None


def test_a_superlative_at_the_very_end_asks_for_the_one_first_in_that_order():
    # "the cheapest" as the message's last words once crashed the reader; "just show me
    # the cheapest" asks for the cheapest match of the request, shown or not
    tracker = TRACKERS["shop"]
    state = tracker.update(DialogueState(), "wireless earbuds")
    state.shown = ["el-003", "el-005", "el-004"]
    msg = tracker.read(state, "just show me the cheapest")
    assert (msg.order, msg.order_limit, msg.refs) == (["price", "asc"], 1, [])
    assert msg.intent == "refine"
    # a question about the shown ones still points at the cheapest of them
    asked = tracker.read(state, "which is the cheapest?")
    cheapest = min(state.shown, key=lambda i: tracker.metas[i]["price"])
    assert [r.ids for r in asked.refs] == [(cheapest,)]


@pytest.mark.parametrize(
    "text",
    [
        "forget all that, I need a bike lock",
        "let's start over: a bike lock",
        "Forget everything. Bike lock please",
    ],
)
def test_a_reset_that_carries_a_request_serves_it(text):
    tracker = TRACKERS["shop"]
    before = tracker.update(DialogueState(), "a toy for a 5 year old under $40")
    msg = tracker.read(before, text)
    after = tracker.apply(before, msg)
    assert msg.intent == "recommend" and msg.reset
    assert after.ranges.get("price") in (None, [None, None])  # the old cap is gone
    assert "toys" not in after.equals.get("category", [])
    assert any("lock" in v for vs in after.liked.values() for v in vs)


def test_a_bare_reset_still_starts_over():
    tracker = TRACKERS["shop"]
    before = tracker.update(DialogueState(), "a toy under $40")
    msg = tracker.read(before, "let's start over")
    assert msg.intent == "reset" and tracker.apply(before, msg).ranges == {}


@pytest.mark.parametrize(
    "text",
    [
        "how does the 2nd compare to the third?",
        "what sets the first apart from the second one?",
        "is the third one any good?",
    ],
)
def test_a_question_that_points_at_shown_items_is_about_them(text):
    tracker = TRACKERS["shop"]
    state = tracker.update(DialogueState(), "wireless earbuds")
    state.shown = SHOWN["earbuds"]
    msg = tracker.read(state, text)
    assert msg.intent == "question" and msg.targets and set(msg.targets) <= set(state.shown)


@pytest.mark.parametrize(
    "text",
    ["can you show me something like the second one?", "anything like the first but cheaper?"],
)
def test_asking_for_more_like_a_shown_item_is_still_a_request(text):
    tracker = TRACKERS["shop"]
    state = tracker.update(DialogueState(), "wireless earbuds")
    state.shown = SHOWN["earbuds"]
    assert tracker.read(state, text).intent != "question"
