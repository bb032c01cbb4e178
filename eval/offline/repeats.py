"""The context's items merged into the fused list, for the standard protocol.

In the standard protocol (mentioned items not excluded) a recommender's pick that
the context already named counts: on ReDial 7 % of the samples are such repeats
(the recommender names again a movie under discussion), and the "repeat the
context" baseline gets them all within its top 10. The fusion is trained never to
pick a mentioned item (the product does not recommend what was already named), so
here the two lists are merged by their odds, each learned on other folds' ranked
turns: the chance that the gold item sits at each rank of the fused list (mentioned
items excluded), against the chance that it is the k-th most recently named item.
The excluded and dropped protocols are unchanged by the merge: they remove every
mentioned item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# rank bins of the fused list's odds: [0], [1], [2], [3, 5), … ; one rate per bin
EDGES = np.array([0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1_000_000])
RECENT = 5  # the k-th most recent mention for k < RECENT; older ones share one rate


@dataclass(frozen=True)
class RepeatOdds:
    fused: np.ndarray  # per bin of EDGES: chance per rank that the gold item is there
    recent: np.ndarray  # per recency k (the last entry for k ≥ RECENT - 1)

    @classmethod
    def learn(cls, turns, excl: dict[int, list[int]], learn_from: list[int]) -> RepeatOdds:
        """From the ranked turns `learn_from` (never the ones to merge): their gold
        ranks in the fused list without mentioned items, and their recency lists."""
        ranks = np.array([r for n in learn_from for r in excl[n]], dtype=np.int64)
        samples = max(1, len(ranks))
        counts = np.histogram(ranks, bins=EDGES)[0]
        fused = counts / samples / np.diff(EDGES)
        hits, eligible = np.zeros(RECENT), np.zeros(RECENT)
        for n in learn_from:
            t = turns[n]
            where = _recency(t.recent)
            for g in t.gold:
                eligible[: min(len(t.recent), RECENT)] += 1
                found = [where[p] for p in g if p in where]
                if found:
                    hits[min(found)] += 1
        return cls(fused, hits / np.maximum(eligible, 1))

    def scores(self, positions: np.ndarray, fused: np.ndarray, recent: list[int]) -> np.ndarray:
        """Each pool item's odds of being the pick: a mentioned item by its recency,
        any other by its rank in the fused order (mentioned items left out); at
        equal odds the fused order holds and a mentioned item comes after."""
        mentioned = _recency(recent)
        is_mentioned = np.array([p in mentioned for p in positions.tolist()], dtype=bool)
        order = np.lexsort((positions, -fused.astype(np.float64)))
        out = np.empty(len(positions), np.float64)
        rank = 0
        last = len(positions)
        for row in order.tolist():
            if is_mentioned[row]:
                out[row] = self.recent[mentioned[int(positions[row])]] - 1e-9 * last
            else:
                out[row] = self.fused[np.searchsorted(EDGES, rank, side="right") - 1]
                out[row] -= 1e-9 * rank
                rank += 1
        return out


def _recency(recent: list[int]) -> dict[int, int]:
    """Each named item's recency k (0: named last), capped at RECENT - 1."""
    return {p: min(k, RECENT - 1) for k, p in reversed(list(enumerate(recent)))}
