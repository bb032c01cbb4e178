"""The item store: a Chroma collection holding each item's text, vector and
metadata, plus the catalog's facets in the collection metadata.

Embedded by default (`PersistentClient` in the data directory); the same class
talks to a Chroma server (`chroma run`) through `HttpClient` when scaled out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval.errors import StoreError
from retrieval.items.catalog import Item
from retrieval.items.facets import Facet, discover_facets, facets_from_json, facets_to_json
from retrieval.items.filters import Filter

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.types import QueryResult
    from chromadb.config import Settings

    from retrieval.items.embedders import Embedder

STORE_VERSION = 1
EMBED_BATCH = 256


@dataclass
class Candidate:
    """An item proposed by a recall channel, with where it came from."""

    id: str
    meta: dict[str, Any]
    similarity: float = 0.0  # cosine similarity to the query, when known
    channels: dict[str, float] = field(default_factory=dict)  # channel → its score


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    embedded: int = 0
    seconds: float = 0.0


def _chroma_settings() -> Settings:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


class ItemStore:
    def __init__(self, client: ClientAPI, embedder: Embedder, collection: str = "items") -> None:
        from retrieval.items.embedders import RecochatEmbeddingFunction

        self.client = client
        self.embedder = embedder
        self.name = collection
        existing = {c.name for c in client.list_collections()}
        if collection in existing:
            col = client.get_collection(collection)
            built_with = (col.metadata or {}).get("embedder")
            if built_with != embedder.spec:
                raise StoreError(
                    f"The collection '{collection}' was built with embedder '{built_with}', "
                    f"but '{embedder.spec}' is configured. Set RECOCHAT_EMBEDDER={built_with}, "
                    "or re-ingest into a fresh data directory."
                )
        self.collection = client.get_or_create_collection(
            collection,
            # chroma types this as a function of documents *or* images; ours reads text
            embedding_function=RecochatEmbeddingFunction(embedder.spec),  # type: ignore[arg-type]
            metadata={"embedder": embedder.spec, "store_version": STORE_VERSION},
            configuration={"hnsw": {"space": "cosine"}},
        )
        self._facets: dict[str, Facet] | None = None
        self._metas: dict[str, dict[str, Any]] | None = None

    @classmethod
    def persistent(cls, path: str, embedder: Embedder, collection: str = "items") -> ItemStore:
        import chromadb

        return cls(
            chromadb.PersistentClient(path=path, settings=_chroma_settings()), embedder, collection
        )

    @classmethod
    def http(cls, host: str, port: int, embedder: Embedder, collection: str = "items") -> ItemStore:
        import chromadb

        try:
            client = chromadb.HttpClient(host=host, port=port, settings=_chroma_settings())
            client.heartbeat()
        except Exception as e:
            raise StoreError(
                f"Cannot reach the Chroma server at {host}:{port} ({e}). Start it with 'chroma run'."
            ) from None
        return cls(client, embedder, collection)

    def reload(self) -> None:
        """Forget the cached metadata and facets (another process changed the catalog)."""
        from retrieval.items.embedders import RecochatEmbeddingFunction

        self.collection = self.client.get_collection(
            self.name,
            embedding_function=RecochatEmbeddingFunction(self.embedder.spec),  # type: ignore[arg-type]
        )
        self._metas = None
        self._facets = None

    # -- reading -------------------------------------------------------------

    def count(self) -> int:
        return self.collection.count()

    def all_metas(self) -> dict[str, dict[str, Any]]:
        """id → metadata for every item (cached; the catalog is small next to RAM)."""
        if self._metas is None:
            self._metas = {}
            page = 5000
            for offset in range(0, self.count(), page):
                self._metas.update(zip(*self.read_metas(offset, page), strict=True))
        return self._metas

    def read_page(
        self, offset: int, limit: int
    ) -> tuple[list[str], list[dict[str, Any]], np.ndarray]:
        """One page of items with their vectors: ids, metadata, (limit, dim) float32."""
        got = self.collection.get(limit=limit, offset=offset, include=["metadatas", "embeddings"])
        metas = _metadatas(got["metadatas"])
        return got["ids"], metas, np.asarray(got["embeddings"], dtype=np.float32)

    def read_metas(self, offset: int, limit: int) -> tuple[list[str], list[dict[str, Any]]]:
        """One page of items' ids and metadata."""
        got = self.collection.get(limit=limit, offset=offset, include=["metadatas"])
        return got["ids"], _metadatas(got["metadatas"])

    def read_ids(self, ids: list[str]) -> tuple[list[str], list[dict[str, Any]], np.ndarray]:
        """These items (the unknown ids left out) with their vectors, in one read."""
        got = self.collection.get(ids=ids, include=["metadatas", "embeddings"])
        if not got["ids"]:
            return [], [], np.zeros((0, 0), dtype=np.float32)
        return got["ids"], _metadatas(got["metadatas"]), np.asarray(got["embeddings"], np.float32)

    def ids_matching(self, flt: Filter, limit: int) -> list[str]:
        """Up to `limit` ids of items passing the filter, in no particular order: what
        counts a pool or lists matches without reading the catalog."""
        where = flt.to_where(self.list_fields())
        try:
            got = self.collection.get(where=where, limit=limit + len(flt.exclude_ids), include=[])
        except Exception as e:
            raise StoreError(f"Chroma rejected the filter {where}: {e}") from None
        return [i for i in got["ids"] if i not in flt.exclude_ids][:limit]

    def get(self, item_id: str) -> dict[str, Any] | None:
        """One item's metadata: from the cached metadata when read, else one lookup."""
        if self._metas is not None:
            return self._metas.get(item_id)
        got = self.collection.get(ids=[item_id], include=["metadatas"])
        return _metadatas(got["metadatas"])[0] if got["ids"] else None

    def facets(self) -> dict[str, Facet]:
        if self._facets is None:
            raw = (self.collection.metadata or {}).get("facets")
            self._facets = facets_from_json(json.loads(raw)) if raw else {}
        return self._facets

    def list_fields(self) -> set[str]:
        return {name for name, f in self.facets().items() if f.is_list}

    def query(self, text: str, k: int, flt: Filter | None = None) -> list[Candidate]:
        """Dense recall: k nearest items to the text that pass the filter."""
        vector = self.embedder.embed([text])[0]
        return self.query_vector(vector, k, flt)

    def query_vector(
        self, vector: np.ndarray, k: int, flt: Filter | None = None
    ) -> list[Candidate]:
        flt = flt or Filter()
        total = self.count()
        if total == 0 or k <= 0:
            return []
        where = flt.to_where(self.list_fields())
        n = min(total, k + len(flt.exclude_ids))
        try:
            embeddings: list[np.ndarray] = [np.asarray(vector, dtype=np.float32)]
            res = self.collection.query(
                query_embeddings=embeddings,
                n_results=n,
                where=where,
                include=["metadatas", "distances"],
            )
        except Exception as e:
            raise StoreError(f"Chroma rejected the query filter {where}: {e}") from None
        out = []
        for item_id, meta, dist in zip(
            res["ids"][0], _metadatas(res["metadatas"])[0], _distances(res)[0], strict=True
        ):
            if item_id in flt.exclude_ids:
                continue
            sim = 1.0 - float(dist)
            out.append(Candidate(item_id, meta, sim, {"dense": sim}))
        return out[:k]

    # -- writing -------------------------------------------------------------

    def upsert(
        self,
        items: list[Item],
        *,
        sync: bool = False,
        progress: Callable[[Iterable, int, str], Iterable] | None = None,
    ) -> IngestReport:
        """Insert new and changed items (by content hash), keep unchanged ones
        without re-embedding, and with sync delete items absent from `items`.
        All vectors are computed before the first write, so an embedding failure
        leaves the collection as it was. Each write is one Chroma upsert of whole
        rows (id, text, vector, metadata with the content hash), so a process killed
        while writing leaves whole rows, and the next ingest writes the rest.
        `progress(batches, total, phase)` wraps the batches of each phase
        ("embedding", then "writing")."""
        report = IngestReport()
        old = {i: m.get("_hash") for i, m in self.all_metas().items()}
        todo = [it for it in items if old.get(it.id) != it.content_hash]
        report.unchanged = len(items) - len(todo)
        report.added = sum(1 for it in todo if it.id not in old)
        report.updated = len(todo) - report.added
        gone = sorted(set(old) - {it.id for it in items}) if sync else []

        def phase(batches: list[list[Item]], name: str) -> Iterable[list[Item]]:
            return progress(batches, len(todo), name) if progress else batches

        batches = [todo[i : i + EMBED_BATCH] for i in range(0, len(todo), EMBED_BATCH)]
        vectors = [self.embedder.embed([it.text for it in b]) for b in phase(batches, "embedding")]
        report.embedded = len(todo)

        step = max(1, min(5000, self.client.get_max_batch_size()))
        every = np.concatenate(vectors) if vectors else None
        chunks = [todo[i : i + step] for i in range(0, len(todo), step)]
        for n, chunk in enumerate(phase(chunks, "writing")):
            i = n * step
            self.collection.upsert(
                ids=[it.id for it in chunk],
                documents=[it.text for it in chunk],
                metadatas=[{**it.meta, "_hash": it.content_hash} for it in chunk],
                embeddings=every[i : i + step] if every is not None else None,
            )
        for i in range(0, len(gone), step):
            self.collection.delete(ids=gone[i : i + step])
        report.deleted = len(gone)

        self._metas = None
        self._save_facets()
        return report

    def delete(self, ids: list[str]) -> int:
        present = [i for i in ids if i in self.all_metas()]
        if present:
            self.collection.delete(ids=present)
            self._metas = None
            self._save_facets()
        return len(present)

    def _save_facets(self) -> None:
        self.write_facets(discover_facets(list(self.all_metas().values())))

    def write_facets(self, facets: dict[str, Facet]) -> None:
        """Store the catalog's facets in the collection metadata (what a worker reads
        instead of every item's metadata)."""
        meta = {**(self.collection.metadata or {}), "facets": json.dumps(facets_to_json(facets))}
        meta.pop("hnsw:space", None)
        self.collection.modify(metadata=meta)
        self._facets = facets


def _metadatas(metas: list[Any] | None) -> list[Any]:
    """Chroma types every part a read returns as optional; asked for with `include`,
    the metadatas are there (plain dicts), and a store without them is broken."""
    if metas is None:
        raise StoreError("Chroma returned no metadata although it was asked for.")
    return metas


def _distances(res: QueryResult) -> list[list[float]]:
    if res["distances"] is None:
        raise StoreError("Chroma returned no distances although they were asked for.")
    return res["distances"]
