"""Checking recommendation copy against the facts, in code.

A reply passes when
  - every catalog item it names is one of the chosen items (titles are matched
    against the whole catalog, so "The Others" in a reply about other films is
    caught), or was named in the prompt itself (the user's example, an anchor);
  - every number it states (prices, years, ratings, counts) appears in the
    prompt's facts, allowing a price rounded to whole units ("about $25");
  - it is written in the user's language;
  - it is a reply at all: it does not repeat itself and does not echo the
    prompt's scaffolding ("why it fits: …"), which a 135M model does readily.
(Whether it names the items by their full titles is left to the evaluation:
"Hacker Sticker Pack" for a longer title is still a faithful reply.)

`partial=True` checks text that is still streaming: a number or a title that
ends exactly at the end of the text may still grow ("$24" → "$24.99"), so it is
left for the next check.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass

from chat.understand.language import han_share
from chat.understand.references import TitleIndex, title_core
from chat.understand.text import tokenize, words

_ECHO = re.compile(
    r"(why it fits|facts:|items to recommend|the customer said|customer wants|they want:|"
    r"write the reply|your draft reply|it has these problems)",
    re.I,
)
# the scaffolding phrases above as words, so a reply that starts one is held back
ECHO_PHRASES = (
    "why it fits",
    "facts",
    "items to recommend",
    "the customer said",
    "customer wants",
    "they want",
    "write the reply",
    "your draft reply",
    "it has these problems",
)
_NUMBER = re.compile(r"(?<![\w.])[$€£¥]?\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\d,]*\d)")


@dataclass(frozen=True)
class Problem:
    kind: str  # "unknown_item" | "number" | "language" | "empty"
    detail: str  # written for the model's corrective retry and the debug view


def number_spans(text: str) -> list[tuple[float, int, int]]:
    """Every figure in `text` ("$1,299.99", "4.5", "30") with where it stands."""
    out = []
    for m in _NUMBER.finditer(text):
        whole = m.group(1).replace(",", "")
        out.append((float(f"{whole}.{m.group(2)}" if m.group(2) else whole), m.start(), m.end()))
    return out


def may_grow(text: str, stop: int) -> bool:
    """Can the figure that ends at `stop` still grow while the reply streams? At the
    very end, or followed only by "." or "," ("$59." may become "$59.99", "1," "1,299")."""
    return text[stop:].rstrip() in ("", ".", ",")


def numbers(text: str, *, partial: bool = False) -> list[float]:
    """The figures of `text`; with `partial`, not one at the very end that may still grow."""
    return [v for v, _, stop in number_spans(text) if not (partial and may_grow(text, stop))]


def number_allowed(value: float, allowed: set[float]) -> bool:
    if any(abs(value - a) < 1e-6 for a in allowed):
        return True
    # "$25" for $24.99 and "4.5" for 4.47: rounded figures of a real one
    return any(
        (value == round(a) and abs(value - a) < 1) or abs(value - round(a, 1)) < 1e-6
        for a in allowed
    )


class CopyChecker:
    def __init__(self, titles: TitleIndex, kind_words: frozenset[str] = frozenset()):
        self.titles = titles
        self.kind_words = kind_words  # the nouns of the kinds of thing sold (claims.py)
        self._starts: set[tuple[str, ...]] | None = None

    def hold_from(self, text: str, phrases: tuple[str, ...] = ()) -> int:
        """Where the words that must not be shown yet begin: the last word (it may
        still grow: "$24" → "$24.99"), and any words at the end that could be the
        start of a catalog title, of the prompt's scaffolding or of `phrases` (the
        check can only judge them once they are complete), or that begin to repeat
        an earlier sentence. Everything before that has been checked and may be
        released; most of the time only a word or two is held."""
        tokens = tokenize(text)
        # Chinese has no spaces: its clauses end at its punctuation
        last = re.search(r"[^\s，。！？；、]+\s*$", text)
        hold = last.start() if last else len(text)
        starts = self._title_starts()
        extra = {words(p) for p in phrases}
        for i in range(max(0, len(tokens) - self.titles.longest), len(tokens)):
            tail = tuple(t.text for t in tokens[i:])
            if tail in starts or any(p[: len(tail)] == tail for p in extra):
                hold = min(hold, tokens[i].start)
                break
        return min(hold, _repeat_start(text))

    @functools.cached_property
    def title_words(self) -> frozenset[str]:
        """Every word of every catalog title."""
        return frozenset(w for key in self.titles.keys for w in key)

    def _title_starts(self) -> set[tuple[str, ...]]:
        if self._starts is None:
            keys = list(self.titles.keys) + [words(p) for p in ECHO_PHRASES]
            self._starts = {k[:n] for k in keys for n in range(1, len(k) + 1)}
        return self._starts

    def named_items(self, text: str, *, partial: bool = False) -> list[tuple[tuple[str, ...], str]]:
        tokens = tokenize(text)
        out = []
        for hit in self.titles.find(tokens, text, mode="reply"):
            if partial and hit.end >= len(tokens):
                continue  # may be the start of a longer title
            said = text[tokens[hit.start].start : tokens[hit.end - 1].end]
            out.append((hit.ids, said))
        return out

    def check(
        self,
        text: str,
        *,
        allowed_ids: set[str],
        context: str,
        count: int,
        language: str,
        partial: bool = False,
        chosen_titles: tuple[str, ...] | list[str] = (),
    ) -> list[Problem]:
        problems: list[Problem] = []
        if not partial and not text.strip():
            return [Problem("empty", "The reply was empty.")]
        if _ECHO.search(text):
            problems.append(
                Problem("echo", "Write to the customer; do not repeat the instructions or labels.")
            )
        if repetitive(text):
            problems.append(Problem("repetitive", "Do not repeat the same words or sentences."))
        context_low = " ".join(t.text for t in tokenize(context))
        allowed_keys = {
            " ".join(t.text for t in tokenize(title_core(self.titles.meta[i].get("title", ""))))
            for i in allowed_ids
            if i in self.titles.meta
        }
        for ids, said in self.named_items(text, partial=partial):
            if set(ids) & allowed_ids:
                continue
            spoken = " ".join(t.text for t in tokenize(said))
            if spoken.split(" ", 1)[-1] in allowed_keys and spoken.split(" ")[0] in ("the", "a"):
                continue  # "the Scream" for Scream (1996), not the film "The Scream"
            if " ".join(t.text for t in tokenize(said)) in context_low:
                continue  # named in the prompt (the user's own example, a liked item)
            problems.append(
                Problem(
                    "unknown_item", f'You named "{said}", which is not one of the listed items.'
                )
            )
        allowed = set(numbers(context)) | {float(n) for n in range(1, count + 2)}
        for value in numbers(text, partial=partial):
            if not number_allowed(value, allowed):
                problems.append(
                    Problem("number", f"You wrote {value:g}, which is not in the facts given.")
                )
        if not partial or language_settled(text, context):
            # judged as soon as there are enough letters: an English start of a
            # Chinese reply stops the model before it is shown, not at the end
            share = han_share(_without(text, context))
            if language == "zh" and share < 0.3:
                problems.append(Problem("language", "Write the reply in Simplified Chinese."))
            elif language == "en" and share > 0.3:
                problems.append(Problem("language", "Write the reply in English."))
        return problems


# A model stuck in a loop says a sentence again, or goes round the same words within
# one sentence; a list of three items in the same phrasing ("X: it matches what you
# asked for …; Y: it matches what you asked for …") is no loop, so across sentences
# only a long run of words said three times counts.
LOOP_WORDS = 5  # within a sentence
LOOP_WORDS_ACROSS = 9  # across sentences


def _loop_at(text: str) -> int | None:
    """Start of the run of words that comes round the third time, or None."""
    found = []
    for m in re.finditer(r"[^.!?。！？\n]+", text):
        tokens = tokenize(m.group(0))
        counts: Counter = Counter()
        for i in range(len(tokens) - LOOP_WORDS + 1):
            gram = tuple(t.text for t in tokens[i : i + LOOP_WORDS])
            counts[gram] += 1
            if counts[gram] == 3:
                found.append(m.start() + tokens[i].start)
                break
    tokens = tokenize(text)
    counts = Counter()
    for i in range(len(tokens) - LOOP_WORDS_ACROSS + 1):
        gram = tuple(t.text for t in tokens[i : i + LOOP_WORDS_ACROSS])
        counts[gram] += 1
        if counts[gram] == 3:
            found.append(tokens[i].start)
            break
    return min(found) if found else None


def repetitive(text: str) -> bool:
    """A sentence said twice, or words going round in a loop (see LOOP_WORDS)."""
    sentences = [
        s.strip().lower() for s in re.split(r"[.!?。！？\n]+", text) if len(s.strip()) > 12
    ]
    if len(sentences) != len(set(sentences)):
        return True
    return _loop_at(text) is not None


def trouble_start(text: str) -> int | None:
    """Where a reply stops being a reply: the first echo of the prompt's scaffolding,
    the second saying of a sentence, or words coming round the third time (see
    LOOP_WORDS). None when it never does."""
    found = []
    echo = _ECHO.search(text)
    if echo:
        found.append(echo.start())
    seen: set[str] = set()
    for m in re.finditer(r"[^.!?。！？\n]+", text):
        sentence = m.group(0).strip().lower()
        if len(sentence) > 12:
            if sentence in seen:
                found.append(m.start())
                break
            seen.add(sentence)
    loop = _loop_at(text)
    if loop is not None:
        found.append(loop)
    return min(found) if found else None


SETTLED_LETTERS = 24


def language_settled(text: str, context: str) -> bool:
    """Are there enough letters besides the quoted titles to tell the reply's language?"""
    rest = _without(text, context)
    return len(re.findall(r"[^\W\d_]", rest)) >= SETTLED_LETTERS


def _repeat_start(text: str) -> int:
    """Start of an unfinished sentence whose words so far begin an earlier sentence
    too (a model that may be saying it again), else len(text)."""
    ends = [m.end() for m in re.finditer(r"[.!?。！？\n]+", text)]
    if not ends:
        return len(text)
    current = text[ends[-1] :]
    head = [t.text for t in tokenize(current)]
    if not head:
        return len(text)
    for start, end in zip([0, *ends[:-1]], ends, strict=True):
        if [t.text for t in tokenize(text[start:end])][: len(head)] == head:
            return ends[-1] + (len(current) - len(current.lstrip()))
    return len(text)


def _without(text: str, context: str) -> str:
    """The reply without the titles it quotes from the prompt (a Chinese title in an
    English reply, or an English title in a Chinese one, says nothing of its language)."""
    for line in context.splitlines():
        title = line.split(". ", 1)[-1].split(" — ")[0].strip()
        if len(title) > 3:
            text = text.replace(title, " ")
    return text
