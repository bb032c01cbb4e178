"""Merging the context's items into the fused list for the standard protocol
(eval/offline/repeats.py): odds learned from other turns, applied to a pool."""

from __future__ import annotations

import numpy as np

from eval.offline.repeats import EDGES, RepeatOdds
from eval.offline.turns import Turn


def _learned(repeat_share: float) -> RepeatOdds:
    # 100 turns naming items 1 and 2 (2 most recently); the gold item is item 2 in
    # `repeat_share` of them, else a new item the fusion ranked first
    turns, excl = [], {}
    for n in range(100):
        repeat = n < repeat_share * 100
        turns.append(Turn(str(n), 0, "", [1, 2], [[2] if repeat else [50 + n]], {}, recent=[2, 1]))
        excl[n] = [1_000 if repeat else 0]
    return RepeatOdds.learn(turns, excl, list(range(100)))


def test_odds_are_the_shares_seen_in_the_learning_turns():
    odds = _learned(0.3)
    assert np.isclose(odds.recent[0], 0.3) and odds.recent[1] == 0.0
    assert np.isclose(odds.fused[0], 0.7)  # rank 0 held the gold item in 70 of 100
    assert odds.fused[np.searchsorted(EDGES, 7, side="right") - 1] == 0.0


def test_a_mentioned_item_goes_where_its_odds_put_it_and_the_rest_keep_their_order():
    positions = np.array([10, 11, 12, 2, 1])
    fused = np.array([0.9, 0.8, 0.7, 0.95, 0.1])  # the fusion liked item 2, but it was named
    likely = _learned(0.8).scores(positions, fused, recent=[2, 1])
    assert positions[np.argsort(-likely)].tolist()[:2] == [2, 10]
    unlikely = _learned(0.05).scores(positions, fused, recent=[2, 1])
    # rank 0 held 95 % of the picks, so item 10 stays first; item 1 was never picked
    assert positions[np.argsort(-unlikely)].tolist() == [10, 2, 11, 12, 1]


def test_without_learning_turns_nothing_is_merged_ahead_of_the_fused_list():
    odds = RepeatOdds.learn([], {}, [])
    positions = np.array([10, 2])
    s = odds.scores(positions, np.array([0.5, 0.9]), recent=[2])
    assert s[0] > s[1]
