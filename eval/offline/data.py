"""Data for the evaluation protocols: the ReDial catalog as a CatalogIndex with
cached embeddings, MovieLens ratings mapped to catalog ids, and models trained
on them (cached as versioned artifacts, keyed by what they were built from).

Everything is read from the files given on the command line (default
../shared/data) and never copied into the project; caches go to the cache
directory (RECOCHAT_CACHE_DIR) and are keyed by content hashes, so a changed
file or model setting never reuses a stale cache.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval import (
    PRESETS,
    Artifact,
    ArtifactError,
    CatalogIndex,
    load_artifact,
    load_catalog,
    save_artifact,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
DEFAULT_CATALOG = SHARED / "redial" / "catalog.jsonl"
DEFAULT_TURNS = SHARED / "redial" / "dev_turns.jsonl"
DEFAULT_RATINGS = SHARED / "movielens" / "ratings.csv"


# in the cache key: vectors cached by an earlier encoder are computed again
# ("2": MiniLM's weights in int8, retrieval/items/bert_openvino.py; "3": MiniLM reads
# only the Latin-script words of a text, `latin_part` there)
VECTORS = "3"


def cache_dir() -> Path:
    from chat import load_settings

    path = Path(load_settings().cache_dir) / "eval"
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def load_index(
    catalog: Path, embedder: str = "minilm", preset: str = "redial", progress: bool = True
) -> CatalogIndex:
    """The catalog (read with an ingest preset) with item vectors; vectors are
    computed once per (content, embedder)."""
    from retrieval import make_embedder

    items = load_catalog(catalog, PRESETS[preset], skip_bad=True).items

    def embed(texts: list[str]) -> np.ndarray:
        from tqdm import tqdm

        model = make_embedder(embedder)
        batches = range(0, len(texts), 256)
        parts = [
            model.embed(texts[i : i + 256])
            for i in tqdm(batches, desc=f"embedding catalog ({embedder})", disable=not progress)
        ]
        return np.concatenate(parts)

    vectors = item_vectors([it.text for it in items], embedder, cache_dir(), embed)
    metas = [{**it.meta, "title": it.title} for it in items]
    return CatalogIndex([it.id for it in items], metas, vectors)


def item_vectors(
    texts: list[str], spec: str, cache: Path, embed: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """The vectors of item texts by the embedder named `spec`, kept in `cache`
    keyed by the spec and every text: one file for each catalog and embedder,
    whichever evaluation (or test) asks first, so the 6,583 ReDial plots (minutes
    on two cores) are embedded once per machine. `embed(texts)` runs on a miss."""
    key = hashlib.sha256("\x00".join([spec, VECTORS, *texts]).encode()).hexdigest()[:16]
    path = cache / f"item-vectors-{key}.npy"
    try:
        vectors = np.load(path)
        if len(vectors) == len(texts):
            return vectors
    except (OSError, ValueError):
        pass  # absent, or a broken file: computed again
    vectors = np.asarray(embed(texts), dtype=np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)  # whole files only: parallel runs may share the cache
    return vectors


@dataclass
class Ratings:
    users: list[str]
    items: list[str]  # catalog ids
    values: list[float]
    times: list[int]
    skipped_unknown: int


def load_ratings(path: Path, index: CatalogIndex, id_field: str = "ml_movieId") -> Ratings:
    """MovieLens rows mapped to catalog ids through the catalog's ml_movieId field;
    when several catalog items share one MovieLens id the first one is used."""
    mapping: dict[str, str] = {}
    for item_id, meta in zip(index.ids, index.metas, strict=True):
        ml = meta.get(id_field)
        if ml is not None:
            mapping.setdefault(str(ml), item_id)
    users, items, values, times = [], [], [], []
    unknown = 0
    with open(path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            item = mapping.get(row["movieId"])
            if item is None:
                unknown += 1
                continue
            users.append(row["userId"])
            items.append(item)
            values.append(float(row["rating"]))
            times.append(int(row["timestamp"]))
    return Ratings(users, items, values, times, unknown)


def sequences(ratings: Ratings, item_pos: dict[str, int]) -> dict[str, list[int]]:
    """Per user: item positions in time order (ties keep file order)."""
    rows: dict[str, list[tuple[int, int, int]]] = {}
    for n, (u, i, t) in enumerate(zip(ratings.users, ratings.items, ratings.times, strict=True)):
        rows.setdefault(u, []).append((t, n, item_pos[i]))
    return {u: [p for _, _, p in sorted(r)] for u, r in rows.items()}


def cached_model(name: str, key: str, build, load):
    """Train with build() -> (arrays, item_ids, info) unless an artifact with this
    key exists; returns load(artifact)."""
    folder = cache_dir() / "models"
    artifact_name = f"{name}-{key}"
    try:
        return load(load_artifact(folder, artifact_name))
    except ArtifactError:
        pass
    arrays, item_ids, info = build()
    save_artifact(folder, Artifact(artifact_name, name, item_ids, arrays, info))
    return load(load_artifact(folder, artifact_name))
