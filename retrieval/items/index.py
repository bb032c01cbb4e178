"""The catalog held in memory as arrays: ids, metadata, unit vectors and the
columns filters need, so every channel and feature works on whole-catalog numpy
arrays instead of per-item Python loops.

At 6.6k items a score over the whole catalog is a few microseconds of numpy; at
100k it is still ~1 ms, which is why channels compute dense score arrays and
only then cut their top k (see channels.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval.items.filters import Filter, norm_value

if TYPE_CHECKING:
    from retrieval.items.store import ItemStore


class CatalogIndex:
    def __init__(
        self,
        ids: list[str],
        metas: list[dict[str, Any]],
        vectors: np.ndarray | None = None,
    ):
        if len(ids) != len(metas) or (vectors is not None and len(vectors) != len(ids)):
            raise ValueError("ids, metas and vectors must have the same length")
        self.ids = list(ids)
        self.metas = list(metas)
        self.pos = {item_id: i for i, item_id in enumerate(self.ids)}
        self.vectors = None if vectors is None else np.ascontiguousarray(vectors, np.float32)
        self._columns: dict[tuple[str, str], np.ndarray] = {}
        self._values: dict[str, dict[str, list[int]]] = {}  # field → value → rows
        self._numbers: dict[str, np.ndarray] = {}
        self._popularity: np.ndarray | None = None
        self._scaled_popularity: np.ndarray | None = None

    @classmethod
    def from_store(cls, store: ItemStore) -> CatalogIndex:
        """Everything the item store holds, vectors included (one paged read)."""
        ids: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        page = 5000
        for offset in range(0, store.count(), page):
            page_ids, page_metas, page_vectors = store.read_page(offset, page)
            ids += page_ids
            metas += page_metas
            vectors.append(page_vectors)
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, 1), np.float32)
        return cls(ids, metas, matrix)

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, ids: Iterable[str]) -> np.ndarray:
        """Catalog positions of the known ids, in order; unknown ids are dropped."""
        return np.array([self.pos[i] for i in ids if i in self.pos], dtype=np.int64)

    # -- columns ------------------------------------------------------------------

    def has_value(self, name: str, value: Any) -> np.ndarray:
        """Boolean column: the item's field equals (or, for lists, contains) value.
        Case-insensitive for text. One pass over the catalog per field (it finds
        every value's items at once), then each value's column once."""
        key = (name, norm_value(value))
        col = self._columns.get(key)
        if col is None:
            where = self._values.get(name)
            if where is None:  # filled before it is shared: turns run in threads
                where = {}
                for i, meta in enumerate(self.metas):
                    have = meta.get(name)
                    if have is None:
                        continue
                    for v in have if isinstance(have, list) else [have]:
                        where.setdefault(norm_value(v), []).append(i)
                self._values[name] = where
            col = np.zeros(len(self), dtype=bool)
            col[where.get(key[1], [])] = True
            self._columns[key] = col
        return col

    def number(self, name: str) -> np.ndarray:
        """Float column of a numeric field, NaN where missing."""
        col = self._numbers.get(name)
        if col is None:
            col = np.full(len(self), np.nan, dtype=np.float64)
            for i, meta in enumerate(self.metas):
                v = meta.get(name)
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    col[i] = v
            self._numbers[name] = col
        return col

    def mask(self, flt: Filter | None) -> np.ndarray:
        """Items passing the filter, computed with the same rules as Filter.matches."""
        ok = np.ones(len(self), dtype=bool)
        if flt is None:
            return ok
        for name, values in flt.equals.items():
            any_of = np.zeros(len(self), dtype=bool)
            for v in values:
                any_of |= self.has_value(name, v)
            ok &= any_of
        for name, values in flt.excludes.items():
            for v in values:
                ok &= ~self.has_value(name, v)
        for name, (low, high) in flt.ranges.items():
            col = self.number(name)
            with np.errstate(invalid="ignore"):
                inside = ~np.isnan(col)
                if low is not None:
                    inside &= col >= low
                if high is not None:
                    inside &= col <= high
            ok &= inside
        if flt.exclude_ids:
            ok[self.positions(flt.exclude_ids)] = False
        return ok

    # -- priors -----------------------------------------------------------------

    def set_popularity(self, counts: np.ndarray) -> None:
        """Use interaction counts (from the event store) as the popularity prior."""
        self._popularity = np.asarray(counts, dtype=np.float64)
        self._scaled_popularity = None

    @property
    def popularity(self) -> np.ndarray:
        """log(1 + count), scaled to [0, 1]: interaction counts when known, else the
        catalog's own rating_count."""
        if self._scaled_popularity is None:
            if self._popularity is None:
                counts = np.nan_to_num(self.number("rating_count"), nan=0.0)
            else:
                counts = self._popularity
            logs = np.log1p(np.maximum(counts, 0))
            top = logs.max() if len(logs) else 0.0
            self._scaled_popularity = logs / top if top > 0 else logs
        return self._scaled_popularity


def top_k(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Positions of the k best scores (ties by position, so results are stable)."""
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    # lexsort: last key is primary → sort by -score, then by position
    return part[np.lexsort((part, -scores[part]))]
