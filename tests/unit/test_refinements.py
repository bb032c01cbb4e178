"""The operations on the shown list learned from examples (chat/understand/refinements.py,
prompts/refinements.yaml) on the real multilingual encoder: their direction from the
words, the model on messages written apart from its examples, and the reader taking
an operation only where the rules read nothing. (A turn that changes nothing gets no
second showing of the same cards: tests/e2e/test_list_meaning_e2e.py.)"""

from __future__ import annotations

import pytest

from chat.understand.intent_model import REFINEMENTS, load_examples, shared_refinement_model
from chat.understand.refinements import THRESHOLD, direction, operation

DAYPACKS = ["out-015", "out-016"]  # 20 l at $65, 28 l at $95
SPEAKERS = ["el-015", "el-016"]  # $59.99, $24.99


@pytest.mark.parametrize(
    "text, side",
    [
        ("anything that costs a bit less?", "lower"),
        ("less expensive ones", "lower"),  # "less" and its word, not "expensive"
        ("something more affordable", "lower"),
        ("these are too small for us", "higher"),  # a complaint: the other side
        ("not budget stuff, the proper ones", "higher"),
        ("the pricier one is out, way over budget", "lower"),  # "the pricier one" is an item
        ("more retro stuff, older releases", "lower"),
        ("from dearest to cheapest", "higher"),
        ("有没有便宜点的", "lower"),
        ("etwas Günstigeres?", "lower"),  # an inflected word of a side
        ("show me another", None),
    ],
)
def test_the_direction_comes_from_the_words(text, side):
    assert direction(text) == side


def test_a_sort_said_with_the_is_no_reference():
    assert direction("the priciest at the top", the_points=False) == "higher"
    assert direction("the priciest at the top") is None


def test_the_examples_cover_every_operation():
    examples = load_examples(name="refinements.yaml", labels=REFINEMENTS)
    assert set(examples) == set(REFINEMENTS)
    assert all(len(v) >= 8 for v in examples.values()), {k: len(v) for k, v in examples.items()}


def test_the_model_reads_operations_written_apart_from_its_examples():
    """tests/fixtures/refinements_check.yaml: 170 messages written by someone who had not
    seen prompts/refinements.yaml (130 operations, 40 others, one in five in another
    language). Measured when it was written: 102 operations taken, 97 right; the
    direction words were then mended for three of its misses, so it is a development
    set now (`recochat eval intents --refinements --check …`)."""
    from helpers.trackers import FIXTURES

    held = load_examples(str(FIXTURES / "refinements_check.yaml"), labels=REFINEMENTS)
    pairs = [(m, label) for label, ms in held.items() for m in ms]
    guesses = shared_refinement_model().guesses([m for m, _ in pairs])
    taken = [
        (m, label, op)
        for (m, label), g in zip(pairs, guesses, strict=True)
        for op, p in [operation(g, m)]
        if op != "other" and p >= THRESHOLD
    ]
    wrong = [t for t in taken if t[1] != t[2]]
    operations = sum(label != "other" for _, label in pairs)
    assert len(taken) >= 0.7 * operations and len(wrong) <= 0.08 * len(taken), wrong


def _read(text: str, shown: list[str], setup: str):
    from helpers.trackers import TRACKERS, shop_after

    tracker = TRACKERS["shop"]
    state = shop_after(setup, shown=shown)
    return tracker, state, tracker.read(state, text)


def test_a_larger_one_said_otherwise_compares_the_shown_measure():
    tracker, state, msg = _read("i need more capacity than the first one", DAYPACKS, "a daypack")
    assert [(c.facet, c.direction) for c in msg.reading.comparatives] == [("capacity_l", "higher")]
    new = tracker.apply(state, msg)
    assert new.ranges["capacity_l"][0] > 20


def test_a_cheaper_one_said_otherwise_is_below_the_one_pointed_at():
    tracker, state, msg = _read(
        "got something lower in price than the first?", SPEAKERS, "a speaker"
    )
    new = tracker.apply(state, msg)
    assert new.ranges["price"][1] < 59.99 and msg.intent == "refine"


@pytest.mark.parametrize(
    "text, order, limit",
    [
        ("put the crowd favourites at the front", ["rating", "desc"], None),
        ("keep only whichever costs the least", ["price", "asc"], 1),
    ],
)
def test_orders_said_otherwise(text, order, limit):
    _, _, msg = _read(text, SPEAKERS, "a speaker")
    assert (msg.order, msg.order_limit) == (order, limit)


def test_what_the_rules_read_is_left_to_them():
    _, _, msg = _read("under 40 please", SPEAKERS, "a speaker")
    assert not any(n.startswith("learned refinement") for n in msg.notes)
    _, _, msg = _read("is the first one waterproof?", SPEAKERS, "a speaker")
    assert msg.intent == "question" and not msg.reading.comparatives
