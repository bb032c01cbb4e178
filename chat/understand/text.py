"""Normalising and tokenising text the same way for messages, facet values and
titles, so that "Sci-Fi", "sci fi" and "SCI-FI" all become ("sci", "fi")."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[a-z0-9\u00c0-\u024f\u3400-\u9fff]+(?:'[a-z]+)?")
_WORD_OR_AMPERSAND = re.compile(_WORD.pattern + "|&")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


# Negated auxiliaries are read as two words, "do not", however they were typed
# ("don't", "dont", "do not"), so every cue list says each negation once.
_AUXILIARIES = (
    "do does did is are was were has have had could would should must need might"
).split()
_IRREGULAR = {"can": "can", "won": "will", "shan": "shall", "ai": "is"}
_NEGATED = re.compile(
    r"\b(?:(" + "|".join(_AUXILIARIES) + r")(?:n't|nt)|(can|won|shan|ai)'?n?'?t|(can)not)\b",
    re.IGNORECASE,
)


def _negated_pair(m: re.Match[str]) -> str:
    aux = m.group(1) or m.group(2) or m.group(3)
    plain = _IRREGULAR.get(aux.lower(), aux.lower()) if m.group(2) else aux.lower()
    return (aux[0] + plain[1:] if aux[0].isupper() else plain) + " not"


def spell_negations(text: str) -> str:
    """ "Isn't" → "Is not", "dont" → "do not", "can't"/"cannot" → "can not"."""
    return _NEGATED.sub(_negated_pair, text)


# Text-speak for the words the cue patterns need ("wat is the 3rd one made of").
# Only spellings that are no other word: "u" and "ur" are, in a chat, nothing else.
TEXT_SPEAK = {
    "wat": "what",
    "wot": "what",
    "wut": "what",
    "whats": "what is",
    "wats": "what is",
    "u": "you",
    "ur": "your",
    "pls": "please",
    "plz": "please",
    "smth": "something",
    "sth": "something",
    "sumthing": "something",
    "somethin": "something",
    "abt": "about",
    "idk": "i do not know",
    "wanna": "want to",
    "gimme": "give me",
    "nt": "not",
    "gud": "good",
    "tho": "though",
    "bday": "birthday",
    "thx": "thanks",
    "hw": "how",
    "hows": "how is",
    # contractions typed without the apostrophe ("ive seen it"), as "isnt" is read
    "ive": "i have",
    "weve": "we have",
    "youve": "you have",
    "theyve": "they have",
    "im": "i am",
}
_TEXT_SPEAK = re.compile(r"\b(" + "|".join(TEXT_SPEAK) + r")\b", re.IGNORECASE)


_STRETCHED = re.compile(r"\b\w*(\w)\1\1\w*\b")


def _unstretched(m: re.Match[str]) -> str:
    """ "hiii" → "hi", "sooo" → "so", "cooool" → "cool": a letter typed three or
    more times once, or twice when that makes an English word."""
    from wordfreq import zipf_frequency

    word = m.group(0)
    if not word.isalpha() or word.lower() == "www":
        return word
    once = re.sub(r"(\w)\1{2,}", r"\1", word)
    twice = re.sub(r"(\w)\1{2,}", r"\1\1", word)
    more_common = zipf_frequency(twice.lower(), "en") > zipf_frequency(once.lower(), "en")
    return twice if more_common else once


def spell_out(text: str) -> str:
    """Stretched words, negations and text-speak in plain words, case kept where it
    matters ("hiii" → "hi", "Isn't" → "Is not", "wat" → "what")."""
    text = spell_negations(_STRETCHED.sub(_unstretched, text))
    return _TEXT_SPEAK.sub(lambda m: TEXT_SPEAK[m.group(0).lower()], text)


def normalize(text: str) -> str:
    """Lower case, NFKC, typographic apostrophes made plain, '&' read as 'and'."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()
    return text.replace("&", " and ")


@dataclass(frozen=True)
class Token:
    text: str  # normalised
    start: int  # character span in the original text
    end: int
    raw: str  # as the user typed it (keeps capitals)


def tokenize(text: str) -> list[Token]:
    """Words of `text`; hyphens, slashes and punctuation separate words.
    Offsets refer to `text` itself (NFKC keeps the length of ordinary text)."""
    folded = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    lowered = folded.casefold()
    if len(lowered) != len(folded):  # rare: casefold changed the length (ß → ss)
        lowered = folded.lower()
    out = []
    for m in _WORD_OR_AMPERSAND.finditer(lowered):
        word = m.group(0)
        if word == "&":  # "Atlas & Thread": read as "and", as normalize does
            out.append(Token("and", m.start(), m.end(), word))
            continue
        raw = folded[m.start() : m.end()]
        if word.endswith("'s") and len(word) > 3:
            word = word[:-2]  # "90's" → "90", "ocean's" → "ocean"
        pair = _NEGATED.fullmatch(word)
        if pair:  # "don't" is two words on one span: "do", "not"
            aux, _ = _negated_pair(pair).split()
            out.append(Token(aux, m.start(), m.end(), raw))
            word = "not"
        out.append(Token(word, m.start(), m.end(), raw))
    return out


def words(text: str) -> tuple[str, ...]:
    return tuple(t.text for t in tokenize(normalize(text)))


def as_list(value: Any) -> list[Any]:
    """A catalog field's values: a list as it is, one value as a list of one."""
    return value if isinstance(value, list) else [value]


def singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_SUFFIXES = ("ing", "ed", "es", "s", "er")


def stem(word: str) -> str:
    """A crude stem that lets a verb or plural meet the catalog's own form of a word
    ("bakes", "baking" → "bak"; "runs", "running" → "run"); not a lemmatiser."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # "runn" → "run"
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def plural(word: str) -> str:
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("ch", "sh", "ss", "x")):
        return word + "es"
    if word.endswith("s"):
        return word
    return word + "s"


def word_forms(form: tuple[str, ...]) -> set[tuple[str, ...]]:
    """The value itself, its last word in singular and plural (an f-plural too), and the words
    glued together ("sci fi" → "scifi")."""
    if not form:
        return set()
    head, last = form[:-1], form[-1]
    out = {form, head + (singular(last),), head + (plural(singular(last)),)}
    if last.endswith(("f", "fe")) and len(last) > 3:  # knife → knives, shelf → shelves
        out.add(head + (last.removesuffix("e")[:-1] + "ves",))
    if len(form) == 2 and all(len(w) <= 6 for w in form):
        out.add(("".join(form),))
    return {f for f in out if all(f)}


def doers(word: str) -> list[str]:
    """English nouns for who does what the word names: garden → gardener, running →
    runner, cycling → cyclist, baking → baker; only words English uses (wordfreq)."""
    from chat.understand.words import is_english_word

    bases = [word]
    if word.endswith("ing") and len(word) > 5:
        base = word[:-3]
        bases += [base, base + "e"]
        if len(base) > 2 and base[-1] == base[-2]:  # runn-ing → run
            bases.append(base[:-1])
    found = []
    for base in bases:
        for end in ("er", "ist") if not base.endswith("e") else ("r", "ist"):
            doer = (base[:-1] if end == "ist" and base.endswith("e") else base) + end
            if doer != word and doer not in found and is_english_word(doer):
                found.append(doer)
    return found
