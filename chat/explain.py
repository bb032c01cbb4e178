"""Item cards and their explanations, built only from catalog facts and the
ranker's real contributions (never from the LLM)."""

from __future__ import annotations

from typing import Any

from retrieval import Preferences, ScoredItem

from .events import ItemCard

MIN_CONTRIBUTION = 0.01  # signals weaker than this are not worth a sentence


def money(value: float, currency: str | None = "USD") -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency or "USD")
    return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}"


_ZH = {
    "close to what you described": "和你描述的很接近",
    "matches: ": "符合：",
    "★ from ": "★，",
    " ratings": " 人评分",
    "popular: ": "很受欢迎：",
    ", within your ": "，在你的预算 ",
    " budget": " 以内",
    "similar to ": "和你喜欢的 ",
    ", which you liked": " 相似",
}


def _zh(text: str) -> str:
    for en, zh in _ZH.items():
        text = text.replace(en, zh)
    return text


def reason_detail(
    signal: str, item: ScoredItem, prefs: Preferences, similar_to: str | None = None
) -> str | None:
    m = item.meta
    if signal == "semantic":
        return "close to what you described"
    if signal == "similar_liked":
        return f"similar to {similar_to}, which you liked" if similar_to else None
    if signal == "facet_match":
        hits = []
        for name, values in prefs.liked.items():
            have = m.get(name)
            have = {
                str(h).lower()
                for h in (have if isinstance(have, list) else [have])
                if h is not None
            }
            hits += [v for v in values if v.lower() in have]
        hits = list(dict.fromkeys(hits))
        return f"matches: {', '.join(hits)}" if hits else None
    if signal == "rating" and m.get("rating") is not None:
        count = m.get("rating_count")
        suffix = f" from {count:,} ratings" if count else ""
        return f"{m['rating']:.1f}★{suffix}"
    if signal == "popularity" and m.get("rating_count"):
        return f"popular: {m['rating_count']:,} ratings"
    if signal == "price_fit" and m.get("price") is not None and prefs.budget:
        cur = m.get("currency")
        return f"{money(m['price'], cur)}, within your {money(prefs.budget, cur)} budget"
    return None


def reasons(
    item: ScoredItem, prefs: Preferences, *, language: str = "en", similar_to: str | None = None
) -> list[dict[str, Any]]:
    """The item's positive ranking contributions, strongest first, each in words.
    Penalties (negative contributions) move an item down but are no reason to pick it."""
    out = []
    for signal, value in sorted(item.contributions.items(), key=lambda kv: -kv[1]):
        if value < MIN_CONTRIBUTION:
            continue
        if signal == "popularity" and item.contributions.get("rating", 0) >= MIN_CONTRIBUTION:
            continue  # the rating reason already says how many people rated it
        detail = reason_detail(signal, item, prefs, similar_to)
        if detail:
            detail = _zh(detail) if language == "zh" else detail
            out.append({"signal": signal, "contribution": round(value, 4), "detail": detail})
    return out


def card(
    item: ScoredItem, prefs: Preferences, *, language: str = "en", similar_to: str | None = None
) -> ItemCard:
    m = item.meta
    why = reasons(item, prefs, language=language, similar_to=similar_to)
    return ItemCard(
        id=item.id,
        title=item.title,
        explanation=("；" if language == "zh" else "; ").join(r["detail"] for r in why),
        reasons=why,
        score=round(item.score, 4),
        price=m.get("price"),
        currency=m.get("currency"),
        rating=m.get("rating"),
        rating_count=m.get("rating_count"),
        category=m.get("category"),
        in_stock=m.get("in_stock"),
        image=m.get("image"),
    )


def description(meta: dict[str, Any], limit: int = 220) -> str:
    """The item's longest text field, cut at a sentence end near `limit`."""
    texts = [v for k, v in meta.items() if isinstance(v, str) and k not in ("title", "_hash")]
    text = max(texts, key=len, default="")
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("。"))
    return cut[: end + 1] if end > 40 else cut.rstrip() + "…"


def facts(card_: ItemCard, meta: dict[str, Any]) -> str:
    parts = []
    for key in ("category", "brand", "year"):
        if meta.get(key) is not None:
            parts.append(f"{key}: {meta[key]}")
    for key in ("genres", "tags"):
        if isinstance(meta.get(key), list):
            parts.append(f"{key}: {', '.join(meta[key][:5])}")
    if card_.rating is not None:
        parts.append(
            f"rating {card_.rating:.1f}/5"
            + (f" ({card_.rating_count:,} ratings)" if card_.rating_count else "")
        )
    if card_.in_stock is False:
        parts.append("currently out of stock")
    text = description(meta)
    if text:
        parts.append(text)
    return "; ".join(parts)
