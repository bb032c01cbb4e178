"""References to items: by title anywhere in the catalog ("like The Others",
"have you got Alien from 1979?"), and to the items just shown ("the second
one", "the cheaper one", "the Voltera one", "both").

Titles are matched on their words, longest first, with the trailing
parenthesis dropped ("Alien (1979)" is found as "Alien"), so remakes share a key
and a year in the text picks the version. A title made only of everyday words
("The Others", "Up") counts only with a cue ("like", "seen", "loved" …) and
capitals, or quotes; otherwise "something different from the others" would
become a movie. The same index finds the titles a reply names, for the copy
check (`mode="reply"`), where a title counts when written like one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Set
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from chat.understand.lexicon import FacetLexicon, ValueHit
from chat.understand.text import Token, as_list, singular, words
from chat.understand.words import COMMON_WORDS, TITLE_CUES, UNIT_WORDS

MAX_TITLE_WORDS = 12
_PAREN = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_QUOTES = "\"'“”‘’«»「」『』"
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
# "the 7th one" of two shown: any written-out position, so it is answered as missing
ORDINALS |= {
    f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}": n
    for n in range(1, 31)
}
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
ITEM_NOUNS = frozenset(
    "one ones item items option options pick picks choice choices suggestion movie movies film "
    "films book books product products".split()
)
_COMPARE_REFS = {
    ("cheaper",): ("price", min),
    ("cheapest",): ("price", min),
    ("less", "expensive"): ("price", min),
    ("more", "expensive"): ("price", max),
    ("most", "expensive"): ("price", max),
    ("pricier",): ("price", max),
    ("priciest",): ("price", max),
    ("better", "rated"): ("rating", max),
    ("best", "rated"): ("rating", max),
    ("highest", "rated"): ("rating", max),
    ("top", "rated"): ("rating", max),
    ("newer",): ("year", max),
    ("newest",): ("year", max),
    ("most", "recent"): ("year", max),
    ("older",): ("year", min),
    ("oldest",): ("year", min),
}


_ARTICLES = frozenset(("the", "a", "an", "of", "and", "in", "to"))


def title_core(title: str) -> str:
    return _PAREN.sub("", title).strip() or title


@dataclass(frozen=True)
class TitleHit:
    ids: tuple[str, ...]  # the items it may mean, best first
    start: int  # token indexes
    end: int
    exact: bool = True
    series: bool = False  # "both Kill Bills": every title it begins, not one of them
    year: int | None = None  # the year said with it ("Halloween (2007)"): that version


@dataclass(frozen=True)
class ShownRef:
    ids: tuple[str, ...]
    start: int
    end: int
    how: str  # "ordinal" | "compare" | "facet" | "name" | "all" | "pronoun"
    missing: int | None = None  # an ordinal beyond what was shown ("the third" of two)


class TitleIndex:
    def __init__(self, metas: Mapping[str, dict[str, Any]]):
        self.keys: dict[tuple[str, ...], list[str]] = defaultdict(list)
        self.meta = metas
        for item_id, meta in metas.items():
            title = str(meta.get("title") or "")
            for key in {words(title), words(title_core(title))}:
                if key and len(key) <= MAX_TITLE_WORDS:
                    self.keys[key].append(item_id)
        self.longest = max((len(k) for k in self.keys), default=1)
        self._cores = {" ".join(k): k for k in self.keys if len(" ".join(k)) >= 5}
        self._core_list = list(self._cores)
        self._prefixes: dict[tuple[str, ...], set[str]] | None = None  # series, when asked

    # -- choosing among versions ---------------------------------------------------

    def best(
        self, ids: list[str], year: int | None = None, prefer: Collection[str] = ()
    ) -> tuple[str, ...]:
        def key(i: str) -> tuple[bool, float, float, str]:
            m = self.meta[i]
            y = m.get("year")
            off = abs(y - year) if year and isinstance(y, (int, float)) else 0
            return (i not in prefer, off, -(m.get("rating_count") or 0), i)

        return tuple(sorted(set(ids), key=key))

    # -- finding -------------------------------------------------------------------

    def find(
        self,
        tokens: list[Token],
        text: str,
        *,
        mode: str = "user",
        skip: Set[int] = frozenset(),
        prefer: Collection[str] = (),
        is_value: Callable[[tuple[str, ...]], bool] = lambda form: False,
        asked: bool = False,
    ) -> list[TitleHit]:
        """Titles named in `tokens`. `asked`: the message asks a field of an item
        ("who's in glass rivers?"), so a title that ends a clause needs no other cue."""
        words_ = [t.text for t in tokens]
        # every title anywhere, then the longest ones first without overlaps, so that
        # "the Minority Report" is Minority Report, not a film called "The Minority"
        spans = []
        ends: set[int] = set()  # where a title found so far ends
        for i in range(len(words_)):
            listed = mode == "user" and _listed_after(tokens, text, i, ends)
            for n in range(min(self.longest, len(words_) - i), 0, -1):
                listed_here = listed or (asked and _ends_clause(tokens, text, i + n))
                if any(j in skip for j in range(i, i + n)):
                    continue
                key = tuple(words_[i : i + n])
                if key in self.keys and self._accept(
                    tokens, text, i, i + n, mode, is_value, listed_here
                ):
                    spans.append((n, i, key))
                    ends.add(i + n)
                    break
        taken: set[int] = set()
        hits: list[TitleHit] = []
        for n, i, key in sorted(spans, key=lambda s: (-s[0], s[1])):
            if taken & set(range(i, i + n)):
                continue
            taken |= set(range(i, i + n))
            year = _year_near(words_, i, i + n)
            hits.append(TitleHit(self.best(self.keys[key], year, prefer), i, i + n, year=year))
        hits.sort(key=lambda h: h.start)
        if mode == "user":
            hits += self._fuzzy(tokens, hits, skip, prefer)
        return hits

    def _accept(
        self,
        tokens: list[Token],
        text: str,
        start: int,
        end: int,
        mode: str,
        is_value: Callable[[tuple[str, ...]], bool],
        listed: bool = False,
    ) -> bool:
        """Is this span a title? `listed`: it follows another title in a list ("seen
        jaws and the matrix"), so the cue before the first is its cue too."""
        span = tokens[start:end]
        quoted = _quoted(text, span[0].start, span[-1].end)
        if quoted:
            return True
        common = all(t.text in COMMON_WORDS or t.text.isdigit() for t in span)
        capital = all(
            t.raw[:1].isupper() or t.raw[:1].isdigit()
            for t in span
            if t.text not in ("the", "of", "a", "and", "in")
        )
        if mode == "reply":
            # written like a name, or long enough not to be ordinary words: "the comedy"
            # or "the perfect match" in lower case are no films of those names
            content = [t for t in span if t.text not in _ARTICLES]
            if not capital and len(content) < 3:
                return False
            return (not common and (len(span) >= 2 or capital)) or (capital and len(span) >= 2)
        if is_value(tuple(t.text for t in span)):
            return False  # "horror" is a genre before it is a title
        if _inside_value(tokens, start, end, is_value):
            return False  # "Keanu" of "Keanu Reeves" is the actor's name, not the film
        cue = listed or (start > 0 and tokens[start - 1].text in TITLE_CUES)
        sentence_start = start == 0
        if len(span) == 1:
            if common:
                return cue and capital
            return cue or (capital and not sentence_start)
        if common:
            return capital and (cue or not sentence_start)
        return cue or capital or len(span) >= 3

    def series(
        self,
        tokens: list[Token],
        skip: Set[int],
        is_value: Callable[[tuple[str, ...]], bool] = lambda form: False,
    ) -> list[TitleHit]:
        """ "both Kill Bills", "all the Harry Potter books": the first words of several
        titles, said as a plural or after "all"/"both", mean every one of them. Words
        that are all the catalog's values name a kind, not a series ("yoga mats" of the
        titles "Yoga Mat 4mm", "Yoga Mat 8mm")."""
        if self._prefixes is None:
            self._prefixes = defaultdict(set)
            for key, ids in self.keys.items():
                for n in range(2, len(key)):
                    self._prefixes[key[:n]].update(ids)
        texts = [t.text for t in tokens]
        out: list[TitleHit] = []
        i = 0
        while i < len(texts):
            hit = None
            for n in range(min(6, len(texts) - i), 1, -1):
                if any(j in skip for j in range(i, i + n)):
                    continue
                said = tuple(texts[i : i + n])
                plural = said[:-1] + (singular(said[-1]),)
                before = texts[max(0, i - 2) : i]
                after = texts[i + n] if i + n < len(texts) else ""
                cue = bool({"all", "both", "every", "each"} & set(before)) or after in _SERIES
                if all(is_value((w,)) or is_value((singular(w),)) for w in said):
                    continue
                for form, is_plural in ((said, False), (plural, True)):
                    begun = self._prefixes.get(form, set())
                    if len(begun) >= 2 and form not in self.keys and (cue or is_plural):
                        if is_plural and form == said:
                            continue
                        hit = TitleHit(tuple(sorted(begun)), i, i + n, series=True)
                        break
                if hit:
                    break
            if hit:
                out.append(hit)
                i = hit.end
            else:
                i += 1
        return out

    def _fuzzy(
        self,
        tokens: list[Token],
        hits: list[TitleHit],
        skip: Set[int],
        prefer: Collection[str],
    ) -> list[TitleHit]:
        """Misspelt titles after a cue: "I loved Incepton"."""
        taken = {j for h in hits for j in range(h.start, h.end)} | set(skip)
        out = []
        for i, tok in enumerate(tokens[:-1]):
            if tok.text not in TITLE_CUES or i + 1 in taken:
                continue
            best = None
            for n in range(1, min(6, len(tokens) - i - 1) + 1):
                span = tokens[i + 1 : i + 1 + n]
                if any(j in taken for j in range(i + 1, i + 1 + n)):
                    break
                phrase = " ".join(t.text for t in span)
                if len(phrase) < 5 or all(t.text in COMMON_WORDS for t in span):
                    continue
                m = process.extractOne(phrase, self._core_list, scorer=fuzz.ratio, score_cutoff=86)
                if m and (best is None or m[1] > best[1]):
                    best = (m[0], m[1], n)
            if best:
                key, _, n = best
                year = _year_near([t.text for t in tokens], i + 1, i + 1 + n)
                ids = self.best(self.keys[self._cores[key]], year, prefer)
                out.append(TitleHit(ids, i + 1, i + 1 + n, exact=False))
                taken |= set(range(i + 1, i + 1 + n))
        return out


# words after a title's first words that make them a series: "the Bourne films"
_SERIES = frozenset("books films movies series novels sequels trilogy saga franchise ones".split())

_LIST_GAP = re.compile(r"\s*(?:,\s*)?(?:(?:and|or|nor|&)\s+)?(?:also\s+)?$")


def _list_cue_after(tokens: list[Token], text: str, end: int, start: int) -> bool:
    """Do the words from token `end` to token `start` join two items of a list
    (", ", " and ", ", or ")?"""
    gap = text[tokens[end - 1].end : tokens[start].start]
    return start - end <= 2 and bool(_LIST_GAP.fullmatch(gap))


def _ends_clause(tokens: list[Token], text: str, end: int) -> bool:
    """Does the span ending before token `end` end the message or a clause of it?"""
    if end >= len(tokens):
        return True
    return bool(re.search(r"[,;:.!?]", text[tokens[end - 1].end : tokens[end].start]))


def _listed_after(tokens: list[Token], text: str, start: int, ends: Set[int]) -> bool:
    """Does token `start` begin the next item of a list whose earlier item is a title?"""
    return any(0 < end <= start and _list_cue_after(tokens, text, end, start) for end in ends)


def _year_near(words_: list[str], start: int, end: int) -> int | None:
    # "Alien from 1979", "the 2011 remake of The Thing"
    for j in list(range(end, min(len(words_), end + 3))) + list(range(max(0, start - 3), start)):
        if _YEAR.match(words_[j]):
            return int(words_[j])
    return None


def _quoted(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 1) : start]
    after = text[end : end + 1]
    return bool(before) and before in _QUOTES and bool(after) and after in _QUOTES


