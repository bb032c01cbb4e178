"""The protocol rows of the turns reports (eval/offline/protocols.py): which
samples each protocol keeps, the repeat-the-context baseline, and the
bootstrap interval over dialogues."""

from __future__ import annotations

import numpy as np

from eval.offline.protocols import (
    bootstrap,
    per_sample,
    protocol_rows,
    repeat_ranks,
    samples_of,
)
from eval.offline.turns import Turn

N_ITEMS = 100


def _turns():
    # turn 0 repeats item 5, which the context named; turn 1 asks for item 9, never named
    return [
        Turn("a", 0, "", [3, 5], [[5], [7]], {}, recent=[5, 3]),
        Turn("b", 1, "", [], [[9]], {}),
    ]


def test_samples_say_which_gold_items_were_already_mentioned():
    samples = samples_of(_turns(), [0, 1], cold=frozenset({9}))
    assert [(s.turn, s.repeat, s.cold, s.no_history) for s in samples] == [
        (0, True, False, False),
        (0, False, False, False),
        (1, False, True, True),
    ]


def test_repeat_the_context_hits_only_repeats_and_nothing_when_they_are_excluded():
    turn = _turns()[0]
    assert repeat_ranks(turn, exclude=False, n_items=N_ITEMS) == [0, N_ITEMS]
    assert repeat_ranks(turn, exclude=True, n_items=N_ITEMS) == [N_ITEMS, N_ITEMS]
    older = Turn("a", 0, "", [3, 5], [[3]], {}, recent=[5, 3])
    assert repeat_ranks(older, exclude=False, n_items=N_ITEMS) == [1]  # most recent first


def test_protocols_keep_the_right_samples():
    samples = samples_of(_turns(), [0, 1], cold=frozenset())
    # the ranker finds the repeat when allowed and item 7 at rank 20, item 9 at rank 0
    rankers = {"r": {"incl": [0, 20, 0], "excl": [N_ITEMS, 20, 0]}}
    rows = {row["protocol"]: row for row in protocol_rows(samples, rankers)}
    assert (
        rows["standard"]["samples"] == 3 and rows["standard"]["figures"]["R@1"]["value"] == 0.6667
    )
    assert (
        rows["excluded"]["samples"] == 3 and rows["excluded"]["figures"]["R@1"]["value"] == 0.3333
    )
    assert rows["dropped"]["samples"] == 2 and rows["dropped"]["figures"]["R@1"]["value"] == 0.5
    assert rows["dropped"]["figures"]["R@50"]["value"] == 1.0
    only_cold = protocol_rows(samples, rankers, keep=lambda s: s.turn == 1)
    assert {r["samples"] for r in only_cold} == {1}


def test_per_sample_figures_have_known_values():
    values = per_sample(np.array([0, 9, 49, 50]))
    assert values[:, 0].tolist() == [1, 0, 0, 0]  # R@1
    assert values[:, 1].tolist() == [1, 1, 0, 0]  # R@10
    assert values[:, 2].tolist() == [1, 1, 1, 0]  # R@50
    assert np.allclose(values[:, 3], [1.0, 1 / np.log2(11), 0, 0])  # NDCG@10
    assert np.allclose(values[:, 4], [1, 1 / 10, 1 / 50, 1 / 51])  # MRR


def test_the_bootstrap_interval_holds_the_value_and_widens_when_dialogues_agree_within():
    rng = np.random.default_rng(1)
    hits = (rng.random(400) < 0.3).astype(float)
    values = per_sample(np.where(hits > 0, 0, 100))
    independent = bootstrap(values, [str(k) for k in range(400)])["R@10"]
    assert independent["low"] < independent["value"] < independent["high"]
    # the binomial standard error of a share of .3 over 400 samples is about .023
    assert 0.015 < independent["se"] < 0.031
    # the same outcomes, but each dialogue's 10 turns all hit or all miss
    clustered_hits = np.repeat(hits[:40], 10)
    clustered = bootstrap(
        per_sample(np.where(clustered_hits > 0, 0, 100)), [str(k // 10) for k in range(400)]
    )["R@10"]
    assert clustered["se"] > 2 * independent["se"]
