"""Grounded copy: the checks in code (names, numbers, language), streaming a few
words behind with a replacement when a check fails, one corrective retry, then
the template. The fake LLM is scripted, so every path is exercised exactly."""

from __future__ import annotations

import pytest
from helpers.cards import shop_card
from helpers.trackers import TRACKERS

import prompts
from chat.events import ItemCard
from chat.llm import ModelBusy, ScriptedLLM
from chat.reply.claims import lead
from chat.reply.copycheck import CopyChecker, numbers
from chat.reply.copywriter import CopyWriter
from chat.reply.opening import opening

METAS = TRACKERS["shop"].metas
CHECKER = CopyChecker(TRACKERS["shop"].titles)


def card(item_id: str) -> ItemCard:
    return shop_card(item_id)


CHOSEN = ["kit-007", "kit-010"]  # Whisper Burr Coffee Grinder $149, Hand Coffee Grinder $39.99
CARDS = [card(i) for i in CHOSEN]
CONTEXT = "\n".join(
    f"{c.title} — ${c.price} rating {c.rating} ({c.rating_count} ratings)" for c in CARDS
)


def check(text, language="en", partial=False):
    return CHECKER.check(
        text,
        allowed_ids=set(CHOSEN),
        context=CONTEXT,
        count=len(CHOSEN),
        language=language,
        partial=partial,
    )


def test_a_faithful_reply_passes():
    assert (
        check(
            "The Whisper Burr Coffee Grinder is quiet; the Hand Coffee Grinder with Ceramic Burr costs $39.99."
        )
        == []
    )


def test_naming_an_item_that_was_not_chosen_fails():
    problems = check("Try the Whisper Burr Coffee Grinder or the Conical Burr Grinder Pro.")
    assert [p.kind for p in problems] == ["unknown_item"]
    assert "Conical Burr Grinder Pro" in problems[0].detail


def test_a_title_shared_with_a_chosen_item_is_not_a_hallucination():
    checker_ids = {"el-003"}  # three items are called "Sport Wireless Earbuds"
    problems = CHECKER.check(
        "The Sport Wireless Earbuds are great.",
        allowed_ids=checker_ids,
        context="",
        count=1,
        language="en",
    )
    assert problems == []


def test_a_title_the_prompt_itself_names_may_be_repeated():
    problems = CHECKER.check(
        "Like the Conical Burr Grinder Pro you liked, this one is quiet.",
        allowed_ids=set(CHOSEN),
        context="similar to Conical Burr Grinder Pro, which you liked",
        count=2,
        language="en",
    )
    assert problems == []


@pytest.mark.parametrize(
    "text, ok",
    [
        ("It costs $149.00.", True),
        ("It costs $149.", True),
        ("About $40 for the hand grinder.", True),  # $39.99 rounded
        ("It costs $129.", False),
        ("Rated 4.7 by 2,860 people.", True),
        ("Rated 4.9 stars.", False),
        ("Both 2 picks are great.", True),  # counting the items
        ("It runs for 80 hours.", False),
    ],
)
def test_numbers_must_come_from_the_facts(text, ok):
    assert (not [p for p in check(text) if p.kind == "number"]) is ok, check(text)


def test_partial_text_does_not_judge_a_number_still_being_written():
    assert numbers("It costs $24", partial=True) == []
    assert check("It costs $14", partial=True) == []
    assert check("It costs $14 and", partial=True)


def test_the_reply_must_be_in_the_users_language():
    assert [p.kind for p in check("The Whisper Burr Coffee Grinder is quiet.", "zh")] == [
        "language"
    ]
    assert check("Whisper Burr Coffee Grinder 非常安静，适合早上使用。", "zh") == []
    assert [p.kind for p in check("这个磨豆机非常安静，适合早上使用。", "en")] == ["language"]


# --- the writer: streaming, retry, template -------------------------------------------


REQUEST = "a quiet grinder"
TITLES = [c.title for c in CARDS]


def write(llm, language="en"):
    writer = CopyWriter(llm, checker=CHECKER)
    pieces = list(writer.write(REQUEST, CARDS, [METAS[i] for i in CHOSEN], language))
    return writer, pieces


GOOD = "The Whisper Burr Coffee Grinder is quiet enough for early mornings, and the Hand Coffee Grinder with Ceramic Burr is a silent choice for $39.99."
BAD = "You could also get the Conical Burr Grinder Pro, which is even quieter than the Whisper Burr Coffee Grinder."


def test_good_copy_streams_and_is_kept():
    writer, pieces = write(ScriptedLLM([GOOD]))
    assert len(pieces) > 3 and not any(p.replace for p in pieces)
    assert "".join(p.text for p in pieces) == GOOD
    assert writer.last.source == "llm" and writer.last.first_token_s is not None