# --- the items just shown ---------------------------------------------------------


def shown_refs(
    tokens: list[Token],
    shown: list[tuple[str, dict[str, Any]]],
    lexicon: FacetLexicon | None = None,
    *,
    by_name: bool = False,
    bare_names: bool = False,
) -> list[ShownRef]:
    """Ordinals, comparatives, 'both'/'all of them', facet descriptions and pronouns
    that point at the items of the last answer; with `by_name` (the message asks
    about items or judges them) also words of their names: "the Kestrel pair"; with
    `bare_names` (it asks a field of them) two or more words of a name without "the"
    too: "how many pages is focused hour", "boombox go or the mini?"."""
    w = [t.text for t in tokens]
    ids = [i for i, _ in shown]
    out: list[ShownRef] = []
    i = 0
    while i < len(w):
        ref, used = _one_ref(w, i, ids, shown, lexicon)
        if ref is None:
            ref, used = _name_ref(w, i, shown, lexicon if bare_names else None) or (None, 0)
            # without a question or a verdict, only "the slate one", "the Kestrel pair":
            # name words and a noun for the item, a description that points
            if ref is not None and not by_name and w[ref.end - 1] not in _NAME_NOUNS:
                ref, used = None, 0
        if ref:
            out.append(ref)
            i += used
        else:
            i += 1
    return out


