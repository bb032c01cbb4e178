"""What ranking reads and produces, shared by the pipeline's stages
(retrieval/ranking/pipeline.py: features → fusion → rerank) and the explanations.

`Preferences` are the soft wishes of a request (wanted facet values, a budget);
a `ScoredItem` is one ranked item with its fused score and each signal's
contribution (weight × feature), which is what the copy and the UI say *why*
from. The scoring itself is the fusion of retrieval/ranking/fusion.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Preferences:
    """What ranking and explanations need from the dialogue state (soft, not filters)."""

    liked: dict[str, list[str]] = field(default_factory=dict)  # facet → values the user wants
    budget: float | None = None  # price ceiling, when stated


@dataclass
class ScoredItem:
    id: str
    meta: dict[str, Any]
    score: float
    features: dict[str, float]
    contributions: dict[str, float]  # weight × feature, per signal
    channels: dict[str, float] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.meta.get("title", self.id)
