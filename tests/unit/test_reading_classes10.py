"""Classes of the tenth round, each in wordings of its own (none taken from a dialogue
file): who does it names the activity; whom it is for leaves a need open; what most
people like, first; a shown item pointed at by a description and complained about; the
thing refused and another asked for; a value said "in" is no version of itself."""

from __future__ import annotations

import pytest

from chat.state import DialogueState


def _tracker():
    from helpers.trackers import TRACKERS

    return TRACKERS["shop"]


def _after(*texts: str, shown: list[str] | None = None) -> DialogueState:
    from helpers.trackers import shop_after

    return shop_after(*texts, shown=shown)


@pytest.mark.parametrize(
    ("word", "doers"),
    [("garden", ["gardener"]), ("running", ["runner"]), ("cycling", ["cyclist"]), ("yoga", [])],
)
def test_who_does_it(word, doers):
    from chat.understand.text import doers as who

    assert who(word) == doers


def test_who_does_it_names_the_activity_but_never_a_thing_sold():
    tracker = _tracker()
    assert _after("something nice for a keen gardener").equals.get("category") == ["garden"]
    assert "running" in _after("a treat for a runner").liked.get("tags", [])
    assert not tracker.lexicon.index.get(("cooker",), set()) & {("tags", "cooking")}


@pytest.mark.parametrize(
    "text",
    [
        "my niece has a baby shower soon, no clue what to get",  # "baby": a tag, and whom
        "it's for the kids' teacher, no idea what to buy",  # "kids": a tag, and whom
    ],
)
def test_whom_it_is_for_or_the_occasion_leaves_the_need_open(text):
    msg = _tracker().read(DialogueState(), text)
    assert msg.values and msg.vague


@pytest.mark.parametrize(
    "text",
    ["the ones customers rate best at the top please", "show the most popular first"],
)
def test_what_most_people_like_goes_first(text):
    from chat.understand.intents import order_asked

    asked = order_asked(text)
    assert asked is not None and asked[1:3] == ("rating", True)


@pytest.mark.parametrize("text", ["ok and is it in stock", "so and what does it cost"])
def test_two_openers_before_a_question(text):
    from chat.understand.intents import is_question

    assert is_question(text)


def test_a_shown_item_described_and_complained_about_is_disliked():
    tracker = _tracker()
    state = DialogueState()
    state.shown, state.request = ["hm-001", "hm-002"], ["a throw"]
    msg = tracker.read(state, "the slate coloured one looks a bit too gloomy")
    assert msg.feedback == [("hm-002", "dislike")]
    pricey = tracker.read(state, "the second one is too pricey, anything cheaper?")
    assert not pricey.feedback and pricey.reading.comparatives  # a refinement


def test_the_thing_refused_and_another_asked_for_starts_a_new_topic():
    state = _after("a soft pillow", "no, forget the pillow, what I want is a salad spinner")
    assert "pillow" not in state.head.get("tags", []) and "kit-030" not in state.blocked_ids()


def test_a_value_said_in_is_no_version_of_itself():
    state = _after("face cream for dry skin in winter")
    assert not state.equals.get("season") and not state.equals.get("tags")
