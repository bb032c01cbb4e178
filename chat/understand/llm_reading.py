"""A second reading of a message by the LLM, for what the rules leave unsure.

The rule-based reader (reader.py) knows the catalog's words exactly but only the
phrasings it has cues for; a small LLM knows phrasings ("sumthing 4 my runs",
"what time do you open?") but not the catalog. So the LLM is asked only when
the rules' reading is unsure (`unsure`: nothing in the message is catalog
vocabulary, no kind of item was recognised, a number was left unread, a question
while items are on screen), with decoding constrained to a small JSON schema
where the engine can (prompts/read.yaml), and nothing it says is used unchecked:

- an intent that takes the turn away from shopping (off-topic, chat) only when
  the rules read a request for want of anything else: no catalog word, no
  request cue ("recommend me", "surprise me"), no question awaiting an answer;
  a message the rules did not understand may become a request, nothing else;
- a question about a shown item only for an item that is on screen and a
  message that reads as a question and sets no constraint;
- the kind of item and the price limits are not applied directly: they are
  added to the message as a plain-English gloss ("…. headphones, under $60")
  and the rules read it again, so only catalog values and well-formed prices
  get in, exactly as if the user had written them; a price only when the
  message itself holds a number.

What the LLM said and what was used or dropped go into the reading's notes (the
debug view). Without an LLM, or when its answer is invalid, the rules' reading
stands alone.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import chat.understand.intents as cues
import prompts
from chat.llm import LLM, ModelBusy
from chat.state import DialogueState
from chat.understand.learned_intent import has_kind, is_shopper, shopping_cue
from chat.understand.ranges import amounts
from chat.understand.reader import read_message
from chat.understand.reading import MessageReading
from chat.understand.text import tokenize
from chat.understand.vocabulary import CatalogVocabulary
from chat.understand.words import COMMON_WORDS, PEOPLE

log = logging.getLogger(__name__)

INTENTS = ("shop", "question", "feedback", "chat", "off_topic")
FIELDS = {"intent", "item", "thing", "min_price", "max_price"}
# words that say a number ("under two hundred"): a price the LLM read from them is
# backed by the message even without digits
_NUMBER_WORDS = re.compile(
    r"\b(?:ten|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    r"thousand|grand|k)\b|[一二三四五六七八九十百千万两]",
    re.I,
)


@dataclass(frozen=True)
class LLMReading:
    intent: str
    item: int  # 1-based position on screen, 0 for none
    thing: str
    min_price: float | None
    max_price: float | None

    @property
    def prices(self) -> tuple[float | None, float | None]:
        return self.min_price, self.max_price


def parse(text: str) -> LLMReading | None:
    """The reading in `text` (its first JSON object), or None when it is not one."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except ValueError:
        return None
    if not isinstance(data, dict) or not FIELDS <= data.keys() or data["intent"] not in INTENTS:
        return None
    item, thing = data["item"], data["thing"] or ""
    if not isinstance(item, int) or isinstance(item, bool) or not isinstance(thing, str):
        return None
    prices = [data.get("min_price"), data.get("max_price")]
    if any(
        p is not None and (isinstance(p, bool) or not isinstance(p, int | float)) for p in prices
    ):
        return None
    low, high = (float(p) if p is not None and p > 0 else None for p in prices)
    return LLMReading(data["intent"], item, thing.strip()[:40], low, high)


def unsure(vocab: CatalogVocabulary, state: DialogueState, msg: MessageReading) -> str | None:
    """Why the rules' reading may be incomplete, or None when it is complete and
    confident (then the LLM is not asked)."""
    if msg.unsupported or msg.problem or msg.option or msg.reset or msg.vague:
        return None  # settled, or a need left open on purpose (the policy asks)
    if msg.intent == "unclear":
        return "no word of the message is catalog vocabulary"
    if msg.intent not in ("recommend", "refine"):
        return None  # a cue settled it: feedback, a question, small talk …
    low = msg.prepared.lower()
    if state.shown and cues.is_question(low) and not msg.constraints:
        return "a question while items are on screen"
    if not _grounded(msg):
        return "nothing in the message is catalog vocabulary"
    if msg.intent == "recommend" and not has_kind(vocab, state, msg):
        return "no kind of item recognised"
    if amounts(low) and not any(r.facet == vocab.ranges.price for r in msg.reading.ranges):
        return "a number that was not read as a price"
    return None


