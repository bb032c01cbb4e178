"""The LLM's second reading (chat/understand/llm_reading.py): asked only when the
rules are unsure, and nothing it says is used without the catalog's or the
screen's backing. A scripted LLM plays the model, so every case is exact."""

from __future__ import annotations

import json

import pytest
from helpers.trackers import TRACKERS

from chat.llm import ModelBusy, ScriptedLLM
from chat.state import DialogueState
from chat.understand.llm_reading import LLMReader, parse, unsure

SHOP = TRACKERS["shop"]
TENTS = ["out-001", "out-002", "out-007"]


def answer(intent="shop", item=0, thing="", low=None, high=None) -> str:
    return json.dumps(
        {"intent": intent, "item": item, "thing": thing, "min_price": low, "max_price": high}
    )


def reading(text: str, llm_says: str, shown: list[str] | None = None):
    state = DialogueState(shown=list(shown or []))
    llm = ScriptedLLM([llm_says])
    msg = LLMReader(llm).improve(SHOP, state, SHOP.read(state, text))
    return msg, llm


@pytest.mark.parametrize(
    "text",
    [
        '{"intent": "shop"}',  # fields missing
        '{"intent": "buy", "item": 0, "thing": "", "min_price": null, "max_price": null}',
        '{"intent": "shop", "item": "two", "thing": "", "min_price": null, "max_price": null}',
        '{"intent": "shop", "item": 0, "thing": "", "min_price": "cheap", "max_price": null}',
        "Sure! The customer wants a tent.",
        "",
    ],
)
def test_an_answer_that_is_not_the_schema_is_no_reading(text):
    assert parse(text) is None


def test_a_reading_is_found_inside_chatter():
    got = parse("Here you go: " + answer("shop", 0, "tent", None, 150) + " Hope it helps")
    assert got is not None and (got.thing, got.max_price) == ("tent", 150.0)


@pytest.mark.parametrize(
    "text",
    [
        "a waterproof tent for two under $150",  # kind, values and price: all read
        "I like the second one",  # feedback by position
        "start over",
    ],
)
def test_a_complete_reading_does_not_ask_the_model(text):
    state = DialogueState(shown=TENTS)
    msg = SHOP.read(state, text)
    assert unsure(SHOP, state, msg) is None
    llm = ScriptedLLM([answer("off_topic")])
    assert LLMReader(llm).improve(SHOP, state, msg) is msg and llm.calls == []


def test_off_topic_is_taken_only_when_no_catalog_word_was_read():
    msg, _ = reading("what time do you open on sunday", answer("off_topic"))
    assert msg.intent == "out_of_scope"
    # the model calls a real request off-topic: the catalog words win
    msg, _ = reading("a board game for game night, 30 to 45", answer("off_topic"))
    assert msg.intent == "recommend"


def test_a_question_about_a_shown_item_needs_that_item_on_screen():
    msg, llm = reading("and how heavy is the roomier model?", answer("question", 2), TENTS)
    assert len(llm.calls) == 1
    assert (msg.intent, msg.targets) == ("question", ["out-002"])
    msg, _ = reading("and how heavy is the roomier model?", answer("question", 7), TENTS)
    # item 7 was never shown: the LLM's question is not taken, the rules' reading stands
    assert not any("used: a question" in note for note in msg.notes), msg.notes


def test_the_kind_and_the_price_are_read_again_by_the_rules():
    msg, _ = reading(
        "a board game for game night, 30 through 45", answer("shop", 0, "board game", 30, 45)
    )
    price = [(r.low, r.high) for r in msg.reading.ranges if r.facet == "price"]
    assert price == [(30.0, 45.0)]
    assert msg.text == "a board game for game night, 30 through 45"  # the user's words stay theirs
    assert any("between $30 and $45" in note for note in msg.notes)


def test_a_price_needs_a_number_in_the_message():
    msg, _ = reading("something for the garden", answer("shop", 0, "", None, 20))
    assert not msg.reading.ranges


def test_a_thing_that_is_not_catalog_vocabulary_is_dropped():
    msg, _ = reading("sumthing 4 my runs", answer("shop", 0, "spaceship"))
    assert not any(h.value == "spaceship" for h, _ in msg.values)
    assert any("nothing used" in note for note in msg.notes)


def test_a_broken_model_leaves_the_rules_reading():
    class Broken(ScriptedLLM):
        def complete_json(self, messages, schema, *, max_tokens=64):
            raise RuntimeError("engine crashed")

    state = DialogueState()
    before = SHOP.read(state, "a zorbic gizmo please")
    after = LLMReader(Broken()).improve(SHOP, state, SHOP.read(state, before.text))
    assert after.intent == before.intent
    assert any("no valid answer" in note for note in after.notes)


@pytest.mark.parametrize(
    "text", ["my aunt already owns everything, honestly", "it's our anniversary soon, ugh"]
)
def test_a_message_about_whom_a_present_is_for_is_not_taken_for_chat(text):
    msg, _ = reading(text, answer("chat"))
    assert msg.intent == "recommend"


