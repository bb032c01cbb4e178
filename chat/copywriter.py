"""Recommendation copy: the LLM phrases, from a prompt that holds only the
chosen items, their facts and their ranking reasons. If the model fails or
says nothing, a template built from the same facts is used instead."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import prompts

from .events import ItemCard
from .explain import facts, money
from .llm import LLM

log = logging.getLogger(__name__)


class CopyWriter:
    def __init__(self, llm: LLM, *, max_tokens: int = 120):
        self.llm = llm
        self.max_tokens = max_tokens

    def prompt(
        self, request: str, cards: list[ItemCard], metas: list[dict[str, Any]], language: str
    ) -> list[dict[str, str]]:
        items = [
            {
                "title": c.title,
                "price": money(c.price, c.currency) if c.price is not None else None,
                "facts": facts(c, m),
                "reasons": c.explanation or "a close match to the request",
            }
            for c, m in zip(cards, metas, strict=True)
        ]
        return prompts.render("recommend", request=request, items=items, language=language)

    def stream(
        self, request: str, cards: list[ItemCard], metas: list[dict[str, Any]], language: str = "en"
    ) -> Iterator[str]:
        if not cards:
            yield template_copy(cards)
            return
        messages = self.prompt(request, cards, metas, language)
        cfg = prompts.settings("recommend")
        produced = False
        try:
            for delta in self.llm.stream(
                messages,
                max_tokens=min(self.max_tokens, cfg.get("max_tokens", 256)),
                stop=cfg.get("stop", ()),
            ):
                if delta:
                    produced = produced or bool(delta.strip())
                    yield delta
        except Exception:  # a broken backend must not break the turn: fall back
            log.exception("LLM failed while writing copy; using the template")
        if not produced:
            yield template_copy(cards)


def template_copy(cards: list[ItemCard]) -> str:
    if not cards:
        return "I could not find anything that matches yet. Could you tell me a bit more?"
    lines = ["Here is what I would pick for you:"]
    for c in cards:
        price = f" ({money(c.price, c.currency)})" if c.price is not None else ""
        why = f": {c.explanation}" if c.explanation else ""
        lines.append(f"- {c.title}{price}{why}.")
    return "\n".join(lines)
