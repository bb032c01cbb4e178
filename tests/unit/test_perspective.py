"""chat/reply/perspective.py: the request as the copy prompts quote it, in the second
person, so a reply that copies it speaks to the customer ("for your mum")."""

from __future__ import annotations

import pytest

from chat.reply.perspective import second_person


@pytest.mark.parametrize(
    ("said", "quoted"),
    [
        ("a board game for me and my two nephews", "a board game for you and your two nephews"),
        ("I am after boots, mine fell apart", "You are after boots, yours fell apart"),
        ("we're redoing our kitchen", "you're redoing your kitchen"),
        ("I'm training for a half marathon", "You're training for a half marathon"),
        ("My sister loves tea", "Your sister loves tea"),
        ("shipping to the US for us", "shipping to the US for you"),
        ("a lamp for a myopic reader", "a lamp for a myopic reader"),  # whole words only
    ],
)
def test_the_speaker_becomes_you(said, quoted):
    assert second_person(said) == quoted


def test_other_languages_are_quoted_as_written():
    assert second_person("un regalo para mi madre", "es") == "un regalo para mi madre"
    assert second_person("I want tea", "zh") == "I want tea"


def test_the_copy_prompt_quotes_the_request_in_the_second_person():
    from helpers.cards import shop_card
    from helpers.trackers import TRACKERS

    from chat.llm import ScriptedLLM
    from chat.reply.copywriter import CopyWriter

    metas = TRACKERS["shop"].metas
    cards = [shop_card("kit-007", [])]
    llm = ScriptedLLM([": quiet enough for early mornings."], continues=True)
    list(CopyWriter(llm).write("a quiet grinder for my flat", cards, [metas["kit-007"]], "en"))
    prompt = llm.calls[0][-2]["content"]
    assert '"a quiet grinder for your flat"' in prompt and "my flat" not in prompt