_Shown = list[tuple[str, dict[str, Any]]]  # the items on screen: (id, metadata), in order
_Found = tuple[ShownRef, int]  # a reference and how many words it takes


def _one_ref(
    w: list[str], i: int, ids: list[str], shown: _Shown, lexicon: FacetLexicon | None
) -> tuple[ShownRef | None, int]:
    """The reference starting at word i, and its length in words (None, 0: none).
    The kinds are tried in this order; the first that reads wins."""
    found = (
        _position_ref(w, i, ids)
        or _all_ref(w, i, ids)
        or _compare_ref(w, i, shown)
        or (_facet_ref(w, i, shown, lexicon) if lexicon is not None and shown else None)
    )
    return found if found is not None else (None, 0)


# "for the first time", "the last thing we need", "in the first place": an ordinal
# before a word of time or sequence counts occasions, not the items on screen
_NOT_ITEMS = frozenset(
    "time times ever thing things place step steps day days week month year night trip go".split()
)


def _position_ref(w: list[str], i: int, ids: list[str]) -> _Found | None:
    """ "the second one", "the last", "#2", "number 2", "option 3", "the first two"."""
    word, prev = w[i], (w[i - 1] if i else "")
    nxt = w[i + 1] if i + 1 < len(w) else ""
    position = None
    if nxt in _NOT_ITEMS:
        return None
    if ORDINALS.get(word, 0) > 5 and nxt not in ITEM_NOUNS:
        return None  # "by the 7th": a date, unless "the 7th one"
    if word in ORDINALS and (prev in ("the", "that", "this") or nxt in ITEM_NOUNS):
        if (nxt in NUMBERS and nxt != "one") or nxt.isdigit():  # "the first two"
            count = NUMBERS.get(nxt) or int(nxt)
            picked = ids[:count] if ORDINALS[word] == 1 else ids[-count:]
            return ShownRef(tuple(picked), i, i + 2, "ordinal"), 2
        position = ORDINALS[word]
    elif prev in ("number", "no", "option", "item", "choice", "pick", "#") and (
        word.isdigit() or word in NUMBERS
    ):
        position = int(word) if word.isdigit() else NUMBERS[word]  # "number two"
    elif word in ("middle", "centre", "center") and prev == "the" and len(ids) % 2:
        position = len(ids) // 2 + 1  # "the one in the middle" of an odd number
    if position is None:
        return None
    end = i + 2 if nxt in ITEM_NOUNS else i + 1
    if position == -1:
        return (
            ShownRef((ids[-1],), i, end, "ordinal")
            if ids
            else ShownRef((), i, end, "ordinal", missing=-1)
        ), end - i
    if 1 <= position <= len(ids):
        return ShownRef((ids[position - 1],), i, end, "ordinal"), end - i
    return ShownRef((), i, end, "ordinal", missing=position), end - i


