"""A catalog too big for a worker to hold: items fetched from the item store (a
Chroma server) when a request needs them, kept in a bounded cache.

A worker normally holds every item's metadata and vector (CatalogIndex, the
tracker's vocabulary), about 8 KB per item: 8 GB and most of an hour to start
on a million items. With `ItemCache` and `CatalogMetas` what it holds does not
grow with the catalog: the facets come from the summary the ingest stored with
the collection, the vocabulary's word lists from a fixed sample, and the items a
turn recalls, shows or refers to from the server, by id.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from retrieval.items.store import ItemStore

CACHE_ITEMS = 10_000  # about 20 MB of 384-dimension vectors and small metadata
SAMPLE_ITEMS = 2_000


class ItemCache:
    """id → (metadata, unit vector) for the items requests asked for, the least
    recently used dropped past `size`. Shared by the threads serving turns."""

    def __init__(self, store: ItemStore, size: int = CACHE_ITEMS) -> None:
        self.store = store
        self.size = size
        self._items: OrderedDict[str, tuple[dict[str, Any], np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, ids: Sequence[str]) -> dict[str, tuple[dict[str, Any], np.ndarray]]:
        """The known ones of `ids` (unknown ids are left out), one read for the misses."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, tuple[dict[str, Any], np.ndarray]] = {}
        with self._lock:
            for item_id in wanted:
                if (hit := self._items.get(item_id)) is not None:
                    self._items.move_to_end(item_id)
                    found[item_id] = hit
        missing = [i for i in wanted if i not in found]
        if missing:
            got_ids, metas, vectors = self.store.read_ids(missing)
            fresh = {i: (m, v) for i, m, v in zip(got_ids, metas, vectors, strict=True)}
            found.update(fresh)
            with self._lock:
                self._items.update(fresh)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return {i: found[i] for i in wanted if i in found}


class CatalogMetas(Mapping[str, dict[str, Any]]):
    """id → metadata over the whole catalog for lookups (through the cache), while
    iterating gives a fixed sample (the first `sample` items): what the vocabulary
    learns title words and per-category price quartiles from. The sample is stated
    here, not hidden: counting or listing the catalog goes through the store
    (ItemStore.ids_matching), never through this mapping."""

    def __init__(self, cache: ItemCache, sample: int = SAMPLE_ITEMS) -> None:
        self.cache = cache
        ids, metas = cache.store.read_metas(0, sample)
        self.sample = dict(zip(ids, metas, strict=True))

    def __getitem__(self, item_id: str) -> dict[str, Any]:
        if item_id in self.sample:
            return self.sample[item_id]
        if not isinstance(item_id, str):
            raise KeyError(item_id)
        got = self.cache.get([item_id])
        if item_id not in got:
            raise KeyError(item_id)
        return got[item_id][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self.sample)

    def __len__(self) -> int:
        return len(self.sample)