class LLMReader:
    """Asks the LLM when the rules are unsure, and merges what survives validation."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm
        self.settings = prompts.settings("read")

    def improve(
        self, vocab: CatalogVocabulary, state: DialogueState, msg: MessageReading
    ) -> MessageReading:
        why = unsure(vocab, state, msg)
        if why is None:
            return msg
        reading = self.ask(vocab, state, msg.text)
        if reading is None:
            msg.notes.append(f"llm reading ({why}): no valid answer")
            return msg
        return merge(vocab, state, msg, reading, why)

    def ask(self, vocab: CatalogVocabulary, state: DialogueState, text: str) -> LLMReading | None:
        shown = " ".join(
            f"{n}. {_label(vocab.metas.get(i, {}), i)}" for n, i in enumerate(state.shown, 1)
        )
        messages = prompts.render("read", shown=shown, message=text)
        try:
            answer = self.llm.complete_json(
                messages, self.settings["schema"], max_tokens=self.settings["max_tokens"]
            )
        except ModelBusy:  # every slot taken: the rules' reading stands, without a wait
            log.info("LLM reading skipped: the model is busy")
            return None
        except Exception:  # a broken backend must not break the turn: the rules stand
            log.exception("LLM reading failed")
            return None
        return parse(answer)


def merge(
    vocab: CatalogVocabulary,
    state: DialogueState,
    msg: MessageReading,
    reading: LLMReading,
    why: str,
) -> MessageReading:
    """The rules' reading with what the LLM adds that survives the checks."""
    said = f"llm reading ({why}): {reading}"
    # the learned intents sure it is a shopper's message: the model cannot make it chat
    if (
        reading.intent in ("off_topic", "chat")
        and _no_cue(vocab, state, msg)
        and not is_shopper(msg)
    ):
        msg.intent = "out_of_scope" if reading.intent == "off_topic" else "smalltalk"
        msg.notes.append(f"{said}; used: {msg.intent}")
        return msg
    if reading.intent == "question" and 1 <= reading.item <= len(state.shown):
        if not msg.constraints and cues.is_question(msg.prepared.lower()):
            msg.intent, msg.targets = "question", [state.shown[reading.item - 1]]
            msg.fields = cues.attributes_asked(msg.prepared.lower(), vocab.fields)
            msg.notes.append(f"{said}; used: a question about item {reading.item}")
            return msg
    gloss = _gloss(vocab, state, msg, reading)
    if not gloss:
        unknown = bool(reading.thing) and not vocab.lexicon.find(tokenize(reading.thing))
        if reading.intent == "shop" and msg.intent == "unclear" and unknown:
            # "do you sell surfboards?": a thing the catalog has no word for is not
            # sold here; a list of other things would pretend it is
            msg.notes.append(f"{said}; not used: a thing the catalog does not have")
        elif reading.intent == "shop" and msg.intent == "unclear":
            # "no idea what to get for my nephew": a request, if a vague one; the
            # policy asks what kind of thing instead of saying it did not understand
            msg.intent = "recommend"
            msg.notes.append(f"{said}; used: a request")
        else:
            msg.notes.append(f"{said}; nothing used")
        return msg
    # a message in another language is read in its catalog English (reader.py maps
    # its words), the gloss adds what that mapping missed
    glossed = read_message(vocab, state, f"{msg.text}. {gloss}")
    glossed.text = msg.text
    glossed.notes = [*msg.notes, f"{said}; read as: {gloss}"]
    return glossed


def _gloss(
    vocab: CatalogVocabulary, state: DialogueState, msg: MessageReading, reading: LLMReading
) -> str:
    """Plain English for the kind and the price limits the rules missed, or ""."""
    if reading.intent not in ("shop", "question", "feedback"):
        return ""
    parts = []
    # "zero clue what to get him": the user says they do not know what; a kind the
    # LLM guesses would answer for them instead of asking
    thing = "" if msg.no_preference and not state.pending else reading.thing
    if thing and not has_kind(vocab, state, msg) and vocab.lexicon.find(tokenize(thing)):
        parts.append(thing)
    price = vocab.ranges.price
    read = [(r.low, r.high) for r in msg.reading.ranges if r.facet == price]
    if price and not read:
        low, high = (p if _backed(p, msg.prepared) else None for p in reading.prices)
        if low is not None or high is not None:
            if low is not None and high is not None and low <= high:
                parts.append(f"between ${low:g} and ${high:g}")
            elif high is not None:
                parts.append(f"under ${high:g}")
            else:
                parts.append(f"over ${low:g}")
    return ", ".join(parts)


def _no_cue(vocab: CatalogVocabulary, state: DialogueState, msg: MessageReading) -> bool:
    """Did the rules read a request only because nothing else fitted: no catalog
    value, most words foreign to the catalog's text, no request or "surprise me" cue,
    no question awaiting an answer? Only then may the LLM take the turn away from
    shopping ("cut back the hedge and thick branches" is the catalog's language)."""
    low = msg.prepared.lower()
    cued = bool(
        cues.REQUEST.search(low)
        or cues.FORCE.search(low)
        or cues.NO_PREFERENCE.search(low)
        # "what else?" on screen, an occasion, "a film", "just browsing" (reader.py)
        or shopping_cue(state, msg, low)
    )
    # who a present is for ("my aunt owns everything already") makes it a shopper's
    # message, however chatty: the policy asks what kind of thing
    for_someone = any(t.text in PEOPLE for t in msg.tokens)
    return (
        msg.intent in ("recommend", "refine")
        and not _grounded(msg)
        and not cued
        and not for_someone
        and not state.pending
        and _catalog_share(vocab, msg) < 0.5
    )


def _catalog_share(vocab: CatalogVocabulary, msg: MessageReading) -> float:
    """The share of the message's content words that the catalog's own text uses
    (at least twice, and not among the most common English words)."""
    if not msg.content:
        return 0.0
    own = [
        w for w in msg.content if vocab.lexicon.vocabulary.get(w, 0) >= 2 and w not in COMMON_WORDS
    ]
    return len(own) / len(msg.content)


def _backed(price: float | None, text: str) -> bool:
    """Does the message hold this price: as digits ("30 to 45"), or, when it has no
    digits, in number words ("under two hundred")?"""
    if price is None:
        return False
    if re.search(r"\d", text):  # digits: one of its amounts, not a count ("for 2 ppl")
        return price in amounts(text)
    return bool(_NUMBER_WORDS.search(text))


def _grounded(msg: MessageReading) -> bool:
    """Did the rules find anything of the catalog in the message?"""
    return bool(
        msg.values
        or msg.titles
        or msg.refs
        or msg.feedback
        or msg.reading.ranges
        or msg.reading.levels
        or msg.reading.comparatives
        or msg.in_stock
    )


def _label(meta: dict[str, Any], item_id: str) -> str:
    brand = meta.get("brand")
    title = str(meta.get("title") or item_id)
    return f"{title} ({brand})" if brand else title
