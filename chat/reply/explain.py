"""Item cards and their explanations, built only from catalog facts and the
ranker's real contributions (never from the LLM).

A reason is said only when its signal really contributed to the fused score
(weight × feature ≥ MIN_CONTRIBUTION), and names a liked item only when the
recommender found that item behind the signal (retrieval/ranking/serving.py `_evidence`):
the closest liked item in content, the one people also liked, the end of the
sequence, the liked items the online profile moved the request towards."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chat.events import ItemCard
from retrieval import Preferences, ScoredItem

MIN_CONTRIBUTION = 0.01  # signals weaker than this are not worth a sentence
MAX_REASONS = 3  # short: the strongest few

# Fusion signals grouped into the reasons a person reads: a channel's score and its
# "recalled by it" flag are one reason, so are the popularity signals.
FAMILY = {
    "in_dense": "semantic",
    "co_interaction": "people",
    "in_co_interaction": "people",
    "cf": "people",
    "in_cf": "people",
    "in_content": "content",
    # shares a director, an actor or a genre with a liked item: a content reason
    "shared_facets": "content",
    "in_shared_facets": "content",
    "in_sequence": "sequence",
    "catalog_popularity": "popularity",
    "popular": "popularity",
    "in_popular": "popularity",
    # learned from past conversations (retrieval/models/dialogue.py)
    "co_mention": "talked_about",
    "asked_for": "asked",
    "said": "asked",
    "similar_requests": "asked",
    "recommended": "asked",
}
# the signal whose evidence (which liked item) a family's sentence names
EVIDENCE = {
    "people": ("co_interaction", "cf"),
    "content": ("content",),
    "sequence": ("sequence",),
    "talked_about": ("co_mention",),
    "picked_after": ("picked_after",),
}


def family_of(signal: str) -> str:
    """The reason a signal belongs to; its rank (rr_) and recalled-by (in_)
    columns belong to the same one."""
    if signal in FAMILY:
        return FAMILY[signal]
    base = signal[3:] if signal.startswith(("rr_", "in_")) else signal
    return FAMILY.get(base, "semantic" if base == "dense" else base)


def money(value: float, currency: str | None = "USD") -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency or "USD")
    return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}"


_ZH = {
    "close to what you described": "和你描述的很接近",
    "★ from ": "★，",
    " reviews": " 人评分",
    "popular: ": "很受欢迎：",
    "popular with other users": "很受欢迎",
    "within your budget": "在你的预算以内",
    " under your budget": " 低于你的预算",
    "because you liked ": "因为你喜欢 ",
    "people who liked ": "喜欢 ",
    " also liked this": " 的人也喜欢它",
    "people who chose ": "选了 ",
    " also chose this": " 的人也选了它",
    "a likely next pick after ": "看完 ",
    "often talked about along with ": "常和 ",
    " in other chats": " 一起被聊到",
    "often recommended once ": "聊到 ",
    " came up": " 时常被推荐",
    "often recommended for requests like yours": "常被推荐给和你类似的需求",
    "similar to ": "和 ",
    ", which you liked": " 相似（你喜欢的）",
    ", which you mentioned": " 相似（你提到的）",
    ", from your history": " 相似（你看过的）",
    "a less-known pick": "小众之选",
    "recent: ": "较新：",
}


def _zh(text: str) -> str:
    for en, zh in _ZH.items():
        text = text.replace(en, zh)
    return text


Evidence = dict[str, tuple[str, str]]  # signal → (title of the item it rests on, role)


def reason_detail(
    family: str, item: ScoredItem, prefs: Preferences, evidence: Evidence | None = None
) -> str | None:
    """One reason in words, or None when the facts to say it truthfully are missing."""
    m = item.meta
    evidence = evidence or {}
    named = next((evidence[s] for s in EVIDENCE.get(family, (family,)) if s in evidence), None)
    title, role = named or (None, None)
    if family == "semantic":
        return "close to what you described"
    if family == "online":
        return f"because you liked {title}" if title else None
    if family == "content" and title:
        how = {"liked": "which you liked", "mentioned": "which you mentioned"}
        return (
            f"similar to {title}, {how[role]}"
            if role in how
            else f"similar to {title}, from your history"
        )
    if family == "people" and title:
        if role == "history":
            return f"people who chose {title} also chose this"
        return f"people who liked {title} also liked this"
    if family == "sequence" and title:
        return f"a likely next pick after {title}"
    if family == "talked_about" and title:
        return f"often talked about along with {title} in other chats"
    if family == "picked_after" and title:
        return f"often recommended once {title} came up"
    if family == "asked":
        return "often recommended for requests like yours"
    if family == "facet_match":
        # what the card's title and kind already say goes without saying
        said = f"{item.title} {m.get('category') or ''}".lower()
        hits = [v for v in _matched(m, prefs) if v.lower() not in said]
        return ", ".join(hits[:3]) if hits else None
    if family == "rating" and m.get("rating") is not None:
        count = m.get("rating_count")
        suffix = f" from {count:,} reviews" if count else ""
        return f"{m['rating']:.1f}★{suffix}"
    if family == "popularity":
        count = m.get("rating_count")
        return f"popular: {count:,} reviews" if count else "popular with other users"
    if family == "price_fit" and m.get("price") is not None and prefs.budget:
        under = prefs.budget - float(m["price"])
        if under < 0:
            return None
        if under < 1:
            return "within your budget"
        return f"{money(round(under), m.get('currency')).removesuffix('.00')} under your budget"
    if family == "novelty":
        return "a less-known pick"
    if family == "freshness" and m.get("year") is not None:
        # the signal is the year scaled over the catalog: "recent" only near its top
        return f"recent: {m['year']}" if item.features.get("freshness", 0) >= 0.8 else None
    return None


def _matched(meta: dict[str, Any], prefs: Preferences) -> list[str]:
    """The wanted facet values the item has."""
    hits = []
    for name, values in prefs.liked.items():
        have = meta.get(name)
        have = {
            str(h).lower() for h in (have if isinstance(have, list) else [have]) if h is not None
        }
        hits += [v for v in values if v.lower() in have]
    return list(dict.fromkeys(hits))


def reasons(
    item: ScoredItem,
    prefs: Preferences,
    *,
    language: str = "en",
    evidence: Evidence | None = None,
) -> list[dict[str, Any]]:
    """The item's positive ranking contributions, grouped into reasons, strongest
    first, each in words; at most MAX_REASONS, and a stated budget always counts.
    Penalties (negative contributions) move an item down but are no reason to pick it."""
    families: dict[str, float] = {}
    for signal, value in item.contributions.items():
        family = family_of(signal)
        families[family] = families.get(family, 0.0) + value
    if families.get("rating", 0) >= MIN_CONTRIBUTION:
        families.pop("popularity", None)  # the rating reason already says how many rated it
    named = evidence or {}
    if {"online", "content"} <= set(families) and (
        named.get("online", (None,))[0] == named.get("content", (None,))[0]
    ):  # both say "close to X, which you liked": one sentence, their sum
        keep, drop = sorted(("online", "content"), key=lambda f: -families[f])
        families[keep] += families.pop(drop)
    out = []
    for family, value in sorted(families.items(), key=lambda kv: -kv[1]):
        if value < MIN_CONTRIBUTION:
            continue
        detail = reason_detail(family, item, prefs, evidence)
        if detail:
            detail = _zh(detail) if language == "zh" else detail
            out.append({"signal": family, "contribution": round(float(value), 4), "detail": detail})
    short = out[:MAX_REASONS]
    short += [r for r in out[MAX_REASONS:] if r["signal"] == "price_fit"]
    return short


def card(
    item: ScoredItem,
    prefs: Preferences,
    *,
    language: str = "en",
    evidence: Evidence | None = None,
) -> ItemCard:
    m = item.meta
    why = reasons(item, prefs, language=language, evidence=evidence)
    return ItemCard(
        id=item.id,
        title=item.title,
        explanation=("；" if language == "zh" else " · ").join(r["detail"] for r in _telling(why)),
        reasons=why,
        score=round(item.score, 4),
        price=m.get("price"),
        currency=m.get("currency"),
        rating=m.get("rating"),
        rating_count=m.get("rating_count"),
        category=m.get("category"),
        in_stock=m.get("in_stock"),
        image=m.get("image"),
        url=m.get("url"),
        brand=m.get("brand"),
    )


# fields that never tell two items apart for a shopper
_NOT_DETAILS = {"title", "description", "tags", "category", "image", "url", "rating_count", "brand"}


def label(card: ItemCard, cards: list[ItemCard]) -> str:
    """The card's title, with what tells it apart when another of `cards` has the same
    title ("Two-Person Dome Tent (Ridgeway Gear)"), so the copy, its opening and the
    template never leave it open which of two same-titled items they mean."""
    twins = sum(c.title.casefold() == card.title.casefold() for c in cards)
    mark = card.detail or card.brand
    return f"{card.title} ({mark})" if twins > 1 and mark else card.title


# fields that say who made an item: its title is then a name, said without "the"
MAKERS = ("author", "writer", "director", "stars", "artist", "creator", "composer")
_ARTICLE = re.compile(r"(?:the|a|an)\s", re.I)


def the_title(name: str, meta: Mapping[str, Any] | None = None) -> str:
    """An item named mid-sentence: "the Two-Person Dome Tent"; but the title of a work
    (the item has an author, a director, stars …) is a name, said as it is: "Platoon
    (1986)", "Children of the Seventh Ship"; and so is a title with its own article."""
    if _ARTICLE.match(name) or (meta is not None and any(meta.get(f) for f in MAKERS)):
        return name
    return f"the {name}"


