"""Fixed replies, in English and Chinese: questions, answers from catalog facts,
"nothing matches" offers, small talk, and feedback acknowledgements.

These are templates on purpose. A question, a price or a stock answer must be
right and instant; a 135M model adds nothing but risk there. The LLM writes the
recommendation copy only (copywriter.py).
"""

from __future__ import annotations

import re
from typing import Any

from chat.reply.explain import description, money

TEXT = {
    "en": {
        "greeting": "Hi! Tell me what you are looking for, and I will find it in the catalog.",
        "hello": "Hi!",
        "thanks": "You're welcome! Anything else I can find for you?",
        "bye": "Goodbye, and enjoy!",
        "about": "I am recochat, an assistant that recommends items from this catalog. "
        "Tell me what you need, your budget or what you liked before.",
        "refuse": "I can only help with finding items in this catalog. What are you looking for?",
        "unclear": "Sorry, I did not understand that. Tell me what you are looking for, "
        "for example a kind of item, a budget or something you liked.",
        "reset": "Okay, let's start over. What are you looking for?",
        "nothing_shown": "I have not shown you any items yet. What are you looking for? "
        "Tell me the kind of item, a budget or something you liked.",
        "acknowledge": "Okay. What should I change — the budget, the kind of item, something else?",
        "which_one": "Which one do you mean? Say a number from 1 to {count}, or its name.",
        "not_known": "The catalog does not say that. I can tell you the price, rating, maker or "
        "details of the items shown, or change them — cheaper, another brand, something else?",
        "nothing": "I could not find anything that matches yet. Could you tell me a bit more?",
        "ask_kind": "What kind of item are you looking for — {options}, or something else?",
        "ask_price": "What is your budget — {options}?",
        "ask_year": "Any particular era — {options}?",
        "ask_facet": "Any preference for {facet} — {options}?",
        "or": "or",
        "no_match_range_high": "I could not find {what} under {bound}. The cheapest is {title} at {value} — want that?",
        "no_match_range_low": "I could not find {what} over {bound}. The most expensive is {title} at {value} — want that?",
        "no_match_year_high": "I could not find {what} from {bound} or earlier. The closest is {title} from {value} — want that?",
        "no_match_year_low": "I could not find {what} from {bound} or later. The closest is {title} from {value} — want that?",
        "no_match_num_high": "I could not find {what} with {facet} up to {bound}. The closest is {title} with {value} — want that?",
        "no_match_num_low": "I could not find {what} with {facet} of at least {bound}. The closest is {title} with {value} — want that?",
        "no_match_drop": "I could not find {what} with all of that. Without {values} there are {count} matches — want to see them?",
        "anything": "anything",
        "like": "Glad you like {title}.",
        "dislike": "Noted: I won't suggest {title} again.",
        "seen": "Got it, you already know {title}; I won't suggest it again.",
        "in_stock": "{title} is in stock.",
        "out_of_stock": "{title} is currently out of stock.",
        "price": "{title} costs {value}.",
        "rating": "{title} is rated {value}/5 from {count:,} ratings.",
        "rating_nocount": "{title} is rated {value}/5.",
        "year": "{title} is from {value}.",
        "field": "{title} — {facet}: {value}.",
        "missing": "The catalog does not list the {facet} of {title}.",
        "has_value": "Yes — {title} is listed as {value}.",
        "lacks_value": "No — {title} is not listed as {value}.",
    },
    "zh": {
        "greeting": "你好！告诉我你想找什么，我来帮你在商品目录里找。",
        "hello": "你好！",
        "thanks": "不客气！还需要我帮你找点别的吗？",
        "bye": "再见，祝你愉快！",
        "about": "我是 recochat，帮你从这个目录里挑选推荐。告诉我你的需求、预算或者喜欢过的东西吧。",
        "refuse": "我只能帮你在这个目录里找东西。你想找什么呢？",
        "unclear": "抱歉，我没看懂。告诉我你想找什么，比如类别、预算或者你喜欢的东西。",
        "reset": "好的，我们重新开始。你想找什么？",
        "nothing_shown": "我还没有给你推荐任何商品。你想找什么？告诉我类别、预算或者你喜欢的东西。",
        "acknowledge": "好的。要改哪一点——预算、类别，还是别的？",
        "which_one": "你指的是哪一个？请说 1 到 {count} 之间的数字，或者它的名字。",
        "not_known": "目录里没有这方面的信息。我可以告诉你这些商品的价格、评分、品牌或详情，或者换一批——更便宜的、别的牌子，还是别的？",
        "nothing": "暂时没有找到符合的。能再多说一点吗？",
        "ask_kind": "你想要哪一类？比如{options}，还是别的？",
        "ask_price": "你的预算大概是多少？{options}？",
        "ask_year": "喜欢哪个年代的？{options}？",
        "ask_facet": "{facet}有偏好吗？比如{options}。",
        "or": "或",
        "no_match_range_high": "没有找到低于 {bound} 的{what}。最便宜的是 {title}，{value}——要看看吗？",
        "no_match_range_low": "没有找到高于 {bound} 的{what}。最贵的是 {title}，{value}——要看看吗？",
        "no_match_year_high": "没有找到 {bound} 年或更早的{what}。最接近的是 {title}（{value}）——要看看吗？",
        "no_match_year_low": "没有找到 {bound} 年或更晚的{what}。最接近的是 {title}（{value}）——要看看吗？",
        "no_match_num_high": "没有找到{facet}不超过 {bound} 的{what}。最接近的是 {title}（{value}）——要看看吗？",
        "no_match_num_low": "没有找到{facet}至少 {bound} 的{what}。最接近的是 {title}（{value}）——要看看吗？",
        "no_match_drop": "没有同时满足这些条件的{what}。去掉 {values} 的话有 {count} 个——要看看吗？",
        "anything": "商品",
        "like": "很高兴你喜欢 {title}。",
        "dislike": "好的，不会再推荐 {title}。",
        "seen": "明白，你已经看过/有了 {title}，不会再推荐它。",
        "in_stock": "{title} 有货。",
        "out_of_stock": "{title} 目前缺货。",
        "price": "{title} 的价格是 {value}。",
        "rating": "{title} 评分 {value}/5（{count:,} 人评分）。",
        "rating_nocount": "{title} 评分 {value}/5。",
        "year": "{title} 是 {value} 年的。",
        "field": "{title} 的{facet}：{value}。",
        "missing": "目录里没有 {title} 的{facet}信息。",
        "has_value": "是的——{title} 的{facet}包括 {value}。",
        "lacks_value": "不是——{title} 没有标注{facet} {value}。",
    },
}


