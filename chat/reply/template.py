"""The template copy: what the user reads when no model may write (a language it
does not write) or what it wrote failed the checks twice. Built from the cards
alone, so it says nothing the catalog and the ranking do not: the best card with
its two strongest reasons in a sentence, then the others by name. It starts with
the reply's opening (chat/reply/opening.py) when one is given, so a fallback
after the opening was shown goes on from it instead of replacing it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chat.events import ItemCard
from chat.reply.explain import label, money, the_title

MAX_REASONS = 2


def template_copy(
    cards: list[ItemCard],
    language: str = "en",
    opening: str = "",
    metas: Sequence[dict[str, Any] | None] = (),
) -> str:
    """The copy for `cards`; `opening` (naming the first card) replaces "My pick is the …".
    The cards' `metas`, when given, say which titles are names (chat/reply/explain.py
    `the_title`)."""
    if language == "zh":
        return _zh(cards, opening)
    if not cards:
        return "I could not find anything that matches yet. Could you tell me a bit more?"
    best, others = cards[0], cards[1:]
    # "close to what you described" says least: the other reasons go first
    ordered = sorted(best.reasons, key=lambda r: r.get("signal") == "semantic")
    why = [p for r in ordered if (p := _phrase(r))][:MAX_REASONS]
    meta = [*metas, *[None] * len(cards)]
    text = (opening or f"My pick is {the_title(label(best, cards), meta[0])}") + _price(best)
    text += f": {' and '.join(why)}." if why else "."
    if others:
        named = [
            the_title(label(c, cards), m) + _price(c)
            for c, m in zip(others, meta[1:], strict=False)
        ]
        text += " You could also look at " + " or ".join(named) + "."
    return text


def _price(card: ItemCard) -> str:
    return f" ({money(card.price, card.currency)})" if card.price is not None else ""


def _phrase(reason: dict[str, Any]) -> str | None:
    """One reason (chat/reply/explain.py) as part of a sentence about the item."""
    signal, detail = reason.get("signal", ""), str(reason.get("detail", ""))
    if not detail:
        return None
    if signal == "facet_match":  # the values the title and kind do not already say
        return f"it fits what you asked for ({detail})"
    if signal == "rating":
        return f"buyers rate it {detail}"
    if signal == "price_fit":
        return "it is within your budget"
    if signal == "popularity":
        return "it is popular with other shoppers"
    if signal in ("people", "online"):  # "people who liked X also liked this"
        return detail
    return f"it is {detail}"


def _zh(cards: list[ItemCard], opening: str) -> str:
    if not cards:
        return "暂时没有找到符合的。能再多说一点吗？"
    best, others = cards[0], cards[1:]
    price = f"（{money(best.price, best.currency)}）" if best.price is not None else ""
    why = "，".join(str(r.get("detail", "")) for r in best.reasons[:MAX_REASONS])
    text = (opening or f"我最推荐 {label(best, cards)}") + price + (f"：{why}。" if why else "。")
    if others:
        text += "也可以看看 " + " 或 ".join(label(c, cards) for c in others) + "。"
    return text
