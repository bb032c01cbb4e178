"""Items, models and ranking: the catalog and its Chroma store, the trainable
models, and the recommender that recalls and ranks with them.

Imports nothing from the rest of the project; `chat` and `eval` build on what
this module exports (and on nothing deeper):

  items/    catalog rows and presets, facets, embedders, the Chroma store, filters,
            the in-memory catalog index, title and facet linking
  models/   collaborative (EASE, item-kNN), sequence (SASRec), what past dialogues
            teach, online learners, versioned artifact files
  ranking/  recall channels, features, fusion, rerank, the pipeline, and the
            serving recommender (trained.py loads what `recochat train` wrote)
"""

from retrieval.errors import CatalogError, EmbedderError, RetrievalError, StoreError
from retrieval.items.ann import recall_at_k
from retrieval.items.catalog import (
    PRESETS,
    FieldMap,
    Item,
    LoadResult,
    RowError,
    load_catalog,
    read_rows,
)
from retrieval.items.embedders import HashEmbedder, make_embedder, measures_meaning
from retrieval.items.facets import Facet, categorical_fields, discover_facets
from retrieval.items.filters import Filter
from retrieval.items.index import CatalogIndex, top_k
from retrieval.items.linking import FacetMatcher, TitleLinker
from retrieval.items.remote import CatalogMetas, ItemCache
from retrieval.items.store import Candidate, IngestReport, ItemStore
from retrieval.models.artifacts import (
    Artifact,
    ArtifactError,
    load_artifact,
    save_artifact,
)
from retrieval.models.cf import EASE, MAX_EASE_ITEMS, InteractionMatrix, ItemKNN
from retrieval.models.dialogue import DialogueConfig, DialogueModels, PastPick
from retrieval.models.online import FusionBandit, OnlineState
from retrieval.models.sequence import SASRec, SASRecConfig
from retrieval.ranking.channels import (
    HISTORY_TAIL,
    Channel,
    ContentChannel,
    DenseChannel,
    ModelChannel,
    PopularChannel,
    Query,
    SharedFacetsChannel,
    dialogue_channels,
)
from retrieval.ranking.features import FeatureBuilder, FeatureConfig
from retrieval.ranking.fusion import (
    Example,
    Fusion,
    FusionModel,
    learn_fusion,
    learn_tree_fusion,
    merge_learned,
)
from retrieval.ranking.pipeline import Pipeline, PipelineConfig
from retrieval.ranking.rerank import Reranker
from retrieval.ranking.scored import Preferences, ScoredItem
from retrieval.ranking.serving import (
    NEGATIVE,
    LearningConfig,
    Recommender,
    Shortlist,
)
from retrieval.ranking.trained import ArtifactWarning, Trained, load_models

__all__ = [
    "CatalogMetas",
    "ItemCache",
    "EASE",
    "HISTORY_TAIL",
    "MAX_EASE_ITEMS",
    "NEGATIVE",
    "PRESETS",
    "Artifact",
    "ArtifactError",
    "ArtifactWarning",
    "Candidate",
    "CatalogError",
    "CatalogIndex",
    "Channel",
    "ContentChannel",
    "SharedFacetsChannel",
    "DenseChannel",
    "DialogueConfig",
    "DialogueModels",
    "EmbedderError",
    "Example",
    "FacetMatcher",
    "Facet",
    "categorical_fields",
    "discover_facets",
    "FeatureBuilder",
    "FeatureConfig",
    "FieldMap",
    "Filter",
    "Fusion",
    "FusionBandit",
    "FusionModel",
    "HashEmbedder",
    "IngestReport",
    "InteractionMatrix",
    "Item",
    "ItemKNN",
    "ItemStore",
    "LearningConfig",
    "LoadResult",
    "ModelChannel",
    "OnlineState",
    "PastPick",
    "Pipeline",
    "PipelineConfig",
    "PopularChannel",
    "Preferences",
    "Query",
    "Recommender",
    "Reranker",
    "RetrievalError",
    "RowError",
    "SASRec",
    "SASRecConfig",
    "ScoredItem",
    "Shortlist",
    "StoreError",
    "TitleLinker",
    "Trained",
    "demo_catalog_path",
    "dialogue_channels",
    "learn_fusion",
    "learn_tree_fusion",
    "load_artifact",
    "load_catalog",
    "load_models",
    "make_embedder",
    "measures_meaning",
    "merge_learned",
    "read_rows",
    "recall_at_k",
    "save_artifact",
    "top_k",
]


def demo_catalog_path() -> str:
    """The shop catalog written for this project, shipped as package data."""
    from importlib.resources import files

    return str(files("retrieval.items") / "data" / "demo_catalog.jsonl")
