"""What one message says, before it is applied to the dialogue state.

The reader (reader.py) fills a `MessageReading`; the tracker in chat/dialogue
applies it. Keeping the two apart lets the session look at a message (is it a
question? does it point at an item that was not shown?) before anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chat.understand.intent_model import IntentGuess
from chat.understand.lexicon import ValueHit
from chat.understand.ranges import Reading
from chat.understand.references import ShownRef, TitleHit
from chat.understand.text import Token

# the one problem that is no error: a reference ("the last one") before anything was shown
# gets an ordinary reply that says so (chat/session.py), not a refusal
NOTHING_SHOWN = "nothing_shown"


@dataclass
class MessageReading:
    """What one message says, before it is applied to the state."""

    text: str
    prepared: str  # NFKC, Chinese glossed into English
    tokens: list[Token]
    language: str | None
    unsupported: str | None
    written_in: str | None = None  # a Latin-script language besides English ("es")
    in_stock: bool = False  # "only what's in stock": a filter, not a question
    # "cheapest first": [field, "asc" | "desc"], and "just the cheapest one": 1
    order: list[str] = field(default_factory=list)
    order_limit: int | None = None
    intent: str = "recommend"
    values: list[tuple[ValueHit, str]] = field(default_factory=list)  # (hit, "+"|"hard"|…)
    reading: Reading = field(default_factory=Reading)
    titles: list[tuple[TitleHit, str]] = field(default_factory=list)  # (hit, kind)
    refs: list[ShownRef] = field(default_factory=list)
    feedback: list[tuple[str, str]] = field(default_factory=list)  # (item id, kind)
    targets: list[str] = field(default_factory=list)  # items a question is about
    fields: list[str] = field(default_factory=list)  # what a question asks
    problem: tuple[str, str] | None = None  # (code, what to tell the user)
    content: list[str] = field(default_factory=list)
    avoid_terms: list[str] = field(default_factory=list)
    positive_text: str = ""
    option: dict[str, Any] | None = None
    head: list[tuple[str, str]] = field(default_factory=list)  # (facet, value) of the head noun
    force: bool = False
    no_preference: bool = False
    new_topic: bool = False
    reset: bool = False  # "start over", "forget all that" (with or without a new request)
    # a request that says nothing of what ("zero clue what to get him"): the policy asks
    vague: bool = False
    learned: IntentGuess | None = None  # the learned intent, when it was asked
    # the rules' intent, when a learned label not sure of itself took the message off
    # topic (session.Session._by_meaning may give it back)
    unsure_of: str | None = None
    # what is wanted said without naming a thing: what it does ("a machine that kneads
    # the dough"), what the person loves ("for my nan who loves birds"), what it is
    # like ("something bath-ish")
    says_what: bool = False
    # facets to change from what was shown: "a different brand" → ["brand"]
    different: list[str] = field(default_factory=list)
    # other items than those on screen, for the same request ("more pls", "what else?")
    others: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def constraints(self) -> bool:
        return bool(
            [h for h, p in self.values if p == "+"]
            or self.reading.ranges
            or self.reading.levels
            or self.reading.comparatives
            or self.different
        )

    @property
    def changes_list(self) -> bool:
        """Did the reader find anything that changes the list: a wish or a limit (or a
        value refused), other items, an order, the stock filter, another brand,
        feedback, a thing or a title named, a reset?"""
        return bool(
            self.constraints
            or self.values
            or self.others
            or self.order
            or self.in_stock
            or self.feedback
            or self.reset
            or self.head
            or self.titles
        )

    @property
    def reads_nothing(self) -> bool:
        """A message about the list in which the reader found nothing at all: no
        change, no item pointed at, no "show me", no "no preference"."""
        return not (self.changes_list or self.refs or self.force or self.no_preference)
