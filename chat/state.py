"""The dialogue state: everything the conversation has established, as plain
data that is saved with the session after every turn (and versioned).

Hard constraints filter (`equals`, `excludes`, `ranges`, the excluded item ids);
soft preferences only move items up or down (`liked`, `avoid`, `avoid_terms`,
liked items as anchors). The "topic" fields belong to the current request and
are cleared when the user asks for a different kind of item or starts over;
what the user said about items (seen, disliked, liked) outlives a topic, so a
disliked or seen item never comes back. The tracker that fills it from text is
`chat.dialogue.tracker.StateTracker`.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import asdict, dataclass, field
from typing import Any

from retrieval import Filter, Preferences

STATE_VERSION = 2
MAX_REQUEST_PARTS = 6  # user messages of the current topic kept for the dense query
TOPIC_FIELDS = (
    "equals",
    "excludes",
    "ranges",
    "liked",
    "avoid",
    "avoid_terms",
    "price_level",
    "budget",
    "request",
    "details",
    "anchors",
    "head",
    "head_only",
    "order",
    "order_limit",
    "passed",
    "asked",
    "answered",
    "questions",
    "recommended",
    "pending",
    "offer",
    "focus",
)
# what decides which items are shown, besides the request's words: a turn that changes
# none of it and gets the same cards asked for nothing new (chat/session.py)
_NOT_LIST = ("request", "details", "asked", "answered", "questions", "recommended", "pending")
LIST_FIELDS = (
    *(f for f in TOPIC_FIELDS if f not in (*_NOT_LIST, "offer", "focus")),
    *("liked_ids", "disliked_ids", "seen_ids", "excluded_ids", "topic"),
)
# fields that hold item ids: stored exactly, never masked as personal data (an id may look
# like a phone number); the debug record of a turn names them the same way
ITEM_ID_FIELDS = frozenset(
    {"anchors", "passed", "liked_ids", "disliked_ids", "seen_ids", "excluded_ids", "shown", "focus"}
)


@dataclass
class DialogueState:
    version: int = STATE_VERSION
    # hard constraints: facet → accepted values / rejected values / [low, high]
    equals: dict[str, list[Any]] = field(default_factory=dict)
    excludes: dict[str, list[Any]] = field(default_factory=dict)
    ranges: dict[str, list[float | None]] = field(default_factory=dict)
    # soft preferences: facet → values wanted / values rather not, and words to avoid
    liked: dict[str, list[str]] = field(default_factory=dict)
    avoid: dict[str, list[str]] = field(default_factory=dict)
    avoid_terms: list[str] = field(default_factory=list)
    price_level: str | None = None  # "low" | "mid" | "high": resolved per category
    budget: float | None = None  # the most the user said they would pay ("under $150")
    request: list[str] = field(default_factory=list)  # what the user asked for, newest last
    details: list[str] = field(default_factory=list)  # descriptive words of the request
    anchors: list[str] = field(default_factory=list)  # items named as examples ("like Alien")
    # the thing asked for when it is a descriptive value: "a laptop under $100" → tags: laptop
    head: dict[str, list[str]] = field(default_factory=dict)
    # only items that are the thing asked for: set per turn when enough of them pass
    # the other constraints (Session._retrieve), so "an electric kettle" shows kettles
    head_only: bool = False
    # "cheapest first": the shown items sorted by [field, "asc" | "desc"]; "just the
    # cheapest one": only the first of them (order_limit 1)
    order: list[str] = field(default_factory=list)
    order_limit: int | None = None
    passed: list[str] = field(default_factory=list)  # shown, then "something else" in this topic
    # what the user said about items; never reset by a new topic
    liked_ids: list[str] = field(default_factory=list)
    disliked_ids: list[str] = field(default_factory=list)
    seen_ids: list[str] = field(default_factory=list)
    excluded_ids: list[str] = field(default_factory=list)  # any other item ruled out
    # the conversation itself
    shown: list[str] = field(default_factory=list)  # item ids shown in the last answer
    focus: str | None = None  # the item last talked about ("is it in stock?")
    # what the last message asked about the focus item ("who directed it?": director),
    # so "what else has he made?" can name the person
    focus_fields: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # facets asked about in this topic
    answered: list[str] = field(default_factory=list)  # facets answered (or "no preference")
    questions: int = 0  # questions asked before this topic's first recommendation
    recommended: bool = False
    pending: dict[str, Any] | None = None  # the question awaiting an answer
    offer: dict[str, Any] | None = None  # a relaxation offered after "nothing matches"
    topic: int = 0
    language: str = "en"
    turns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DialogueState:
        if not data or data.get("version") not in (1, STATE_VERSION):
            return cls()  # an empty or unknown snapshot starts a fresh conversation
        # version 1 had a subset of these fields with the same meaning
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["version"] = STATE_VERSION
        return cls(**known)

    def same_list_as(self, other: DialogueState) -> bool:
        """Does this state ask for the list `other` asked for (its words aside)?"""
        return all(getattr(self, f) == getattr(other, f) for f in LIST_FIELDS)

    def copy(self) -> DialogueState:
        return DialogueState.from_dict(self.to_dict())

    def clear_topic(self) -> None:
        """Forget the current request (a new kind of item, or "start over")."""
        fresh = DialogueState()
        for name in TOPIC_FIELDS:
            setattr(self, name, getattr(fresh, name))
        self.topic += 1

    # -- views the pipeline reads ----------------------------------------------------

    def blocked_ids(self) -> set[str]:
        """Items never to recommend again: seen, disliked, already liked, named as examples."""
        return (
            set(self.excluded_ids)
            | set(self.seen_ids)
            | set(self.disliked_ids)
            | set(self.liked_ids)
            | set(self.anchors)
            | set(self.passed)
        )

    def filter(self) -> Filter:
        head = {k: list(v) for k, v in self.head.items() if v and not self.equals.get(k)}
        return Filter(
            equals={k: list(v) for k, v in self.equals.items() if v}
            | (head if self.head_only else {}),
            excludes={k: list(v) for k, v in self.excludes.items() if v},
            ranges={k: (v[0], v[1]) for k, v in self.ranges.items() if v != [None, None]},
            exclude_ids=self.blocked_ids(),
        )

    def preferences(self) -> Preferences:
        """Soft preferences for the ranker; hard values are included so that the
        explanation can say what an item matches."""
        liked: dict[str, list[str]] = {}
        for source in (self.equals, self.liked):
            for name, values in source.items():
                for v in values:
                    if isinstance(v, str) and v not in liked.setdefault(name, []):
                        liked[name].append(v)
        # only a budget the user stated: "cheaper than these" narrows the range, it is
        # no budget of theirs
        return Preferences(liked={k: v for k, v in liked.items() if v}, budget=self.budget)

    def query_text(self) -> str:
        """Text for dense recall: the request of this topic, then the values it named
        (which also puts English words into the query of a Chinese message)."""
        parts = list(self.request[-MAX_REQUEST_PARTS:])
        values = [
            v
            for vs in (*self.equals.values(), *self.liked.values())
            for v in vs
            if isinstance(v, str)
        ]
        extra = [v for v in values if v.lower() not in " ".join(parts).lower()]
        return " ".join(parts + extra).strip()

    def specificity(self, generic: Set[str] = frozenset()) -> float:
        """How much the user has said about what they want (see policy.py). Values
        in `generic` ("gift", "something") say nothing and do not count."""

        def said(values: dict[str, list[Any]]) -> int:
            return sum(1 for vs in values.values() for v in vs if str(v).lower() not in generic)

        score = min(3, said(self.equals))
        score += min(3, said(self.liked))
        score += len([k for k, v in self.ranges.items() if v != [None, None]])
        score += 2 * len(self.anchors) + (2 if self.liked_ids else 0)
        score += min(2, len(self.details))
        score += min(1, sum(len(v) for v in self.excludes.values()))
        return score