def test_a_hallucinated_item_is_never_shown_and_the_good_sentences_before_it_stay():
    llm = ScriptedLLM([GOOD + " " + BAD, "never asked"])
    writer, pieces = write(llm)
    assert "Conical" not in "".join(p.text for p in pieces)  # held back, caught, never streamed
    assert writer.last.text == GOOD and writer.last.source == "llm" and writer.last.trimmed
    assert len(llm.calls) == 1  # no retry: the model's checked sentences are the reply
    assert any("Conical Burr Grinder Pro" in p for p in writer.last.problems)


def test_a_figure_the_facts_lack_is_cut_off_with_its_sentence():
    # the words before the figure were already shown: the kept sentences replace them
    llm = ScriptedLLM([GOOD + " It also has 17 grind settings for any brew.", "never asked"])
    writer, pieces = write(llm)
    screen = ""
    for p in pieces:
        screen = p.text if p.replace else screen + p.text
    assert screen == GOOD and "17" not in "".join(p.text for p in pieces)
    assert writer.last.trimmed and writer.last.replaced and len(llm.calls) == 1


def test_a_hallucinated_item_is_never_shown_and_the_retry_replaces_the_copy():
    # no whole sentence before the wrong name: nothing of the first draft is kept
    first = "The Whisper Burr Coffee Grinder is quiet, unlike the Conical Burr Grinder Pro."
    llm = ScriptedLLM([first, GOOD])
    writer, pieces = write(llm)
    shown = "".join(p.text for p in pieces if not p.replace)
    assert "Conical" not in shown  # held back, caught, never streamed
    assert pieces[-1].replace and pieces[-1].text == GOOD
    assert writer.last.source == "retry" and writer.last.replaced
    retry_prompt = llm.calls[1][-1]["content"]
    assert (
        "Conical Burr Grinder Pro" in retry_prompt and "not one of the listed items" in retry_prompt
    )


def test_two_bad_attempts_fall_back_to_the_template():
    writer, pieces = write(ScriptedLLM([BAD, BAD]))
    final = pieces[-1].text
    assert final.startswith(opening(REQUEST, CARDS[0].title, "en"))
    assert all(c.title in final for c in CARDS)
    assert writer.last.source == "template" and len(writer.last.problems) == 2


def test_a_bad_start_is_retried_before_anything_is_shown():
    writer, pieces = write(ScriptedLLM(["Conical Burr Grinder Pro!", GOOD]))
    assert not any(p.replace for p in pieces) and "".join(p.text for p in pieces) == GOOD


def test_a_model_that_writes_only_english_is_not_asked_for_chinese():
    llm = ScriptedLLM([GOOD], languages=("en",))  # declared, as the registry does for SmolLM2
    writer, pieces = write(llm, "zh")
    assert llm.calls == [] and writer.last.source == "template"
    assert "".join(p.text for p in pieces).startswith(opening(REQUEST, CARDS[0].title, "zh"))


def test_a_failing_model_gives_the_template():
    def boom(messages):
        raise RuntimeError("down")

    writer, pieces = write(ScriptedLLM(fn=boom))
    assert writer.last.source == "template" and len(pieces) > 3
    assert lead("".join(p.text for p in pieces), TITLES) == CARDS[0].title


def test_plain_words_are_shown_as_soon_as_the_next_one_arrives():
    writer, pieces = write(ScriptedLLM(["Both picks are quiet and easy to clean. " + GOOD]))
    assert pieces[0].text == "Both" and pieces[1].text == " picks"
    assert writer.last.first_text_s is not None


@pytest.mark.parametrize(
    "text, held",
    [
        ("You will like it", "it"),  # the last word may still grow
        ("It costs $14", "$14"),  # "$14" may become "$14.99"
        ("I suggest the Whisper Burr", "Whisper Burr"),  # the start of a title
        ("I suggest the Whisper Burr Coffee Grinder", "Whisper Burr Coffee Grinder"),
        ("It is quiet. It is quiet", "It is quiet"),  # a sentence said again, so far
        ("It is quiet. It has a burr", "burr"),
        ("Here is why it", "why it"),  # "why it fits" echoes the prompt
        ("这款磨豆机很安静，适合早上", "适合早上"),  # Chinese: up to its last comma
    ],
)
def test_only_words_the_check_cannot_judge_yet_are_held_back(text, held):
    assert text[CHECKER.hold_from(text) :] == held


def test_a_title_is_released_only_once_it_is_complete_and_checked():
    writer, pieces = write(ScriptedLLM([GOOD]))
    shown = ""
    for p in pieces:
        shown += p.text
        if "Whisper" in shown:
            assert "Whisper Burr Coffee Grinder" in shown
            break


def test_a_failed_first_attempt_streams_its_retry():
    llm = ScriptedLLM(["Conical Burr Grinder Pro!", GOOD])
    writer, pieces = write(llm)
    assert len(pieces) > 3 and not any(p.replace for p in pieces)
    assert writer.last.source == "retry" and writer.last.first_text_s is not None


