"""Readings of the fifteenth round (blind split 14 as its development set), in wordings
of their own: a shown item named by its size with the unit said in words, and a bound
word after a comma. (The round's mechanisms: tests/unit/test_refinements.py.)"""

from __future__ import annotations

import pytest
from helpers.trackers import TRACKERS, shop_after

HOSES = ["gdn-002", "gdn-001"]  # Kink-Free Garden Hose 30m, 15m
KETTLES = ["kit-001", "kit-003"]  # Electric Kettle 1.7L, Compact Travel Kettle 0.8L


@pytest.mark.parametrize(
    ("text", "shown", "item"),
    [
        ("what's the price of the 30 metre one?", HOSES, "gdn-002"),
        ("is the 15 metre one in stock?", HOSES, "gdn-001"),
        ("how heavy is the 0.8 litre one", KETTLES, "kit-003"),
    ],
)
def test_a_shown_item_named_by_its_size_in_words(text, shown, item):
    msg = TRACKERS["shop"].read(shop_after("something", shown=shown), text)
    assert msg.intent == "question" and msg.targets == [item], (msg.intent, msg.targets)


@pytest.mark.parametrize("text", ["keep it to ninety, max", "75, tops", "a hundred, at most"])
def test_a_bound_word_after_a_comma(text):
    msg = TRACKERS["shop"].read(shop_after("a kettle"), text)
    assert [(r.facet, r.low is None, r.high is not None) for r in msg.reading.ranges] == [
        ("price", True, True)
    ], msg.reading.ranges


TENTS = ["out-001", "out-007"]  # Two-Person Dome Tent 2.4 kg, Backpacker 3 Tent 2.8 kg
SETS = ["toy-001", "toy-010"]  # 250 and 620 pieces


@pytest.mark.parametrize(
    ("text", "shown", "facet", "side"),
    [
        ("my knees are bad, one that weighs less than the first?", TENTS, "weight_kg", "lower"),
        ("a set with more pieces than the first one", SETS, "pieces", "higher"),
        ("fewer pieces please, he's only four", SETS, "pieces", "lower"),
        (
            "a pack that holds more litres than the first",
            ["out-015", "out-016"],
            "capacity_l",
            "higher",
        ),
    ],
)
def test_a_comparative_next_to_a_measure_compares_that_measure(text, shown, facet, side):
    tracker = TRACKERS["shop"]
    state = shop_after("something", shown=shown)
    msg = tracker.read(state, text)
    assert [(c.facet, c.direction) for c in msg.reading.comparatives] == [(facet, side)]
    low, high = tracker.apply(state, msg).ranges[facet]
    first = tracker.metas[shown[0]][facet]
    assert (high is not None and high < first) if side == "lower" else (low is not None)
