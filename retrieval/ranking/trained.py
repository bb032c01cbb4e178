"""What `recochat train` left in the artifacts folder, loaded for serving.

Artifacts are optional: a missing one leaves its channel out, a corrupt or
old-format one is reported in `Trained.problems` and left out too, so a fresh
install (no interactions yet) still recommends with the dense, content and
popularity channels and the configured fusion weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.items.index import CatalogIndex
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
    dialogue_channels,
)
from retrieval.ranking.features import FeatureBuilder, FeatureConfig
from retrieval.ranking.fusion import Fusion, FusionModel, TreeFusion


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
        self, index: CatalogIndex, embed: Callable[[list[str]], np.ndarray]
    ) -> list[Channel]:
        """The channels a recommendation runs, in one order for serving and training."""
        return [
            DenseChannel(index, embed),
            ContentChannel(index),
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

    def features(self, index: CatalogIndex) -> FeatureBuilder:
        """Tree fusion reads the feature columns it was trained on (its config)."""
        config = getattr(self.fusion, "info", {}).get("features")
        return FeatureBuilder(index, FeatureConfig(**config) if config else None)


def load_models(index: CatalogIndex, folder: Path) -> Trained:
    out = Trained()
    if not folder.is_dir() or not any(folder.iterdir()):
        # a fresh install: nothing trained yet, which is no problem worth a warning
        return out

    def get(name: str) -> Artifact | None:
        if not (folder / name).exists():  # not trained (yet): its channel is left out
            return None
        try:
            return load_artifact(folder, name)
        except ArtifactError as e:
            out.problems.append(str(e))
            return None

    if (a := get("item_knn")) is not None:
        knn = ItemKNN.from_arrays(a.arrays, a.item_ids)
        out.channels.append(ModelChannel(index, knn, "co_interaction"))
    if (a := get("ease")) is not None:
        out.channels.append(ModelChannel(index, EASE.from_arrays(a.arrays, a.item_ids), "cf"))
    if (a := get("sasrec")) is not None:
        try:
            model = SASRec.from_arrays(a.arrays, a.item_ids)
            out.channels.append(ModelChannel(index, model, "sequence", use_history_order=True))
        except (KeyError, RuntimeError, ValueError) as e:
            out.problems.append(f"The 'sasrec' artifact does not fit this recochat ({e}); retrain.")
    if (a := get("dialogues")) is not None:
        try:
            out.dialogues = DialogueModels.from_arrays(a.arrays, a.item_ids)
        except (KeyError, ValueError) as e:
            out.problems.append(
                f"The 'dialogues' artifact does not fit this recochat ({e}); "
                "rerun 'recochat train --dialogues FILE'."
            )
    if (a := get("fusion")) is not None:
        names = [str(n) for n in a.arrays["names"]]
        if a.kind == "fusion_trees":
            out.fusion = TreeFusion(names, str(a.arrays["model"][0]), a.info)
        else:
            weights = map(float, a.arrays["weights"])
            out.fusion = FusionModel(dict(zip(names, weights, strict=True)), a.info)
    if (a := get("popularity")) is not None:
        pos = {i: n for n, i in enumerate(a.item_ids)}
        counts = a.arrays["counts"]
        out.popularity = np.array([counts[pos[i]] if i in pos else 0.0 for i in index.ids])
    return out