def _all_ref(w: list[str], i: int, ids: list[str]) -> _Found | None:
    """ "both", "all of them", "all three", "neither", "none of them"."""
    word = w[i]
    nxt = w[i + 1] if i + 1 < len(w) else ""
    if word in ("both", "neither") or (
        word in ("all", "none") and nxt in ("of", "three", "two", "these", "those", "them")
    ):
        return ShownRef(tuple(ids), i, i + 1, "all"), 1
    return None


def _compare_ref(w: list[str], i: int, shown: _Shown) -> _Found | None:
    """ "the cheaper one", "the best rated", "the oldest"."""
    if not i or w[i - 1] != "the" or not shown:
        return None
    for n in (2, 1):
        key = tuple(w[i : i + n])
        if len(key) == n and key in _COMPARE_REFS:  # a slice at the end may be shorter
            facet, pick = _COMPARE_REFS[key]
            valued = [
                (m.get(facet), item_id)
                for item_id, m in shown
                if isinstance(m.get(facet), (int, float))
            ]
            if valued:
                target = pick(valued)[1]
                return ShownRef((target,), i, i + n, "compare"), n
    return None


def _facet_ref(w: list[str], i: int, shown: _Shown, lexicon: FacetLexicon) -> _Found | None:
    """ "the one by Voltera", "the black one", "the Kestrel one", "the 2007 one": a
    description that fits exactly one of the items on screen."""
    if not i or w[i - 1] != "the":
        return None
    nxt = w[i + 1] if i + 1 < len(w) else ""
    if w[i] == "one" and nxt in ("by", "from", "in", "with"):
        hits = lexicon.find_words(w[i + 2 : i + 5])
        picked = _having(shown, hits)
        if len(picked) == 1:
            length = 2 + max(h.end for h in hits)
            return ShownRef(tuple(picked), i, i + length, "facet"), length
    year = _year_word(w[i]) if nxt in _YEAR_NOUNS else None
    if w[i] == "one" and nxt == "from" and i + 2 < len(w):
        year = _year_word(w[i + 2])
    if year is not None:  # "the 2007 one", "the one from 1996": the year picks the version
        picked = [item_id for item_id, meta in shown if meta.get("year") == year]
        if len(picked) == 1:
            return ShownRef(tuple(picked), i, i + 2 + (nxt == "from"), "facet"), 2 + (nxt == "from")
    for n in (3, 2, 1):
        if i + n < len(w) and w[i + n] == "one":
            hits = lexicon.find_words(w[i : i + n])
            picked = _having(shown, hits)
            if hits and len(picked) == 1:
                return ShownRef(tuple(picked), i, i + n + 1, "facet"), n + 1
    return None


