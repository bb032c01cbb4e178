"""The template copy: what the user reads when no model may write (a language it
does not write) or what it wrote failed the checks twice. Built from the cards
alone, so it says nothing the catalog does not."""

from __future__ import annotations

from chat.events import ItemCard
from chat.reply.explain import money


def template_copy(cards: list[ItemCard], language: str = "en") -> str:
    """A list of the cards with their prices and reasons, in English or Chinese."""
    if language == "zh":
        if not cards:
            return "暂时没有找到符合的。能再多说一点吗？"
        lines = ["我为你挑选了："]
        for c in cards:
            price = f"（{money(c.price, c.currency)}）" if c.price is not None else ""
            why = f"：{c.explanation}" if c.explanation else ""
            lines.append(f"- {c.title}{price}{why}。")
        return "\n".join(lines)
    if not cards:
        return "I could not find anything that matches yet. Could you tell me a bit more?"
    lines = ["Here is what I would pick for you:"]
    for c in cards:
        price = f" ({money(c.price, c.currency)})" if c.price is not None else ""
        why = f": {c.explanation}" if c.explanation else ""
        lines.append(f"- {c.title}{price}{why}.")
    return "\n".join(lines)