def say(language: str, key: str, **values: Any) -> str:
    table = TEXT.get(language, TEXT["en"])
    return table.get(key, TEXT["en"][key]).format(**values)


# a field named with its unit ("capacity_l", "weight_kg"): the name said without it,
# the value with it ("capacity: 20 L")
_UNITS = {"l": "L", "ml": "ml", "kg": "kg", "g": "g", "cm": "cm", "mm": "mm", "w": "W"}
_UNITS |= {"hours": "hours", "mins": "minutes", "minutes": "minutes", "in": "in", "gb": "GB"}


def _unit(facet: str) -> tuple[str, str | None]:
    name, _, unit = facet.rpartition("_")
    return (name, _UNITS[unit]) if name and unit in _UNITS else (facet, None)


def label(facet: str) -> str:
    return {"genres": "genre", "battery_hours": "battery life (hours)", "in_stock": "stock"}.get(
        facet, _unit(facet)[0].replace("_", " ")
    )


def join_options(labels: list[str], language: str) -> str:
    if language == "zh":
        return "、".join(labels)
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + f" {say(language, 'or')} {labels[-1]}"


def _zh_label(label: str) -> str:
    """Option labels are made in English by the policy; say the common ones in Chinese."""
    label = re.sub(r"^the (\d{4})s$", r"\1年代", label)
    label = re.sub(r"^under (.+)$", r"\1 以下", label)
    return re.sub(r"^over (.+)$", r"\1 以上", label)


def question(facet: str, labels: list[str], language: str, kind_facet: str | None) -> str:
    if language == "zh":
        labels = [_zh_label(label) for label in labels]
    options = join_options(labels, language)
    if facet == kind_facet:
        return say(language, "ask_kind", options=options)
    if facet == "price":
        return say(language, "ask_price", options=options)
    if facet == "year":
        return say(language, "ask_year", options=options)
    return say(language, "ask_facet", facet=label(facet), options=options)


def format_value(facet: str, value: Any, meta: dict[str, Any]) -> str:
    if facet == "price" and isinstance(value, (int, float)):
        return money(value, meta.get("currency"))
    unit = _unit(facet)[1] if facet != "battery_hours" else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and unit:
        return f"{value:g} {unit}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def answer(meta: dict[str, Any], fields: list[str], language: str) -> str:
    """Answer questions about one item from its catalog record only."""
    title = meta.get("title", "?")
    if not fields:
        text = description(meta, limit=300)
        facts = [
            format_value(k, meta[k], meta) for k in ("price", "year") if meta.get(k) is not None
        ]
        return (
            f"{title}"
            + (f" ({', '.join(facts)})" if facts else "")
            + (f": {text}" if text else ".")
        )
    out = []
    if "size" in fields and meta.get("size") is None:
        # "how big is the eucalyptus one?": what the record measures it by (250 ml)
        at = fields.index("size")
        rest = [f for f in fields if f != "size"]
        fields = rest[:at] + [f for f in size_measures(meta) if f not in rest] + rest[at:]
    for facet in fields:
        value = meta.get("plot") if facet == "description" and "plot" in meta else meta.get(facet)
        if facet == "description":
            text = description(meta, limit=300)
            out.append(
                f"{title}: {text}"
                if text
                else say(language, "missing", facet="description", title=title)
            )
        elif value is None:
            out.append(say(language, "missing", facet=label(facet), title=title))
        elif facet == "in_stock":
            out.append(say(language, "in_stock" if value else "out_of_stock", title=title))
        elif facet == "price":
            out.append(say(language, "price", title=title, value=format_value(facet, value, meta)))
        elif facet == "rating":
            count = meta.get("rating_count")
            key = "rating" if count else "rating_nocount"
            out.append(say(language, key, title=title, value=f"{value:.1f}", count=count or 0))
        elif facet == "year":
            out.append(say(language, "year", title=title, value=int(value)))
        else:
            out.append(
                say(
                    language,
                    "field",
                    title=title,
                    facet=label(facet),
                    value=format_value(facet, value, meta),
                )
            )
    return " ".join(out)


def size_measures(meta: dict[str, Any]) -> list[str]:
    """The fields that measure how big the item is, in units of size ("volume_ml",
    "capacity_l"; not its weight), or ["size"] when it has none."""
    found = [
        f
        for f, v in meta.items()
        if isinstance(v, (int, float))
        and not isinstance(v, bool)
        and _unit(f)[1]
        and f.rpartition("_")[2] not in ("kg", "g", "hours", "mins", "minutes", "w")
    ]
    return found or ["size"]


def value_check(meta: dict[str, Any], facet: str, value: str, language: str) -> str:
    """ "Is the second one waterproof?" answered from the item's record."""
    have = meta.get(facet)
    have = have if isinstance(have, list) else [have]
    key = "has_value" if value in have else "lacks_value"
    return say(language, key, title=meta.get("title", "?"), facet=label(facet), value=value)
