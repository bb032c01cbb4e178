"""What `recochat train` left in the artifacts folder, loaded for serving.

Artifacts are optional: a missing one leaves its channel out, a corrupt or
old-format one is reported in `Trained.problems` and left out too, so a fresh
install (no interactions yet) still recommends with the dense, content and
popularity channels and the configured fusion weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from retrieval.items.facets import categorical_fields
from retrieval.items.index import CatalogIndex
from retrieval.models.array_model import ArrayFormatError, ItemScorer
from retrieval.models.artifacts import Artifact, ArtifactError, load_artifact
from retrieval.models.cf import EASE, ItemKNN
from retrieval.models.dialogue import DialogueModels
from retrieval.models.sequence import SASRec
from retrieval.ranking.channels import (
    Channel,
    ContentChannel,
    DenseChannel,
    ModelChannel,
    PopularChannel,
    SharedFacetsChannel,
    StoreDenseChannel,
    StoreSearch,
    dialogue_channels,
)
from retrieval.ranking.features import FeatureBuilder, FeatureConfig
from retrieval.ranking.fusion import Fusion, FusionModel, TreeFusion

T = TypeVar("T")


class ArtifactWarning(UserWarning):
    """A learned artifact could not be used; the recommender goes on without it."""


@dataclass
class Trained:
    """What `recochat train` left in the artifacts folder, loaded; `problems` has
    one message per artifact that could not be used."""

    channels: list[Channel] = field(default_factory=list)  # from the interaction log
    dialogues: DialogueModels | None = None  # from past conversations
    fusion: Fusion | None = None
    popularity: np.ndarray | None = None  # interaction counts over the catalog
    problems: list[str] = field(default_factory=list)

    def serving_channels(
        self,
        index: CatalogIndex,
        embed: Callable[[list[str]], np.ndarray],
        store_search: StoreSearch | None = None,
    ) -> list[Channel]:
        """The channels a recommendation runs, in one order for serving and training;
        with `store_search`, the dense stage asks the item store's index."""
        return [
            DenseChannel(index, embed)
            if store_search is None
            else StoreDenseChannel(index, embed, store_search),
            ContentChannel(index),
            SharedFacetsChannel(index, categorical_fields(index.metas)),
            *self.channels,
            *(dialogue_channels(self.dialogues, index) if self.dialogues is not None else []),
            PopularChannel(index),
        ]

    def serving_popularity(self, index: CatalogIndex) -> np.ndarray | None:
        """Interaction counts plus the dialogues' mention counts (either may be missing)."""
        if self.dialogues is None:
            return self.popularity
        mentions = self.dialogues.popularity_on(index)
        return mentions if self.popularity is None else self.popularity + mentions


def feature_builder(index: CatalogIndex, fusion: Fusion) -> FeatureBuilder:
    """The feature columns a fusion reads: tree fusion keeps the config it was
    trained on in its info; a linear fusion reads the default columns."""
    config = fusion.info.get("features")
    return FeatureBuilder(index, FeatureConfig(**config) if config else None)


# The models that become a recall channel of their own: artifact, class, channel
# name, and whether it reads the history in order (the sequence model).
_MODEL_CHANNELS: tuple[tuple[str, type[ItemScorer], str, bool], ...] = (
    ("item_knn", ItemKNN, "co_interaction", False),
    ("ease", EASE, "cf", False),
    ("sasrec", SASRec, "sequence", True),
)


def load_models(index: CatalogIndex, folder: Path) -> Trained:
    out = Trained()
    if not folder.is_dir() or not any(folder.iterdir()):
        # a fresh install: nothing trained yet, which is no problem worth a warning
        return out

    def load(name: str, build: Callable[[Artifact], T], retrain: str = "retrain") -> T | None:
        """The artifact made into what serves it; None, and a problem, when it cannot be."""
        if not (folder / name).exists():  # not trained (yet): its part is left out
            return None
        try:
            return build(load_artifact(folder, name))
        except ArrayFormatError as e:  # its message says what to do
            out.problems.append(f"The '{name}' artifact does not fit this recochat: {e}")
        except ArtifactError as e:  # a corrupt or old-format file, named in the message
            out.problems.append(str(e))
        except (KeyError, RuntimeError, ValueError) as e:  # e.g. a network of another shape
            out.problems.append(
                f"The '{name}' artifact does not fit this recochat ({e}); {retrain}."
            )
        return None

    for name, model_class, channel, in_order in _MODEL_CHANNELS:
        model = load(name, partial(_model, model_class))
        if model is not None:
            out.channels.append(ModelChannel(index, model, channel, use_history_order=in_order))
    out.dialogues = load(
        "dialogues",
        lambda a: DialogueModels.from_arrays(a.arrays, a.item_ids),
        "rerun 'recochat train --dialogues FILE'",
    )
    out.fusion = load("fusion", _fusion)
    out.popularity = load("popularity", lambda a: _popularity(a, index))
    return out


def _model(model_class: type[ItemScorer], a: Artifact) -> ItemScorer:
    return model_class.from_arrays(a.arrays, a.item_ids)


def _fusion(a: Artifact) -> Fusion:
    names = [str(n) for n in a.arrays["names"]]
    if a.kind == "fusion_trees":
        return TreeFusion(names, str(a.arrays["model"][0]), a.info)
    weights = map(float, a.arrays["weights"])
    return FusionModel(dict(zip(names, weights, strict=True)), a.info)


def _popularity(a: Artifact, index: CatalogIndex) -> np.ndarray:
    """Interaction counts over the catalog's positions (0 for items not counted)."""
    pos = {i: n for n, i in enumerate(a.item_ids)}
    counts = a.arrays["counts"]
    return np.array([counts[pos[i]] if i in pos else 0.0 for i in index.ids])
