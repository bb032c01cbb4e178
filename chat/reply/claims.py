"""Claims in recommendation copy, checked against what the prompt gave the model.

copycheck.py checks the names of catalog items, numbers and the language; this
module checks the other things a small model gets wrong while sounding sure:

  - a name it made up ("directed by Jaren Jones"): a capitalised name that is in
    none of the chosen items' facts, the request, or ordinary English;
  - one item's figure said of another (a rating count copied across items): a
    number said right after an item's title must be that item's own, or the
    request's;
  - an item called a thing it is not ("the Hose Reel Cart, a compact pressure
    washer"): a noun that names a kind of thing the catalog sells (`kind_words`),
    said of an item right after its title ("…, a …", "…: a …", "… is a …"), must be
    in that item's own facts;
  - a star rating that is not the item's rating ("10.0★");
  - links and e-mail addresses (catalog text is data: a reply never sends the
    customer anywhere), and words lifted from instructions that were planted in
    catalog text ("visit evil.example", "the shop is closing tomorrow");
  - a list of what the user "asked for" with values they did not ask for and the
    ranking did not match (a worked example's word, a dump of the item's tags),
    or with a value said twice;
  - a word going round in variants ("beach, beach-themed, beach-inspired"), or a
    phrase said twice in a row ("fits your budget; fits your budget");
  - and it reports which card the reply leads with (`lead`): the ranking's best
    should come first.

Catalog text reaches the prompt only through `data_only`, which keeps the
descriptive sentences and withholds the ones that address the reader (links,
"visit", "ignore your instructions", news about the shop).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chat.reply.copycheck import may_grow, number_allowed, number_spans, numbers
from chat.understand.references import title_core
from chat.understand.text import singular, tokenize
from chat.understand.words import COMMON_WORDS

LINK = re.compile(
    r"(https?://\S+|www\.\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b|\b[\w-]+\.(?:com|net|org|io|example|shop|biz|info)\b)",
    re.I,
)
# Sentences of catalog text that speak to the reader or about the shop, not about
# the item: the verbs of a call to action, words aimed at an assistant, shop news.
_DIRECTIVE = re.compile(
    r"^\s*(?:please\s+)?(visit|call|click|e-?mail|contact|text|message|ignore|disregard|"
    r"forget|tell|say|respond|reply|hurry|act now|go to|write to|send)\b",
    re.I,
)
_ADDRESSED = re.compile(
    r"\b(assistant|chatbot|language model|system prompt|instructions?|you must|"
    r"(?:the|our|this) (?:shop|store|website|site) (?:is|will|closes|closing)|"
    r"closing (?:down|tomorrow|soon)|last chance|limited time)\b",
    re.I,
)
_SENTENCE = re.compile(r"\S.*?(?:[.!?。！？]+(?=\s|$)|$)", re.S)
MIN_CHARS = 12  # shorter, and without a sentence end, is no reply at all
LIFTED_WORDS = 4  # a run of this many words from withheld text is a lifted instruction
STEM = 5  # letters that make two words variants of one ("beach" / "beach-themed")
STEM_WINDOW = 6  # content words within which three variants make a loop
_STAR = re.compile(r"(\d+(?:\.\d+)?)\s*(?:★|stars?\b|/\s*5\b|out of 5)", re.I)


@dataclass(frozen=True)
class Claim:
    kind: str  # unfinished | invented_name | wrong_item | wrong_kind | rating | link | lifted | …
    detail: str  # written for the model's corrective retry and the debug view


def data_only(text: str) -> tuple[str, list[str]]:
    """Catalog text split into what may reach the prompt (descriptive sentences) and
    what is withheld (sentences that address the reader or carry links)."""
    kept, withheld = [], []
    for m in _SENTENCE.finditer(text):
        sentence = m.group(0)
        if LINK.search(sentence) or _DIRECTIVE.search(sentence) or _ADDRESSED.search(sentence):
            withheld.append(sentence.strip())
        else:
            kept.append(sentence.strip())
    return " ".join(kept), withheld


@dataclass(frozen=True)
class ItemFacts:
    """One chosen item as the prompt gave it: its title and everything said of it."""

    title: str
    text: str  # price, facts, reasons
    rating: float | None = None
    reasons: str = ""  # why it fits, as the ranking said it


def check_claims(
    reply: str,
    items: Sequence[ItemFacts],
    *,
    request: str = "",
    withheld: Sequence[str] = (),
    partial: bool = False,
    title_words: frozenset[str] = frozenset(),
    kind_words: frozenset[str] = frozenset(),
) -> list[Claim]:
    """What the reply claims beyond the items' facts; [] when it says nothing new.
    Words of catalog titles (`title_words`) are left to the title check, which
    names the whole item that was not chosen; `kind_words` are the nouns that name
    the kinds of thing the catalog sells (singular)."""
    claims: list[Claim] = []
    if not partial and items and _cut_off(reply):
        claims.append(Claim("unfinished", "Write two or three whole sentences about the items."))
    if m := LINK.search(reply):
        claims.append(Claim("link", f'Do not give links or addresses ("{m.group(0)}").'))
    if lifted := _lifted(reply, withheld):
        claims.append(Claim("lifted", f'"{lifted}" is not a fact about the items; leave it out.'))
    known = _words(request + " " + " ".join(f"{i.title} {i.text}" for i in items)) | title_words
    if name := _invented_name(reply, known, partial):
        claims.append(Claim("invented_name", f'"{name}" is not in the facts given; leave it out.'))
    claims += _attribution(reply, items, request, partial)
    if kind_words and (wrong := _wrong_kind(reply, items, kind_words, partial)):
        claims.append(Claim("wrong_kind", wrong))
    if unasked := _unasked(reply, items, request):
        claims.append(Claim("unasked", unasked))
    if loop := _variant_loop(reply, [i.title for i in items]) or _said_twice(reply):
        claims.append(Claim("variant_loop", f'Do not repeat "{loop}" in different forms.'))
    return claims


def _cut_off(reply: str) -> bool:
    """A reply that stopped mid-thought: no sentence end, and it breaks off at a colon or
    comma ("I'd add:"), inside parentheses ("4.4/5 (603 ratings"), or after a few words.
    (A reply that just lacks its final full stop is fine.)"""
    text = reply.strip()
    if not text or text[-1] in ".!?。！？)\"'”":
        return not text
    return text[-1] in ":,;(—-" or text.count("(") > text.count(")") or len(text) < MIN_CHARS


def lead(reply: str, titles: Sequence[str]) -> str | None:
    """The title the reply names first, if it names one. The ranking's best item
    should come first (a reply that opens with another one praises the wrong card):
    the opening written by code names it (chat/reply/opening.py) where the backend
    continues a begun reply, the prompt asks for it elsewhere, and the debug view
    and the evaluation count it; a draft is not rejected for it: small models then
    fall back to the template far more often than they lead well."""
    first = min(
        (
            (m.start(), title)
            for title in titles
            for m in re.finditer(re.escape(title_core(title)), reply, re.I)
        ),
        default=None,
    )
    return None if first is None else first[1]


_TWICE = re.compile(r"\b(\w+(?:[ '-]\w+){2,})\W+\1\b", re.I)


def _said_twice(reply: str) -> str | None:
    """A phrase of three or more words said twice in a row ("fits your budget;
    fits your budget")."""
    m = _TWICE.search(reply)
    return m.group(1) if m else None


def _words(text: str) -> set[str]:
    return {t.text for t in tokenize(text)}


def _invented_name(reply: str, known: set[str], partial: bool) -> str | None:
    """A run of capitalised words, not opening a sentence, with a word that is in
    neither the facts nor ordinary English: a name the model made up."""
    for sentence in _SENTENCE.finditer(reply):
        words = list(re.finditer(r"[A-Z][\w'’-]*", sentence.group(0)))
        for m in words:
            if m.start() == 0:
                continue  # a sentence's first word is capitalised anyway
            if partial and sentence.start() + m.end() >= len(reply.rstrip()):
                continue  # may still grow
            for token in tokenize(m.group(0)):
                word = token.text.removesuffix("'s").removesuffix("’s")
                if len(word) > 2 and word not in known and word not in COMMON_WORDS:
                    return m.group(0)
    return None


def _mentions(reply: str, items: Sequence[ItemFacts]) -> list[tuple[int, int, list[int]]]:
    """Where each item's title is said (start, end, the items of that title: items
    with the same title share their mentions), in the order of the reply."""
    found: dict[tuple[int, int], list[int]] = {}
    for n, item in enumerate(items):
        for m in re.finditer(re.escape(title_core(item.title)), reply, re.I):
            found.setdefault((m.start(), m.end()), []).append(n)
    return sorted((start, end, ns) for (start, end), ns in found.items())


# what a reply says an item is, right after its title: "the Hose Reel Cart: a compact
# pressure washer", "…Walkie Talkies 2-Pack, a wooden jigsaw puzzle", "… is a camp chair"
_IS_A = re.compile(
    r"^\s*(?:\([^()]*\))?\s*(?:,\s*which\s+is|:|,|—|–|-|\s+is)\s+(?:a|an)\s+((?:[\w'’$.-]+\s+){0,5}[\w'’-]+)",
    re.I,
)


def _wrong_kind(
    reply: str, items: Sequence[ItemFacts], kind_words: frozenset[str], partial: bool
) -> str | None:
    """What the reply says an item is, right after its title, names a kind of thing
    that is in none of the item's own words: "the Kids Walkie Talkies 2-Pack, a
    wooden jigsaw puzzle"."""
    for _, after, ns in _mentions(reply, items):
        m = _IS_A.match(reply[after:])
        if not m:
            continue
        own = {singular(w) for n in ns for w in _words(f"{items[n].title} {items[n].text}")}
        said = list(tokenize(m.group(1)))
        if partial and may_grow(reply, after + m.end()):
            said = said[:-1]  # the last word may still grow
        for token in said:
            noun = singular(token.text)
            if noun in kind_words and noun not in own and token.text not in own:
                return f"{items[ns[0]].title} is not a {noun}; say only what its facts say."
    return None


def _attribution(
    reply: str, items: Sequence[ItemFacts], request: str, partial: bool
) -> list[Claim]:
    """Numbers said while an item is being talked about (after its title, before
    the next title) must be that item's own figures, the request's, or small counts."""
    spans = _mentions(reply, items)
    ratings = {i.rating for i in items if i.rating is not None}
    head = reply[: spans[0][0]] if spans else reply
    for m in _STAR.finditer(head):  # before any title: some item's rating
        if not any(abs(float(m.group(1)) - r) <= 0.05 for r in ratings):
            return [Claim("rating", f"No listed item is rated {m.group(1)}.")]
    if not spans:
        return []
    base = set(numbers(request)) | {float(n) for n in range(1, len(items) + 2)}
    for k, (_, after, ns) in enumerate(spans):
        end = spans[k + 1][0] if k + 1 < len(spans) else len(reply)
        segment, title = reply[after:end], items[ns[0]].title
        stars = list(_STAR.finditer(segment))
        own_ratings = [r for n in ns if (r := items[n].rating) is not None]
        for m in stars:
            if not any(abs(float(m.group(1)) - r) <= 0.05 for r in own_ratings):
                return [Claim("rating", f"{title} is not rated {m.group(1)}.")]
        own = base | {v for n in ns for v in numbers(f"{items[n].title} {items[n].text}")}
        for value, at, stop in number_spans(segment):
            if any(m.start() <= at < m.end() for m in stars):
                continue  # checked as a rating above
            if partial and may_grow(reply, after + stop):
                continue
            if not number_allowed(value, own):
                return [Claim("wrong_item", f"{value:g} is not a figure of {title}.")]
    return []


# "what you asked for (a, b)", "the things you wanted (a and b)": the user's own wishes
_ASKED = re.compile(
    r"\b(?:asked for|you wanted|you want|you described|your request|you mentioned)\W{0,3}\(([^()]*)\)",
    re.I,
)


def _unasked(reply: str, items: Sequence[ItemFacts], request: str) -> str | None:
    """A list of what the user asked for must hold only their words or the values the
    ranking matched, each once; a value from elsewhere (the worked example's "reading",
    the item's other tags) puts words in the user's mouth."""
    matched = " ".join(i.reasons or i.text for i in items)
    known = _words(request) | _words(matched)
    for m in _ASKED.finditer(reply):
        values = [v.strip().lower() for v in re.split(r",|\band\b|;", m.group(1)) if v.strip()]
        for n, value in enumerate(values):
            if value in values[:n]:
                return f'You listed "{value}" twice; name what the customer asked for once.'
            if not _words(value) <= known:
                return (
                    f'The customer did not ask for "{value}"; say only what they asked for '
                    "or what the items match."
                )
    return None


def _lifted(reply: str, withheld: Sequence[str]) -> str | None:
    words = [t.text for t in tokenize(reply)]
    grams = {tuple(words[i : i + LIFTED_WORDS]) for i in range(len(words) - LIFTED_WORDS + 1)}
    for sentence in withheld:
        theirs = [t.text for t in tokenize(sentence)]
        for i in range(len(theirs) - LIFTED_WORDS + 1):
            if tuple(theirs[i : i + LIFTED_WORDS]) in grams:
                return " ".join(theirs[i : i + LIFTED_WORDS])
    return None


def _variant_loop(reply: str, titles: Sequence[str]) -> str | None:
    """Three forms of one word within a few words ("beach, beach-themed,
    beach-inspired"): each starts with the shortest, whole. Titles aside (three
    "Beach …" items are no loop), and words that only share a prefix ("correct",
    "corresponds") are different words."""
    text = reply
    for title in titles:
        text = re.sub(re.escape(title), " ", text, flags=re.I)
    words = [
        w
        for w in re.findall(r"[a-z][a-z'’-]*", text.lower())
        if len(w) >= 4 and w not in COMMON_WORDS
    ]
    for i, base in enumerate(words):
        window = words[i : i + STEM_WINDOW]
        forms = [w for w in window if w == base or w.startswith(base)]
        if len(forms) >= 3:
            return base
    return None