def test_a_vague_request_the_rules_did_not_understand_is_asked_about():
    msg, _ = reading("no clue what to get my nephew for his graduation", answer("shop"))
    assert msg.intent == "recommend"


@pytest.mark.parametrize("text", ["recommend me something", "just surprise me", "asdfgh qwerty"])
def test_the_model_cannot_turn_a_cued_request_or_gibberish_off_topic(text):
    before = SHOP.read(DialogueState(), text)
    msg, _ = reading(text, answer("off_topic"))
    assert msg.intent == before.intent and msg.intent not in ("out_of_scope", "smalltalk")


def test_a_message_that_is_no_question_is_not_made_one():
    msg, _ = reading("no preference", answer("question", 1), TENTS)
    assert msg.intent != "question"


def test_a_request_in_the_catalogs_own_words_is_not_taken_off_topic():
    # no facet value is named, but cut / hedge / thick are words of the catalog's text
    msg, _ = reading("something to cut back the hedge and thick branches", answer("off_topic"))
    assert msg.intent == "recommend"


@pytest.mark.parametrize(
    "text, says, price",
    [
        ("a board game, 30 to 45", (30, 45), [(30.0, 45.0)]),
        ("a rake for under two hundred", (None, 200), [(None, 200.0)]),
        ("is the Aero 14 any good for a student", (None, 100), []),  # 100 is not in it
    ],
)
def test_a_price_must_be_written_in_the_message(text, says, price):
    msg, _ = reading(text, answer("shop", 0, "", *says))
    assert [(r.low, r.high) for r in msg.reading.ranges if r.facet == "price"] == price


def test_only_a_model_that_reads_well_is_asked(app):
    from chat.llm import registry

    assert app.session().llm_reader is not None
    app.llm.reads = False  # as the registry declares smollm2-135m
    assert app.session().llm_reader is None
    assert not registry.reads("smollm2-135m") and registry.reads("qwen2.5-coder-0.5b")


def test_a_busy_model_leaves_the_rules_reading():
    class Busy(ScriptedLLM):
        def complete_json(self, messages, schema, *, max_tokens=64):
            raise ModelBusy.waited("m", 4, 8.0)

    state = DialogueState()
    before = SHOP.read(state, "what is the tallest mountain in peru")
    after = LLMReader(Busy()).improve(SHOP, state, SHOP.read(state, before.text))
    assert after.intent == before.intent


@pytest.mark.parametrize(
    "text, language",
    [
        ("vorrei una lampada da scrivania economica", "it"),
        ("procuro um casaco impermeável para caminhadas", "pt"),
        ("ik zoek een waterdichte jas voor het wandelen", "nl"),
        ("je voudrais des écouteurs sans fil pour courir", "fr"),
        # English with typos, text-speak or a borrowed word stays English
        ("sum cheep earbudz 4 da gym pls", None),
        ("a piñata and some confetti for a fiesta", None),
        ("a horor film", None),
    ],
)
def test_a_message_in_another_latin_language_is_told_from_english(text, language):
    from chat.understand.language import latin_language

    assert latin_language(text) == language


def test_a_message_in_another_language_is_read_in_the_catalogs_english():
    # its words are mapped onto the catalog's English by the reader (foreign.py), not
    # corrected as typos; with a kind, a colour and a price read, the rules are sure
    # and the model is not asked (it would cost a generation and change nothing)
    text = "vorrei un bollitore elettrico rosso, massimo 60 euro"
    msg, llm = reading(text, answer("shop", 0, "red lamp", None, 60))
    state = SHOP.apply(DialogueState(), msg)
    assert not llm.calls and msg.written_in == "it"
    assert state.head.get("tags") == ["kettle"] and state.ranges["price"] == [None, 60.0]
    assert "red" in state.equals.get("color", []) + state.liked.get("color", [])
    assert "bollitore" not in state.query_text()


@pytest.mark.parametrize("text", ["a tent for 4 ppl", "a dinner set for 6 guests"])
def test_a_count_of_people_is_no_price_the_model_may_give(text):
    msg, _ = reading(text, answer("shop", 0, "", None, int(text.split()[-2])))
    assert not [r for r in msg.reading.ranges if r.facet == "price"]


def test_a_message_in_another_language_without_a_kind_still_asks_the_model():
    # the mapping found no kind of item: the rules are unsure, as in English
    msg, llm = reading("algo resistente en azul", answer("shop", 0, "", None, None))
    assert llm.calls and msg.written_in == "es"


def test_a_need_left_open_in_another_language_is_asked_about_without_the_model():
    msg, llm = reading(
        "no tengo idea qué regalarle a mi sobrino", answer("shop", 0, "", None, None)
    )
    assert not llm.calls and msg.vague and msg.written_in == "es"


def test_the_model_cannot_make_chat_of_what_the_learned_intents_call_a_request():
    msg, _ = reading("something to perch on by the campfire", answer("chat"))
    assert msg.learned.label == "request" and msg.intent == "recommend", msg.notes
