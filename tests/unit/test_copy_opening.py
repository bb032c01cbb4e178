"""The reply's opening, written by code: shown first, continued by a model that
continues a begun reply, judged by the checks with the rest, and the start of the
retry and the template too. The scripted fake continues like the local engines:
what it returns is the continuation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers.cards import shop_card
from helpers.trackers import TRACKERS

import prompts
from chat.events import ItemCard
from chat.llm import ModelError, ScriptedLLM
from chat.reply.claims import lead
from chat.reply.copycheck import CopyChecker
from chat.reply.copywriter import CopyWriter
from chat.reply.grounding import reply_checks
from chat.reply.opening import opening
from chat.reply.template import template_copy

METAS = TRACKERS["shop"].metas
CHECKER = CopyChecker(TRACKERS["shop"].titles)
# Whisper Burr Coffee Grinder $149, Hand Coffee Grinder with Ceramic Burr $39.99
CHOSEN = ["kit-007", "kit-010"]
REQUEST = "a quiet grinder"
GOOD = (
    ": it is quiet enough for early mornings, and the Hand Coffee Grinder with Ceramic "
    "Burr is a silent choice for $39.99."
)
BAD = " Conical Burr Grinder Pro is even quieter."  # an item that was not chosen


def card(item_id: str) -> ItemCard:
    return shop_card(item_id, [{"signal": "rating", "detail": f"{METAS[item_id]['rating']}/5"}])


CARDS = [card(i) for i in CHOSEN]
METAS_CHOSEN = [METAS[i] for i in CHOSEN]
TITLES = [c.title for c in CARDS]
OPENING = opening(REQUEST, CARDS[0].title, "en")


def write(llm: ScriptedLLM, language: str = "en"):
    writer = CopyWriter(llm, checker=CHECKER)
    pieces = list(writer.write(REQUEST, CARDS, [METAS[i] for i in CHOSEN], language))
    return writer, pieces


def test_the_opening_is_shown_before_the_model_is_asked():
    llm = ScriptedLLM([GOOD], continues=True)
    writer = CopyWriter(llm, checker=CHECKER)
    pieces = writer.write(REQUEST, CARDS, [METAS[i] for i in CHOSEN], "en")
    first = next(pieces)
    assert first.text == OPENING and not first.replace and llm.calls == []
    assert writer.last.first_text_s is not None  # the first words, at once
    rest = "".join(p.text for p in pieces)
    assert OPENING + rest == OPENING + GOOD == writer.last.text
    assert llm.calls[0][-1] == {"role": "assistant", "content": OPENING}
    assert lead(writer.last.text, TITLES) == CARDS[0].title
    assert writer.last.source == "llm" and not writer.last.replaced


def test_the_checks_judge_the_continuation_with_the_opening():
    llm = ScriptedLLM([BAD, GOOD], continues=True)
    writer, pieces = write(llm)
    shown = "".join(p.text for p in pieces)
    assert "Conical" not in shown and not any(p.replace for p in pieces)
    assert shown == OPENING + GOOD and writer.last.source == "retry"
    retry = llm.calls[1]
    assert retry[-1] == {"role": "assistant", "content": OPENING}  # the same start
    assert "Conical Burr Grinder Pro" in retry[-2]["content"]  # the problem, for the model


def test_the_template_goes_on_from_the_opening():
    writer, pieces = write(ScriptedLLM([BAD, BAD], continues=True))
    text = "".join(p.text for p in pieces)
    assert not any(p.replace for p in pieces) and writer.last.source == "template"
    assert text == template_copy(CARDS, "en", OPENING) == writer.last.text
    assert text.startswith(OPENING + " ($149.00)")


def test_nothing_after_the_opening_is_no_reply():
    llm = ScriptedLLM([""], continues=True)
    writer, pieces = write(llm)
    assert len(llm.calls) == 1 and writer.last.source == "template"  # no retry for nothing
    assert "".join(p.text for p in pieces).startswith(OPENING) and not writer.last.replaced


def test_words_shown_after_the_opening_are_replaced_by_a_checked_retry():
    late = ": it is quiet enough for early mornings, unlike the Conical Burr Grinder Pro."
    writer, pieces = write(ScriptedLLM([late, GOOD], continues=True))
    shown = "".join(p.text for p in pieces if not p.replace)
    assert len(shown) > len(OPENING) and "Conical" not in shown
    assert pieces[-1].replace and pieces[-1].text == OPENING + GOOD


def test_a_model_that_does_not_continue_gets_the_prompt_alone():
    whole = "The Whisper Burr Coffee Grinder is quiet enough for early mornings."
    llm = ScriptedLLM([whole])
    writer, pieces = write(llm)
    assert llm.calls[0][-1]["role"] == "user" and writer.last.text == whole


def test_a_backend_that_does_not_continue_refuses_a_begun_reply():
    begun = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello"}]
    with pytest.raises(ModelError, match="does not continue"):
        ScriptedLLM().complete(begun)
    assert ScriptedLLM([" there"], continues=True).complete(begun) == " there"


def test_chinese_starts_with_a_chinese_opening():
    rest = "：它很安静，适合清晨使用，价格是 $149.00。"
    writer, pieces = write(ScriptedLLM([rest], continues=True), "zh")
    zh = opening(REQUEST, CARDS[0].title, "zh")
    assert zh != OPENING and "".join(p.text for p in pieces) == zh + rest
    assert writer.last.source == "llm"


# --- the openers themselves ------------------------------------------------------------


OPENERS = prompts.settings("recommend")["openers"]


def test_openers_are_chosen_by_the_request_and_repeat_for_it():
    chosen = {opening(f"request {i}", "Two-Person Dome Tent", "en") for i in range(40)}
    assert len(chosen) == len(OPENERS["en"])  # a conversation does not open alike every turn
    assert opening("a tent", "X", "en") == opening("a tent", "X", "en")
    assert opening("a tent", "X", "fr") == ""  # no openers written: the model writes it all


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_opener_ends_with_the_title_and_passes_the_checks(language):
    writer = CopyWriter(ScriptedLLM(), checker=CHECKER)
    metas = [METAS[i] for i in CHOSEN]
    context = writer.prompt(REQUEST, CARDS, metas, language)[-1]["content"]
    grounds = writer.grounding(REQUEST, CARDS, metas)
    check, hold = reply_checks(CHECKER, set(CHOSEN), context, language, grounds)
    end = "。它很安静，适合清晨使用，也适合办公室。" if language == "zh" else ". It is quiet."
    for template in OPENERS[language]:
        start = prompts.fill("recommend", template, title=TITLES[0], the_title=f"the {TITLES[0]}")
        assert start.endswith(TITLES[0]), template
        assert check(start, partial=True) == [] and check(start + end, partial=False) == []


def test_a_title_with_its_own_article_gets_no_second_one():
    for i in range(8):
        start = opening(f"request {i}", "The Shining (1980)", "en")
        assert "the The" not in start and start.endswith("The Shining (1980)")


def test_the_title_of_a_work_is_a_name_and_a_product_takes_the():
    film = {"director": "Oliver Stone", "stars": ["Charlie Sheen"]}
    book = {"category": "books", "price": 19.99, "author": "Amara Obi"}
    for i in range(8):
        assert opening(f"request {i}", "Platoon (1986)", "en", film).endswith(" Platoon (1986)")
        assert " the Platoon" not in opening(f"request {i}", "Platoon (1986)", "en", film)
        start = opening(f"request {i}", "Children of the Seventh Ship", "en", book)
        assert start.endswith(" Children of the Seventh Ship") and " the Children" not in start
        assert opening(f"request {i}", "Wool Beanie", "en", {"category": "fashion"}).endswith(
            " the Wool Beanie"
        )
    films = [
        replace(card(i), title=t)
        for i, t in zip(CHOSEN, ("Platoon (1986)", "Heat (1995)"), strict=True)
    ]
    text = template_copy(films, "en", metas=[film, film])
    assert text.startswith("My pick is Platoon (1986)") and "look at Heat (1995)" in text
    assert "look at the Hand Coffee Grinder" in template_copy(CARDS, "en", metas=METAS_CHOSEN)


def test_same_titled_cards_are_named_apart_in_the_prompt_the_opening_and_the_template():
    twins = ["out-001", "out-002"]  # Two-Person Dome Tent, by Ridgeway Gear and by TrailMate
    cards = [replace(card(i), brand=METAS[i]["brand"]) for i in twins]
    metas = [METAS[i] for i in twins]
    llm = ScriptedLLM([": it is waterproof and sleeps two."], continues=True)
    writer = CopyWriter(llm, checker=CHECKER)
    text = "".join(p.text for p in writer.write("a tent for two", cards, metas, "en"))
    assert text.startswith(opening("a tent for two", "Two-Person Dome Tent (Ridgeway Gear)", "en"))
    assert writer.last.source == "llm", writer.last.problems
    prompt = llm.calls[0][-2]["content"]
    assert "Two-Person Dome Tent (Ridgeway Gear)" in prompt
    assert "Two-Person Dome Tent (TrailMate)" in prompt
    assert "the Two-Person Dome Tent (TrailMate) ($" in template_copy(cards, "en")
