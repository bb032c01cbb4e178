"""Which turns learn and which are ranked: the split plan of `recochat eval turns`.

Turns belong to folds by a hash of their dialog id, so a dialogue never sits on
both sides. Two modes, one rule:

- cross-validation (one turns file): every fold is ranked by models learned
  from the other folds;
- a split (`--train FILE`, or `--holdout-fold K` of one file): the test turns
  (fold TEST) are ranked by models learned from every training fold, and the
  training folds are also cross-validated among themselves, so a report shows
  the development figure and the figure on turns no choice ever saw side by side.

The fusion for a ranked fold is learned from training lists of the other
training folds, each featurised by models that excluded both folds (nested), and
the test turns never reach any model: every variant excludes TEST.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

TEST = -1  # the fold of the test turns in a split


@dataclass(frozen=True)
class Split:
    cv_folds: tuple[int, ...]  # training folds ranked by cross-validation
    test: bool  # whether test turns are ranked by models of all training folds

    @property
    def scored(self) -> list[int]:
        return [*self.cv_folds, TEST] if self.test else list(self.cv_folds)

    def ranking(self, fold: int) -> frozenset[int]:
        """Folds excluded from the models that rank `fold`."""
        return frozenset({fold, TEST})

    def training(self, fold: int, own: int) -> frozenset[int]:
        """Folds excluded from the models that featurise a training list of fold
        `own` for the fusion that ranks `fold`."""
        return frozenset({fold, own, TEST})

    def teaches(self, fold: int, own: int) -> bool:
        """Whether a turn of fold `own` gives a training list to the fusion of `fold`."""
        return own != fold and own != TEST

    def variants(self) -> set[frozenset[int]]:
        out = {self.ranking(f) for f in self.scored}
        for f in self.scored:
            out |= {self.training(f, g) for g in self.cv_folds if self.teaches(f, g)}
        return out


def plan(folds: int, has_test: bool, holdout: int | None) -> Split:
    """The split for `folds` hash folds; `holdout` moves one of them to TEST."""
    cv = tuple(f for f in range(folds) if f != holdout)
    return Split(cv, has_test or holdout is not None)


def cold_items(ids: list[str], share: float) -> frozenset[int]:
    """Positions of the items treated as added after training: a fixed share of
    the catalog, chosen by a hash of the item id (the same items every run)."""
    if share <= 0:
        return frozenset()
    cut = int(share * 10_000)
    return frozenset(
        p
        for p, item_id in enumerate(ids)
        if int(hashlib.sha256(f"cold:{item_id}".encode()).hexdigest(), 16) % 10_000 < cut
    )