_YEAR_NOUNS = frozenset(("one", "version", "remake", "original", "film", "movie"))


def _year_word(word: str) -> int | None:
    return int(word) if word.isdigit() and len(word) == 4 and 1870 <= int(word) <= 2100 else None


def _having(shown: _Shown, hits: list[ValueHit]) -> list[str]:
    if not hits:
        return []
    return [
        item_id
        for item_id, meta in shown
        if all(any(_names(h.value, v) for v in as_list(meta.get(h.facet))) for h in hits)
    ]


def _names(said: str, value: Any) -> bool:
    """Does a value said name the item's value: the same, or its last word ("grey" of
    "slate grey", "green" of "sage green", "black" of "matte black")?"""
    if said == value:
        return True
    return isinstance(value, str) and words(value)[-1:] == words(said)


# words that may follow a name without being part of it: "the Kestrel pair"
_NAME_NOUNS = ITEM_NOUNS | frozenset("pair set version edition model thing kind".split())
_SAID_OF = frozenset("coloured colored colour color looking style shaped".split())
# a size in a name ("Hose 15m", "Kettle 0.8L"), and units said in words ("the 15 metre one")
_MEASURE = re.compile(r"(\d+(?:\.\d+)?)([a-z]+)")
_UNIT_SYMBOLS = {said: unit for unit, forms in UNIT_WORDS.items() for said in forms}


