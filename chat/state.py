"""Dialogue state and a deterministic tracker that reads constraints from text.

The state is plain data (serialised with the session). The tracker is driven by
the catalog's discovered facets, so it works for any catalog: a categorical
value named in the message becomes a constraint ("category") or a soft
preference (any other facet); money phrases become a price range.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from retrieval import Facet, Filter, Preferences

STATE_VERSION = 1
HARD_FACETS = ("category",)  # facets whose values filter; the others only boost
MAX_REQUEST_PARTS = 6  # user messages kept for the dense query


@dataclass
class DialogueState:
    version: int = STATE_VERSION
    equals: dict[str, list[Any]] = field(default_factory=dict)
    excludes: dict[str, list[Any]] = field(default_factory=dict)
    ranges: dict[str, list[float | None]] = field(default_factory=dict)
    liked: dict[str, list[str]] = field(default_factory=dict)
    request: list[str] = field(default_factory=list)  # what the user asked for, newest last
    shown: list[str] = field(default_factory=list)  # item ids shown in the last turn
    excluded_ids: list[str] = field(default_factory=list)
    language: str = "en"
    turns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DialogueState:
        if not data or data.get("version") != STATE_VERSION:
            return cls()  # an empty or older snapshot starts a fresh conversation
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def filter(self) -> Filter:
        return Filter(
            equals={k: list(v) for k, v in self.equals.items()},
            excludes={k: list(v) for k, v in self.excludes.items()},
            ranges={k: (v[0], v[1]) for k, v in self.ranges.items()},
            exclude_ids=set(self.excluded_ids),
        )

    def preferences(self) -> Preferences:
        budget = self.ranges.get("price", [None, None])[1]
        return Preferences(liked={k: list(v) for k, v in self.liked.items()}, budget=budget)

    def query_text(self) -> str:
        return " ".join(self.request[-MAX_REQUEST_PARTS:])


_UNITS = r"hours?|hrs?|h|min|mins|minutes|kg|g|lbs?|years?|yrs?|l|ml|cm|mm|m|inch|inches|gb|tb|w|pieces|pages|players"
# a money amount: "$50", "50 dollars", "49.99"; never "2 hours" or "5 kg"
_NUM = rf"(?:[$€£¥]\s?)?(\d+(?:[.,]\d{{1,2}})?)(?!\d|[.,]\d|\s*(?:{_UNITS})\b)\s?(?:dollars|usd|euros?|eur|bucks)?"
_CEILING = re.compile(
    rf"\b(?:under|below|less than|cheaper than|at most|max(?:imum)?|up to|no more than|within|<)\s*{_NUM}",
    re.I,
)
_CEILING_AFTER = re.compile(rf"{_NUM}\s*(?:or less|or under|max|tops)\b", re.I)
_FLOOR = re.compile(rf"\b(?:over|above|more than|at least|min(?:imum)?|>)\s*{_NUM}", re.I)
_BETWEEN = re.compile(rf"\bbetween\s*{_NUM}\s*(?:and|-|to)\s*{_NUM}", re.I)
# "for my home", "at home": a facet word used as an ordinary word, not a constraint
_PLAIN_USE = re.compile(r"\b(?:my|our|your|at|around|the|this|that)\s+$", re.I)


def _money(text: str) -> float:
    return float(text.replace(",", "."))


def detect_language(text: str) -> str:
    if re.search(r"[\u4e00-\u9fff]", text):
        return "zh"
    return "en"


class StateTracker:
    def __init__(self, facets: dict[str, Facet]):
        self.facets = facets
        # value spellings to look for in text: "toys" and "toy" both mean "toys"
        self._patterns: list[tuple[str, str, re.Pattern]] = []
        for name, facet in facets.items():
            if facet.kind != "categorical":
                continue
            for value in facet.values:
                forms = {value.lower(), value.lower().rstrip("s")} - {""}
                alternation = "|".join(
                    sorted((re.escape(f) for f in forms if len(f) > 2), key=len, reverse=True)
                )
                if alternation:
                    self._patterns.append(
                        (name, value, re.compile(rf"\b(?:{alternation})s?\b", re.I))
                    )

    def update(self, state: DialogueState, text: str) -> DialogueState:
        """Return a new state that adds what `text` says; the input is not modified."""
        new = DialogueState.from_dict(state.to_dict())
        new.turns += 1
        new.language = detect_language(text)
        new.request.append(text.strip())
        if "price" in self.facets:
            self._read_price(text, new)
        for name, value, pattern in self._patterns:
            m = pattern.search(text)
            if not m or _PLAIN_USE.search(text[: m.start()]):
                continue
            target = new.equals if name in HARD_FACETS else new.liked
            if name in HARD_FACETS:
                target[name] = [value]  # a new category replaces the old one
            elif value not in target.setdefault(name, []):
                target[name].append(value)
        return new

    @staticmethod
    def _read_price(text: str, state: DialogueState) -> None:
        low = high = None
        if m := _BETWEEN.search(text):
            low, high = sorted((_money(m.group(1)), _money(m.group(2))))
        else:
            if m := (_CEILING.search(text) or _CEILING_AFTER.search(text)):
                high = _money(m.group(1))
            if m := _FLOOR.search(text):
                low = _money(m.group(1))
        if low is None and high is None:
            return
        old = state.ranges.get("price", [None, None])
        # a later statement overrides an earlier one on the same side
        merged = [low if low is not None else old[0], high if high is not None else old[1]]
        if None not in merged and merged[0] > merged[1]:  # contradicts the old side: drop it
            merged = [low, high]
        state.ranges["price"] = merged
