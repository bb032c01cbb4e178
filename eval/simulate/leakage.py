"""The leakage guard: does a simulated utterance name the target?

A seeker who knows only an item's attributes cannot say its title; a simulator
that lets the title slip (in a plot word, a character's name, an LLM's
paraphrase) makes the recommender look better than it is. Every utterance is
checked against the title and its aliases before the bot sees it:

- the title as written, without its year ("Heat (1995)" -> "heat"), without a
  leading article ("The Shining" -> "shining"), the part before a colon ("Star
  Wars: Episode IV" -> "star wars"), a MovieLens-style trailing article ("Matrix,
  The" -> "the matrix"), and the catalog's other names for the item;
- compared case-, accent- and punctuation-insensitively ("Schindler's" =
  "schindlers", "&" = "and"), token by token: "heat" leaks in "the heat is on"
  but not in "heater".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_YEAR = re.compile(r"\s*\((?:\d{4}(?:[-–]\d{0,4})?|[IVX]+)\)\s*$")
ARTICLES = frozenset({"the", "a", "an"})


def tokens(text: str) -> tuple[str, ...]:
    """Lower-cased word tokens without accents; apostrophes join ("don't" -> "dont")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("&", " and ").replace("'", "").replace("\u2019", "")
    return tuple(re.findall(r"[^\W_]+", text))


def aliases(title: str, others: Iterable[str] = ()) -> list[tuple[str, ...]]:
    """Every name of an item as a token sequence, longest first."""
    names: set[tuple[str, ...]] = set()
    for name in [title, *others]:
        bare = _YEAR.sub("", name).strip()
        m = re.fullmatch(r"(.+),\s*(the|a|an)", bare, re.I)  # "Matrix, The"
        if m:
            bare = f"{m.group(2)} {m.group(1)}"
        forms = [name, bare]
        if ":" in bare:
            forms.append(bare.split(":", 1)[0])
        for form in forms:
            toks = tokens(form)
            if toks:
                names.add(toks)
            if len(toks) > 1 and toks[0] in ARTICLES:
                names.add(toks[1:])
    return sorted(names, key=lambda t: (-len(t), t))


class LeakGuard:
    """Checks utterances against one target's names."""

    def __init__(self, title: str, others: Iterable[str] = ()) -> None:
        self.names = aliases(title, others)

    def leak(self, utterance: str) -> str | None:
        """The name the utterance contains (as tokens joined by spaces), or None."""
        words = tokens(utterance)
        for name in self.names:
            n = len(name)
            if any(words[i : i + n] == name for i in range(len(words) - n + 1)):
                return " ".join(name)
        return None
