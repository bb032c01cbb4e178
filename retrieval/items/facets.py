"""Facet discovery: which metadata fields the dialogue can ask about or filter on.

Categorical facets are text fields (or lists of text) whose values repeat;
numeric facets are number fields, stored with their range and quartiles so the
state tracker can read "cheap" or "high-end" relative to the catalog. Computed
from the items at ingest and stored with the collection.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_CATEGORICAL_VALUES = 300
SKIP = {"title", "_hash", "image", "url"}  # links are shown, never asked about


@dataclass
class Facet:
    name: str
    kind: str  # "categorical" | "numeric" | "boolean"
    is_list: bool = False
    values: dict[str, int] = field(default_factory=dict)  # categorical: value → item count
    min: float | None = None
    max: float | None = None
    quartiles: tuple[float, float, float] | None = None
    coverage: float = 0.0  # share of items that have the field


def discover_facets(metas: list[dict[str, Any]]) -> dict[str, Facet]:
    n = len(metas)
    if n == 0:
        return {}
    seen: dict[str, list[Any]] = {}
    for meta in metas:
        for key, value in meta.items():
            if key not in SKIP and not key.startswith("_"):
                seen.setdefault(key, []).append(value)
    facets: dict[str, Facet] = {}
    for name, values in seen.items():
        coverage = round(len(values) / n, 4)
        if all(isinstance(v, bool) for v in values):
            counts = Counter(str(v).lower() for v in values)
            facets[name] = Facet(name, "boolean", values=dict(counts), coverage=coverage)
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            nums = sorted(float(v) for v in values)
            q1, q2, q3 = (nums[min(len(nums) - 1, int(p * len(nums)))] for p in (0.25, 0.5, 0.75))
            q = (q1, q2, q3)
            facets[name] = Facet(
                name, "numeric", min=nums[0], max=nums[-1], quartiles=q, coverage=coverage
            )
        else:
            is_list = any(isinstance(v, list) for v in values)
            counts = Counter()
            for v in values:
                counts.update(map(str, v) if isinstance(v, list) else [str(v)])
            # A field whose values rarely repeat (plots, ids) is not a facet; for
            # the others keep the values shared by several items, most common first.
            shared = [(v, c) for v, c in counts.most_common(MAX_CATEGORICAL_VALUES) if c > 1]
            if len(shared) > 1 and len(counts) <= 0.8 * sum(counts.values()):
                facets[name] = Facet(name, "categorical", is_list, dict(shared), coverage=coverage)
    return facets


def categorical_fields(metas: list[dict[str, Any]]) -> tuple[str, ...]:
    """The categorical facets' names (genres, people, brands …): what a request can
    name and what items can share."""
    return tuple(n for n, f in discover_facets(metas).items() if f.kind == "categorical")


def facets_to_json(facets: dict[str, Facet]) -> dict[str, Any]:
    return {name: asdict(f) for name, f in facets.items()}


def facets_from_json(data: dict[str, Any]) -> dict[str, Facet]:
    out = {}
    for name, d in data.items():
        if d.get("quartiles") is not None:
            d = {**d, "quartiles": tuple(d["quartiles"])}
        out[name] = Facet(**d)
    return out
