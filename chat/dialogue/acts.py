"""Turning the policy's decision into words: the templated acts (ask, answer,
nothing matches, small talk …) and the short descriptions of constraints that
those replies and the copy prompt use. The recommendation itself is in
session.py, because it streams the LLM's copy."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import chat.dialogue.phrases as phrases
import chat.understand.intents as cues
from chat.dialogue.policy import Decision
from chat.reply.explain import money
from chat.state import DialogueState
from chat.understand.reading import MessageReading


def describe(state: DialogueState) -> str:
    """What the user wants, in words for the copy prompt ("toys; price under $30; not: horror")."""
    parts = []
    for facet, values in state.equals.items():
        parts.append(f"{phrases.label(facet)}: {', '.join(map(str, values))}")
    for facet, values in state.liked.items():
        parts.append(f"{phrases.label(facet)}: {', '.join(values)}")
    for facet, (low, high) in state.ranges.items():
        parts.append(f"{phrases.label(facet)} {_range_words(facet, low, high)}")
    negatives = [v for vs in state.excludes.values() for v in vs] + state.avoid_terms
    negatives += [v for vs in state.avoid.values() for v in vs]
    if negatives:
        parts.append("not: " + ", ".join(map(str, negatives)))
    return "; ".join(parts)


def _fmt(facet: str, value: float) -> str:
    if facet == "price":
        return money(value, "USD")
    return f"{value:g}" if isinstance(value, float) else str(value)


def _range_words(facet: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{_fmt(facet, low)}–{_fmt(facet, high)}" if low != high else f"{_fmt(facet, low)}"
    if high is not None:
        return f"up to {_fmt(facet, high)}"
    if low is not None:
        return f"from {_fmt(facet, low)}"
    return "any"  # open on both sides (the state never keeps such a range)


def what(state: DialogueState, kind_facet: str | None, language: str) -> str:
    """The kind of item asked for, for "I could not find {what} …"."""
    values = state.equals.get(kind_facet) if kind_facet else None
    if not values:
        hard = [v for vs in state.equals.values() for v in vs]
        values = hard[:2]
    if values:
        return ("/".join(map(str, values))) if language == "zh" else " or ".join(map(str, values))
    return phrases.say(language, "anything")


def no_match(
    decision: Decision,
    state: DialogueState,
    metas: Mapping[str, dict[str, Any]],
    kind_facet: str | None,
    language: str,
) -> str:
    offer = decision.offer
    thing = (offer or {}).get("about") or what(state, kind_facet, language)
    if not offer:
        return phrases.say(language, "nothing")
    if "drop" in offer:
        return phrases.say(
            language,
            "no_match_drop",
            what=thing,
            values=", ".join(map(str, offer["values"])),
            count=offer["count"],
        )
    facet, side = offer["facet"], offer["side"]
    meta = metas.get(offer["item"], {})
    title = meta.get("title", offer["item"])
    bound: str | int
    value: str | int
    if facet == "price":
        key = f"no_match_range_{side}"
        bound, value = (
            money(offer["was"], meta.get("currency")),
            money(offer["value"], meta.get("currency")),
        )
    elif facet == "year":
        key = f"no_match_year_{side}"
        bound, value = int(offer["was"]), int(offer["value"])
    else:
        key = f"no_match_num_{side}"
        bound, value = f"{offer['was']:g}", f"{offer['value']:g}"
    return phrases.say(
        language, key, what=thing, bound=bound, title=title, value=value, facet=phrases.label(facet)
    )


def smalltalk(msg: MessageReading, language: str) -> str:
    low = msg.prepared.lower()
    if cues.ABOUT_BOT.search(low):
        return phrases.say(language, "about")
    if cues.THANKS.search(low):
        return phrases.say(language, "thanks")
    if cues.BYE.search(low):
        return phrases.say(language, "bye")
    return phrases.say(language, "greeting")


def answer(msg: MessageReading, metas: Mapping[str, dict[str, Any]], language: str) -> str:
    """Questions about items, answered from their catalog records only."""
    out = []
    # a value is checked once, and not when its word names the field asked ("how many
    # hours of battery": battery_hours is asked, no item is asked to be "battery")
    asked = " ".join(f.replace("_", " ") for f in msg.fields)
    checks = list(
        {
            h.value.lower(): h
            for h, p in msg.values
            if p == "+" and not re.search(rf"\b{re.escape(h.value.lower())}\b", asked)
        }.values()
    )
    for item_id in msg.targets:
        meta = metas.get(item_id)
        if meta is None:
            continue
        # "is it available in grey?" checks the value and answers the field asked
        out += [phrases.value_check(meta, h.facet, h.value, language) for h in checks]
        if msg.fields or not checks:
            out.append(phrases.answer(meta, msg.fields, language))
    return " ".join(out) or phrases.say(language, "unclear")


def nothing_new(msg: MessageReading, language: str, shown: int) -> str:
    """The reply to a message about the shown list in which the reader found nothing
    to do; the cards stay as they are. A question for a field of an item it could not
    point at ("how much is the 15 metre one?") asks which one; one for a fact the
    catalog does not hold ("who runs that company?") says so; anything else asks what
    to change."""
    if not cues.is_question(msg.prepared.lower()):
        return phrases.say(language, "acknowledge")
    if msg.fields and shown:
        return phrases.say(language, "which_one", count=shown)
    return phrases.say(language, "not_known")


def acknowledge(msg: MessageReading, metas: Mapping[str, dict[str, Any]], language: str) -> str:
    """A line for feedback given in the text ("Noted: I won't suggest X again.")."""
    lines = []
    for item_id, kind in msg.feedback:
        title = metas.get(item_id, {}).get("title", item_id)
        lines.append(phrases.say(language, kind, title=title))
    return " ".join(lines)


def question(decision: Decision, language: str, kind_facet: str | None, msg: MessageReading) -> str:
    """The policy's question; greeted back when the message was a greeting ("hey")."""
    labels = [o["label"] for o in decision.options]
    text = phrases.question(decision.facet or "", labels, language, kind_facet)
    if cues.GREETING.search(msg.prepared.lower()):
        text = phrases.say(language, "hello") + ("" if language == "zh" else " ") + text
    return text
