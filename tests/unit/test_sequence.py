"""SASRec on sequences with a deterministic next item."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.models.sequence import SASRec, SASRecConfig

ITEMS = 12


def cycles(n: int = 60, length: int = 9) -> list[list[int]]:
    """Each user walks the items in a fixed cycle (i -> i + 1) from a random start."""
    rng = np.random.default_rng(0)
    return [[(s + k) % ITEMS for k in range(length)] for s in rng.integers(0, ITEMS, n)]


@pytest.mark.parametrize("negatives", [0, 4])  # full softmax, sampled
def test_sasrec_learns_the_next_item(negatives):
    cfg = SASRecConfig(
        dim=16, layers=1, max_len=8, epochs=60, batch_size=16, lr=5e-3, negatives=negatives
    )
    ids = [f"i{n}" for n in range(ITEMS)]
    model = SASRec(cfg).fit(cycles(), ids)
    hits = [
        int(np.argmax(model.score(np.array([(s + k) % ITEMS for k in range(4)]))))
        for s in range(ITEMS)
    ]
    assert hits == [(s + 4) % ITEMS for s in range(ITEMS)]


def test_sasrec_round_trips_through_arrays():
    cfg = SASRecConfig(dim=8, layers=1, max_len=6, epochs=2, batch_size=16)
    ids = [f"i{n}" for n in range(ITEMS)]
    model = SASRec(cfg).fit(cycles(20), ids)
    again = SASRec.from_arrays(model.to_arrays(), ids)
    history = np.array([3, 4, 5])
    assert np.allclose(model.score(history), again.score(history), atol=1e-6)
    assert again.config == cfg