def tell_apart(cards: list[ItemCard], metas: list[dict[str, Any]]) -> list[ItemCard]:
    """Cards that share a title get the first plain attribute whose values differ
    between them (brand, colour, size …), so "Sport Wireless Earbuds" ×3 can be told
    apart on screen and in feedback notes."""
    out = list(cards)
    groups: dict[str, list[int]] = {}
    for n, c in enumerate(cards):
        groups.setdefault(c.title.casefold(), []).append(n)
    for rows in (r for r in groups.values() if len(r) > 1):
        if len({cards[n].brand for n in rows}) == len(rows):
            continue  # the brands on the cards already tell them apart
        keys = [k for k in metas[rows[0]] if k not in _NOT_DETAILS and not k.startswith("_")]
        for key in keys:
            values = [metas[n].get(key) for n in rows]
            if all(
                isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values
            ) and len({str(v) for v in values}) == len(rows):
                for n, v in zip(rows, values, strict=True):
                    out[n] = replace(out[n], detail=_detail(key, v))
                break
    return out


def _detail(key: str, value: Any) -> str:
    if key == "price" and isinstance(value, (int, float)):
        return money(value)
    if key == "rating" and isinstance(value, (int, float)):
        return f"{value:.1f}★"
    if isinstance(value, (int, float)):
        return f"{key.replace('_', ' ')} {value:g}"
    return str(value)


def _telling(why: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reasons worth a reader's glance: "close to what you described" only when
    nothing more specific can be said."""
    specific = [r for r in why if r["signal"] != "semantic"]
    return specific or why


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
