"""Typed events a turn yields. Frontends (CLI, Gradio, HTTP) only render these.

The contract, in the order a turn yields them:

- `ItemsShown`   the cards of a recommendation (before any text of that turn).
- `Question`     the assistant asks about one facet; `options` are quick replies a
                 frontend may offer as buttons. Its `text` ALSO arrives as
                 `TextDelta`s, so a frontend that ignores this event loses nothing.
- `TextDelta`    the next piece of the reply; append it.
- `TextReplace`  replace everything shown of this turn's reply with `text`. Sent
                 only when streamed copy failed the fact check (an item that was
                 not chosen, a number the catalog does not have): the checked retry
                 or the template copy takes its place. Append-only frontends may
                 print it as a correction.
- `Done`         the turn is complete: the final `reply` (always the full text as
                 it should be stored), stage timings, and a `debug` record (intent,
                 act, the policy's reason, copy checks) for debug views.
- `ErrorEvent`   the message was not processed (bad input, a reference to an item
                 that was not shown …); nothing changed. Shown as the reply.
- `FeedbackApplied`  answer to `Session.feedback(item_id, kind)` (like / dislike /
                 seen from a button): what changed, in words for the user.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ItemCard:
    id: str
    title: str
    explanation: str  # one line built from the item's real ranking contributions
    reasons: list[dict[str, Any]]  # [{"signal", "contribution", "detail"}], strongest first
    score: float
    price: float | None = None
    currency: str | None = None
    rating: float | None = None
    rating_count: int | None = None
    category: str | None = None
    in_stock: bool | None = None
    image: str | None = None
    url: str | None = None
    brand: str | None = None
    # what tells it apart from a card with the same title in the same list ("blue", "64 GB")
    detail: str | None = None


@dataclass(frozen=True)
class Event:
    # each event names its kind (what frontends switch on); subclasses set it
    type: str = field(default="event", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class TextDelta(Event):
    text: str
    type: str = field(default="text", init=False)


@dataclass(frozen=True)
class TextReplace(Event):
    text: str  # the whole reply so far, replacing what was streamed
    reason: str  # why, e.g. "named an item that was not recommended"
    type: str = field(default="replace", init=False)


@dataclass(frozen=True)
class ItemsShown(Event):
    items: list[ItemCard]
    type: str = field(default="items", init=False)


@dataclass(frozen=True)
class Question(Event):
    text: str
    facet: str  # the facet asked about, e.g. "category", "price", "genres"
    options: list[str]  # quick replies, e.g. ["toys", "books", "electronics"]
    type: str = field(default="question", init=False)


@dataclass(frozen=True)
class Done(Event):
    session_id: str
    reply: str
    timings: dict[str, float]  # stage → seconds
    debug: dict[str, Any] = field(default_factory=dict)  # intent, act, reason, checks …
    type: str = field(default="done", init=False)


@dataclass(frozen=True)
class ErrorEvent(Event):
    code: str  # machine-readable: "empty_message", "bad_reference", "llm_failed" …
    message: str  # says what to do next
    type: str = field(default="error", init=False)


@dataclass(frozen=True)
class FeedbackApplied(Event):
    item_id: str
    kind: str  # "like" | "dislike" | "seen"
    message: str  # e.g. "Noted: I won't suggest Alien (1979) again."
    type: str = field(default="feedback", init=False)
