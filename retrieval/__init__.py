"""Catalog, embeddings, the Chroma item store, filters and ranking.

Imports nothing from the rest of the project; `chat` and `eval` build on it.
"""

from .catalog import PRESETS, FieldMap, Item, LoadResult, RowError, load_catalog
from .errors import CatalogError, EmbedderError, RetrievalError, StoreError
from .facets import Facet
from .filters import Filter
from .rank import Preferences, ScoredItem
from .store import Candidate, IngestReport, ItemStore

__all__ = [
    "PRESETS",
    "Candidate",
    "CatalogError",
    "EmbedderError",
    "Facet",
    "FieldMap",
    "Filter",
    "IngestReport",
    "Item",
    "ItemStore",
    "LoadResult",
    "Preferences",
    "RetrievalError",
    "RowError",
    "ScoredItem",
    "StoreError",
    "load_catalog",
]


def demo_catalog_path() -> str:
    """The shop catalog written for this project, shipped as package data."""
    from importlib.resources import files

    return str(files("retrieval") / "data" / "demo_catalog.jsonl")