def shared_name(text: str, shown: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """The words after "the" that every shown item's name holds: "what does the oil
    smell of?" with a beard oil and a hair oil on screen points at both (a name
    reference singles some out, _name_ref)."""
    if len(shown) < 2:
        return set()
    common = set.intersection(*(_all_name_words(meta) for _, meta in shown))
    w = words(text)
    out: set[str] = set()
    for i in range(1, len(w)):
        if w[i - 1] in ("the", "those", "these") or singular(w[i - 1]) in out:
            if singular(w[i]) in common:
                out.add(singular(w[i]))
    return out


def _all_name_words(meta: dict[str, Any]) -> set[str]:
    out = set()
    for x in words(" ".join(str(meta.get(k) or "") for k in ("title", "brand"))):
        out.add(singular(x))
        if m := _MEASURE.fullmatch(x):  # "15m": also "15" and "m"
            out |= {m.group(1), m.group(2)}
    return out


def _form(word: str) -> str:
    """A word as names hold it: singular, a unit as its symbol ("metres" → "m")."""
    word = singular(word)
    return _UNIT_SYMBOLS.get(word, word)


def _name_words(meta: dict[str, Any]) -> set[str]:
    return {x for x in _all_name_words(meta) if x not in COMMON_WORDS or len(x) > 4}


def _name_ref(
    w: list[str], i: int, shown: _Shown, bare: FacetLexicon | None = None
) -> _Found | None:
    """ "the Kestrel pair", "the Dino Park set", "the touchscreen gloves": words of the
    title or brand that single out some (not all) of the items on screen. With `bare`
    (the catalog's lexicon) also without "the": two or more words of a name in a row,
    beginning with a telling one and not all of them words of the catalog's values
    ("focused hour", "boombox go" but not "bluetooth speaker")."""
    if len(shown) < 2:
        return None
    determined = bool(i) and w[i - 1] in ("the", "that", "this", "those", "these")
    if not determined and bare is None:
        return None
    telling = [(item_id, _name_words(meta)) for item_id, meta in shown]
    if _form(w[i]) not in set().union(*(n for _, n in telling)):
        return None
    names = telling if determined else [(item_id, _all_name_words(meta)) for item_id, meta in shown]
    run: list[str] = []
    for word in w[i : i + 4]:
        if _form(word) not in set().union(*(n for _, n in names)):
            break
        run.append(_form(word))
    if not determined and (
        len(run) < 2 or (bare is not None and all(bare.has_form((x,)) for x in run))
    ):
        return None
    picked = [item_id for item_id, n in names if run and set(run) <= n]
    if not picked or len(picked) == len(shown):
        return None
    end = i + len(run)
    if end + 1 < len(w) and w[end] in _SAID_OF and w[end + 1] in _NAME_NOUNS:
        end += 1  # "the slate coloured one"
    if end < len(w) and w[end] in _NAME_NOUNS:
        end += 1
    return ShownRef(tuple(picked), i, end, "name"), end - i


def _inside_value(
    tokens: list[Token], start: int, end: int, is_value: Callable[[tuple[str, ...]], bool]
) -> bool:
    """Is the span part of a longer facet value said in the message (a name of two or
    three words around it)?"""
    words_ = [t.text for t in tokens]
    for a in range(max(0, start - 2), start + 1):
        for b in range(end, min(len(words_), end + 2) + 1):
            if (a, b) != (start, end) and is_value(tuple(words_[a:b])):
                return True
    return False