def test_the_fix_prompt_renders_strictly():
    msgs = prompts.render(
        "recommend_fix",
        request="r",
        items=[{"title": "T", "price": None, "facts": "f", "reasons": "w"}],
        language="en",
        problems=["p"],
    )
    assert "- p" in msgs[1]["content"] and "1. T" in msgs[1]["content"]
    with pytest.raises(prompts.PromptError, match="needs a variable"):
        prompts.render("recommend_fix", request="r", items=[], language="en")


def test_borrowing_the_prompts_worked_example_is_rejected():
    borrowed = "The Whisper Burr Coffee Grinder is a great beanie from Northfell."
    writer, pieces = write(ScriptedLLM([borrowed, GOOD]))
    assert "".join(p.text for p in pieces if not p.replace).find("Northfell") == -1
    assert writer.last.source == "retry" and "not a fact" in writer.last.problems[0]


def test_a_reply_that_starts_looping_keeps_its_whole_good_sentences():
    first = "The Whisper Burr Coffee Grinder is quiet enough for early mornings."
    loop = " It is a great choice for you. It is a great choice for you. It is a great choice"
    writer, pieces = write(ScriptedLLM([first + loop, GOOD]))
    text = "".join(p.text for p in pieces).strip()
    assert text == first + " It is a great choice for you."
    assert writer.last.source == "llm" and not any(p.replace for p in pieces)


def test_a_reply_that_echoes_the_prompt_keeps_what_came_before():
    first = "The Whisper Burr Coffee Grinder is quiet enough for early mornings."
    writer, pieces = write(ScriptedLLM([first + " Why it fits: matches coffee", GOOD]))
    assert "".join(p.text for p in pieces).strip() == first and writer.last.source == "llm"


def test_a_reply_that_goes_wrong_at_once_is_retried():
    writer, pieces = write(
        ScriptedLLM(["Why it fits: matches: coffee. Why it fits: matches", GOOD])
    )
    assert "".join(p.text for p in pieces) == GOOD and writer.last.source == "retry"


def test_ordinary_words_that_are_also_a_title_are_not_an_item():
    from chat.understand.references import TitleIndex

    checker = CopyChecker(
        TitleIndex(
            {
                "c": {"title": "The Comedy (2012)"},
                "p": {"title": "The Perfect Match (2016)"},
                "h": {"title": "Hand Coffee Grinder with Ceramic Burr"},
            }
        )
    )

    def named(text):
        return [said for _, said in checker.named_items(text)]

    assert named("If you want the comedy, this is the perfect match for you.") == []
    assert named("Try The Comedy or The Perfect Match.") == ["The Comedy", "The Perfect Match"]
    assert named("the hand coffee grinder with ceramic burr is quiet") == [
        "hand coffee grinder with ceramic burr"
    ]


def test_an_english_start_of_a_chinese_reply_is_stopped_before_it_is_shown():
    english = "I would pick the Whisper Burr Coffee Grinder because it is quiet and well rated by many buyers."
    chinese = "Whisper Burr Coffee Grinder 非常安静，适合早上使用，评分也很高。"
    llm = ScriptedLLM([english, chinese])
    writer, pieces = write(llm, "zh")
    assert not any(p.replace for p in pieces) and "pick" not in "".join(p.text for p in pieces)
    assert "".join(p.text for p in pieces).strip() == chinese
    assert writer.last.source == "retry" and "Chinese" in writer.last.problems[0]
    assert len(llm.calls[0]) and writer.last.first_text_s is not None


def test_three_items_in_the_same_phrasing_are_no_loop_but_a_loop_is():
    from chat.reply.copycheck import repetitive

    listing = (
        "The Whisper Burr Coffee Grinder: it matches what you asked for (quiet, coffee). "
        "The Hand Coffee Grinder: it matches what you asked for (manual, coffee). "
        "The Blade Coffee Grinder: it matches what you asked for (cheap, coffee)."
    )
    assert not repetitive(listing)
    assert repetitive("It is quiet and it is quiet and it is quiet and it is quiet and it is")
    assert repetitive("It is quiet enough. It is very good. It is quiet enough.")
    looping = "it matches what you asked for and buyers rate it well, " * 3
    assert repetitive(looping)


def test_a_busy_model_gives_the_template_at_once_without_a_retry():
    def busy(messages):
        raise ModelBusy.waited("m", 4, 8.0)

    llm = ScriptedLLM(fn=busy)
    writer, pieces = write(llm)
    assert writer.last.source == "template" and len(llm.calls) == 1
    assert "busy" in writer.last.problems[0]
    assert lead("".join(p.text for p in pieces), TITLES) == CARDS[0].title
