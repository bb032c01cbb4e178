"""The one shape every trainable model in retrieval/models takes on disk.

EASE, ItemKNN, Transitions, RequestKNN (cf.py), SASRec (sequence.py) and
DialogueModels (dialogue.py) are trained differently (`fit` takes an interaction
matrix, sequences or past decisions), but they all save as a dict of named
numpy arrays plus the item ids their positions stand for, and load back from
exactly that. artifacts.py versions and checksums those arrays; the models only
have to say what their arrays are. Declaring it here lets `recochat train`
write any of them and `trained.py` read any of them through one door, and lets
one contract test (tests/unit/test_array_models.py) check every model alike.

`fit` is deliberately not part of the protocol: what a model learns from
differs, and the callers that fit a model know which one they hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar, Protocol, Self

import numpy as np

from retrieval.models.artifacts import ArtifactError


class ArrayModel(Protocol):
    """A model that saves as named arrays and loads back from them unchanged."""

    kind: ClassVar[str]  # the artifact kind it is saved under
    item_ids: list[str]  # model position → item id

    def to_arrays(self) -> dict[str, np.ndarray]: ...

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], item_ids: list[str]) -> Self: ...


class ItemScorer(ArrayModel, Protocol):
    """An array model that scores its whole item space from a few seed items
    (what ModelChannel in retrieval/ranking/channels.py wraps)."""

    def score(self, positions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Scores over item_ids, given seed items by position (oldest first)."""
        ...


class ArrayFormatError(ArtifactError, ValueError):
    """A model's arrays lack a part or do not fit its item ids (another version of
    recochat wrote them, or they were edited). A ValueError too, so callers that
    refuse a bad artifact with `except ValueError` keep doing so."""


def require_arrays(arrays: Mapping[str, np.ndarray], kind: str, keys: Iterable[str]) -> None:
    """Refuse arrays that lack a part before a model is half built from them."""
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ArrayFormatError(
            f"The {kind} arrays lack {', '.join(missing)} (written by another recochat "
            "version, or edited); run 'recochat train' again."
        )


def require_items(kind: str, rows: int, item_ids: list[str]) -> None:
    """Refuse arrays whose item axis does not match the item ids they came with."""
    if rows != len(item_ids):
        raise ArrayFormatError(
            f"The {kind} arrays cover {rows} items but come with {len(item_ids)} item ids; "
            "run 'recochat train' again."
        )
