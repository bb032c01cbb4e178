"""Hard constraints on item metadata, as one value that can both build a Chroma
`where` clause and check an item in Python (for tests, audits and the
constraint-satisfaction figures)."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Filter:
    # field → accepted values (any of them); for list fields the item needs one of them
    equals: dict[str, list[Any]] = field(default_factory=dict)
    # field → rejected values; for list fields the item must contain none of them
    excludes: dict[str, list[Any]] = field(default_factory=dict)
    # field → (low, high), either side may be None; bounds are inclusive
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    exclude_ids: set[str] = field(default_factory=set)

    def to_where(self, list_fields: Set[str] = frozenset()) -> dict[str, Any] | None:
        """Chroma `where`: one clause per condition, combined with $and."""
        clauses: list[dict[str, Any]] = []
        for name, values in self.equals.items():
            if name in list_fields:
                ors = [{name: {"$contains": v}} for v in values]
                clauses.append(ors[0] if len(ors) == 1 else {"$or": ors})
            else:
                clauses.append(
                    {name: {"$in": list(values)}} if len(values) > 1 else {name: values[0]}
                )
        for name, values in self.excludes.items():
            op = "$not_contains" if name in list_fields else "$ne"
            clauses.extend({name: {op: v}} for v in values)
        for name, (low, high) in self.ranges.items():
            if low is not None:
                clauses.append({name: {"$gte": low}})
            if high is not None:
                clauses.append({name: {"$lte": high}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches(self, item_id: str, meta: dict[str, Any]) -> bool:
        if item_id in self.exclude_ids:
            return False
        for name, values in self.equals.items():
            have = {norm_value(v) for v in _as_list(meta.get(name))}
            if not any(norm_value(v) in have for v in values):
                return False
        for name, values in self.excludes.items():
            have = {norm_value(v) for v in _as_list(meta.get(name))}
            if any(norm_value(v) in have for v in values):
                return False
        for name, (low, high) in self.ranges.items():
            value = meta.get(name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return False
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        return True


def norm_value(value: Any) -> str:
    """A value as filters compare it: text case-insensitively, 12 the same as 12.0."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).lower()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
