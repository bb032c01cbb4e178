"""Typed events a turn yields. Frontends (CLI, Gradio, HTTP) only render these."""

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


@dataclass(frozen=True)
class Event:
    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class TextDelta(Event):
    text: str
    type: str = field(default="text", init=False)


@dataclass(frozen=True)
class ItemsShown(Event):
    items: list[ItemCard]
    type: str = field(default="items", init=False)


@dataclass(frozen=True)
class Done(Event):
    session_id: str
    reply: str
    timings: dict[str, float]  # stage → seconds
    type: str = field(default="done", init=False)


@dataclass(frozen=True)
class ErrorEvent(Event):
    code: str  # machine-readable: "empty_message", "message_too_long", "llm_failed" …
    message: str  # says what to do next
    type: str = field(default="error", init=False)
