"""What the catalog teaches the tracker: its facets and their values, prices by
kind, titles, which facets filter, and the word-level helpers the reader uses.

Driven by the catalog, not by hand-written rules for one shop: facet values come
from `FacetLexicon`, numbers from `RangeReader`, titles from `TitleIndex`; the
only fixed vocabulary is ordinary English (words.py) and the Chinese glossary.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from wordfreq import zipf_frequency

from chat.state import DialogueState
from chat.understand.foreign import ForeignWords
from chat.understand.intent_model import shared_model, shared_refinement_model
from chat.understand.language import Detected, detect, gloss
from chat.understand.lexicon import FacetLexicon, ValueHit
from chat.understand.ranges import CUE_WORDS, RangeReader
from chat.understand.reading import MessageReading
from chat.understand.references import ORDINALS, TitleIndex, title_core
from chat.understand.text import Token, as_list, singular, spell_out, stem, words
from chat.understand.words import (
    CHANGE_OF_MIND,
    GENERIC_WORDS,
    HARD_NEGATIONS,
    NEAR_NEGATIONS,
    NEGATION_BREAKS,
    PEOPLE_AND_OCCASIONS,
    READER_WORDS,
    SOFT_NEGATIONS,
    STOPWORDS,
    is_everyday_word,
)
from retrieval import Facet, Filter

_MILD = ("not too",)
_OBJECTS = frozenset(("it", "that", "this", "everything", "all"))
NEGATIONS = sorted(
    [(tuple(p.split()), "hard") for p in HARD_NEGATIONS]
    + [(tuple(p.split()), "mild" if p in _MILD else "dislike") for p in SOFT_NEGATIONS],
    key=lambda p: -len(p[0]),
)
_NEAR = frozenset(tuple(p.split()) for p in NEAR_NEGATIONS)
# "for my kitchen": a category word used as an ordinary word, not a constraint
_PLAIN_USE = re.compile(r"\b(?:my|our|your|at|around|this|that|from)\s+$", re.I)
_FOR_A_PLACE = re.compile(r"\b(?:for|in)(?:\s+the)?\s+$", re.I)
_PRONOUN = re.compile(r"\b(it|its|that|this|that one|this one|the one)\b")
_PLURAL = re.compile(r"\b(them|those|these|both|all of them|all three|all)\b")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_CUE_WORDS = frozenset(
    "cheaper pricier expensive newer older another other others else different similar "
    "instead seen watched read already hate hated dislike love loved liked enjoyed recent "
    "actually though prefer rather".split()
)


class CatalogVocabulary:
    def __init__(self, facets: dict[str, Facet], metas: Mapping[str, dict[str, Any]] | None = None):
        self.facets = facets
        self.metas = metas or {}
        self.lexicon = FacetLexicon(facets, self.metas.values())
        self.ranges = RangeReader(facets)
        self.titles = TitleIndex(self.metas)
        self.fields = {k for m in self.metas.values() for k in m if not k.startswith("_")}
        # descriptive values, not names: what a word of another language may map onto
        self.name_words = {
            w for n in self.lexicon.proper for v in self.lexicon.counts[n] for w in words(v)
        }
        self.foreign = ForeignWords(
            (v for n, c in self.lexicon.counts.items() if n not in self.lexicon.proper for v in c),
            # positions too: "la segunda" is the second item shown
            READER_WORDS | CUE_WORDS | self.fields | {w for w in ORDINALS if w.isalpha()},
        )
        self.intent_model = shared_model()  # what a message is, learned from examples
        self.refinement_model = shared_refinement_model()  # what it does to the shown list
        self.hard = self._hard_facets()
        # facets an item has one value of (a colour, a material), not a list (tags):
        # "in white" asks for that version of the thing, not for more white things
        self.single = {
            n
            for n in self.lexicon.facets
            if n not in self.hard
            and not any(isinstance(m.get(n), list) for m in self.metas.values())
        }
        self.fields |= set(facets) | {"description"}
        self._price_quartiles = self._quartiles_by_category()
        self._kinds: dict[tuple[str, Any], set[str]] = {}  # (facet, value) → kinds, cached
        self._fields: dict[tuple, set[str]] = {}  # head → the fields its items have, cached
        self._titled: dict[tuple[str, Any, bool], bool] = {}  # names_its_items, cached
        self._naming_stems: set[str] | None = None  # names_things, built when first asked
        self._versions: dict[tuple[str, ...], list[str]] | None = None  # same_work, when asked

    # -- which facets filter --------------------------------------------------------

    def _hard_facets(self) -> set[str]:
        """The kind of item (category, or the main categorical facet such as a movie's
        genres) and names (brand, author, director, stars …) filter; descriptive
        facets (tags, colour …) only move items up."""
        hard = {"category", "brand"} & set(self.lexicon.facets)
        candidates = [
            (f.coverage, name)
            for name, f in self.lexicon.facets.items()
            if 3 <= len(f.values) <= 40 and name not in self.lexicon.proper
        ]
        if candidates and "category" not in hard:
            hard.add(max(candidates)[1])
        return hard | self.lexicon.proper

    def kinds_of(self, facet: str, value: Any) -> set[str]:
        """The kinds (categories) of the items that have `value` in `facet`, and, for
        a one-word value, of the items whose title names that thing ("Standing Mat"
        is a mat although only yoga mats carry the tag "mat")."""
        key = (facet, value)
        if key not in self._kinds:
            kind = self.kind_facet
            noun = words(str(value))
            named = singular(noun[0]) if len(noun) == 1 else None
            self._kinds[key] = {
                str(m[kind])
                for m in self.metas.values()
                if kind
                and m.get(kind) is not None
                and (value in as_list(m.get(facet)) or (named and title_noun(m) == named))
            }
        return self._kinds[key]

    def head_kinds(self, head: list[tuple[str, Any]]) -> set[str]:
        """The kinds of the items the head noun names when it names a thing; its values
        are one word's readings ("trainers": shoes or sneakers), so any of them. A
        describing head ("a light": the tag "lights" of a toy dinosaur) implies none."""
        things = [(f, v) for f, v in head if self.is_thing(f, v)]
        return set().union(*(self.kinds_of(facet, value) for facet, value in things))

    def is_thing(self, facet: str, value: Any) -> bool:
        """Does the value name a kind of thing sold (a title's last word, or what the
        items carrying it are), rather than describe one ("cosy", "lights", "wood")?
        Only a thing implies a kind, or stands alone as the list (session._retrieve)."""
        return self.lexicon.names_a_thing(str(value)) or self.names_its_items(facet, value)

    def stands_alone(self, head: dict[str, list[str]], count: int) -> bool:
        """May the `count` items that are the head noun be the whole list? A thing sold,
        however few; a describing word only when it leaves a choice within one kind
        ("cosy": the throws; not "a light": a toy dinosaur tagged "lights", nor
        "wood": toys and chopping boards)."""
        pairs = [(f, v) for f, vs in head.items() for v in vs]
        if any(self.is_thing(f, v) for f, v in pairs):
            return count >= 1
        kinds = set().union(*(self.kinds_of(f, v) for f, v in pairs))
        return count >= 2 and len(kinds) == 1

    def fields_of(self, head: list[tuple[str, Any]]) -> set[str]:
        """The fields the items the head noun names have filled ("tea": no language, so
        "English breakfast tea" sets no language); empty when it names none."""
        key = tuple(sorted((f, str(v)) for f, v in head))
        if key not in self._fields:
            named = [m for m in self.metas.values() if any(v in as_list(m.get(f)) for f, v in head)]
            self._fields[key] = {f for m in named for f, v in m.items() if v not in (None, "", [])}
        return self._fields[key]

    def sells(self, head: dict[str, list[str]]) -> bool:
        """Does the catalog sell the thing the head noun names (whatever the limits)?"""
        pairs = [(f, v) for f, vs in head.items() for v in vs]
        if not any(self.is_thing(f, v) for f, v in pairs):
            return False
        thing = Filter(equals={f: list(vs) for f, vs in head.items() if vs})
        return any(thing.matches(i, m) for i, m in self.metas.items())

    def names_its_items(self, facet: str, value: Any, *, as_noun: bool = False) -> bool:
        """Do most items that carry the value say it in their title ("knife": the Chef's
        Knife; "frying-pan": the Frying Pan Set) or list it first ("perfume" before
        "floral": a catalog says what a thing is before how it is), so that it is what
        they are, not a feature of them ("lights" of a walking dinosaur, "gift")? Then
        it can be the thing asked for. `as_noun`: as the thing the title names ("sofa": the
        Three-Seat Sofa, not "over-ear" of Over-Ear Headphones), so that a synonym of
        it ("couch") names the same thing."""
        key = (facet, value, as_noun)
        if key not in self._titled:
            said = [singular(w) for w in words(str(value))]
            having = [m for m in self.metas.values() if value in as_list(m.get(facet))]
            if as_noun:
                named = sum(len(said) == 1 and title_noun(m) == said[0] for m in having)
            else:
                named = sum(_says(m, said) for m in having)
                if len(having) >= 2:  # one item listing it first says little ("novel")
                    named = max(named, sum(_first(m.get(facet)) == value for m in having))
            self._titled[key] = bool(said) and bool(having) and 2 * named >= len(having)
        return self._titled[key]

    @property
    def kind_facet(self) -> str | None:
        """The facet that says what kind of item it is; changing it starts a new topic."""
        return "category" if "category" in self.lexicon.facets else None

    def _quartiles_by_category(self) -> dict[str | None, tuple[float, float, float]]:
        out: dict[str | None, tuple[float, float, float]] = {}
        price = self.facets.get("price")
        if price and price.quartiles:
            out[None] = price.quartiles
        by: dict[str, list[float]] = {}
        for meta in self.metas.values():
            if isinstance(meta.get("price"), (int, float)) and meta.get("category"):
                by.setdefault(str(meta["category"]), []).append(float(meta["price"]))
        for cat, prices in by.items():
            if len(prices) >= 4:
                q = statistics.quantiles(prices, n=4)
                out[cat] = (round(q[0], 2), round(q[1], 2), round(q[2], 2))
        return out

    def prepare(self, text: str) -> str:
        return spell_out(gloss(unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)))

    def detect(self, text: str) -> Detected:
        return detect(text)

    def resolve_price_level(self, state: DialogueState) -> None:
        """Turn "cheap"/"high-end" into a price range relative to comparable items: those
        of the requested category (and, when enough, with the features asked for);
        cheap is the lower half of their prices, high-end the top quarter."""
        if not state.price_level or "price" not in self.facets:
            return
        others = Filter(
            {k: v for k, v in state.equals.items() if v},
            {k: v for k, v in state.excludes.items() if v},
            {k: (v[0], v[1]) for k, v in state.ranges.items() if k != "price"},
        )
        group = [m for i, m in self.metas.items() if others.matches(i, m)]
        liked = [(f, v) for f, vs in state.liked.items() for v in vs]
        featured = [m for m in group if any(v in as_list(m.get(f)) for f, v in liked)]
        group = featured if len(featured) >= 2 else group
        prices = sorted(
            float(m["price"]) for m in group if isinstance(m.get("price"), (int, float))
        )
        if len(prices) >= 2:
            quartiles = statistics.quantiles(prices, n=4, method="inclusive")
            low, mid, high = (round(x, 2) for x in quartiles)
        elif q := self._price_quartiles.get(None):  # too few comparable items: the catalog's
            low, mid, high = q
        else:
            return
        ranges: dict[str, list[float | None]] = {
            "low": [None, mid],
            "mid": [low, high],
            "high": [high, None],
        }
        state.ranges["price"] = ranges[state.price_level]

    def negation_of(self, msg: MessageReading, start: int) -> str:
        """How the words before token `start` negate it: "+", "hard", "dislike", "mild"."""
        words_ = [t.text for t in msg.tokens]
        j = start - 1
        steps = 0
        while j >= 0 and steps < 6:
            for phrase, kind in NEGATIONS:
                n = len(phrase)
                if j - n + 1 >= 0 and tuple(words_[j - n + 1 : j + 1]) == phrase:
                    if phrase[0] in CHANGE_OF_MIND and (steps > 1 or words_[j + 1] in _OBJECTS):
                        break  # "scrap that, a lamp": the verb's object is "that"
                    between = msg.prepared[msg.tokens[j].end : msg.tokens[start].start]
                    if phrase in _NEAR and "," in between:
                        return "+"  # "scared of the dark, a night light"
                    return kind
            if words_[j] in NEGATION_BREAKS or _clause_break(msg.prepared, msg.tokens, j):
                return "+"
            j -= 1
            steps += 1
        return "+"

    def is_content(self, word: str) -> bool:
        return (
            len(word) >= 3
            and word.isalpha()
            and word not in STOPWORDS
            and word not in GENERIC_WORDS
            and word not in _CUE_WORDS
        )

    def names_things(self, word: str) -> bool:
        """Does the catalog name or tag its items with this word (in a title or a facet
        value, in any form: "bakes" / "baking")? In a shop of many kinds, a word found
        only in descriptions ("flat" of "folds flat", "turning") says nothing of what
        is wanted; in a catalog of one kind (films), plot words do ("zombies")."""
        if self.kind_facet is None:
            return True
        if self._naming_stems is None:
            names = [str(m.get("title") or "") for m in self.metas.values()]
            names += [str(v) for c in self.lexicon.counts.values() for v in c]
            self._naming_stems = {stem(w) for name in names for w in words(name)}
        return stem(word) in self._naming_stems

    def describes(self, word: str) -> bool:
        """Does the word say what the thing is or is for, in words the catalog names its
        items with? Who it is for and the occasion ("my coworker is leaving"), and the
        commonest words ("gift", "people"), leave the need open."""
        return (
            word not in PEOPLE_AND_OCCASIONS
            and word not in GENERIC_WORDS
            and self.names_things(word)
            and not is_everyday_word(word)
        )

    def plain_use(self, msg: MessageReading, hit: ValueHit) -> bool:
        start = msg.tokens[hit.start].start
        if _PLAIN_USE.search(msg.prepared[:start]):
            return True
        # "sport earbuds", "garden gloves": a kind said before the thing, describing
        # it; when the thing is of another kind, the thing's kind is the one asked for
        # "a printer for home", "a speaker for the garden": a kind after "for" or "in"
        # says where the thing is used, when the thing is of another kind
        if hit.facet == self.kind_facet:
            if _FOR_A_PLACE.search(msg.prepared[:start]):
                heads = list(msg.head)
            else:
                heads = [(h.facet, h.value) for h, _ in msg.values if h.start == hit.end]
                heads = [fv for fv in heads if fv in msg.head]
            if heads:
                kinds = set.intersection(*(self.kinds_of(f, v) for f, v in heads))
                return bool(kinds) and hit.value not in kinds
        return False

    def place_of_use(self, msg: MessageReading, hit: ValueHit) -> bool:
        """ "headphones for the train": a thing sold of other kinds than the head noun's,
        said after "for the" or "in the", is where the thing is used, no wish about it
        (not the wooden train set)."""
        if not self.kind_facet or hit.facet == self.kind_facet:
            return False
        if not _FOR_A_PLACE.search(msg.prepared[: msg.tokens[hit.start].start]):
            return False
        heads = [(f, v) for f, v in msg.head if (f, v) != (hit.facet, hit.value)]
        if not heads or not self.is_thing(hit.facet, hit.value):
            return False
        kinds = self.head_kinds(heads)
        return bool(kinds) and not kinds & self.kinds_of(hit.facet, hit.value)

    def pronoun_targets(self, clause: str, state: DialogueState) -> tuple[list[str], str | None]:
        """Items that "it"/"that one"/"them" point at, or why it is unclear."""
        if _PLURAL.search(clause) and state.shown:
            return list(state.shown), None
        if _PRONOUN.search(clause):
            if state.focus:
                return [state.focus], None
            if len(state.shown) == 1:
                return list(state.shown), None
            if state.shown:
                return [], "ambiguous"
        return [], None

    def wider_head(self, head: dict[str, list[str]]) -> dict[str, list[str]]:
        """The head noun's values plus the compound values of the same facet that end
        in it: a "chair" is also an office-chair, a "mat" a standing-mat. Used when no
        item carries the plain value: the catalog tagged its chairs by their kind."""
        out: dict[str, list[str]] = {}
        for facet, values in head.items():
            out[facet] = list(values)
            for value in values:
                tail = words(str(value))
                for other in self.lexicon.counts.get(facet, {}):
                    form = words(str(other))
                    if len(form) > len(tail) and form[-len(tail) :] == tail:
                        if other not in out[facet]:
                            out[facet].append(other)
        return out

    def item_kind(self, meta: dict[str, Any]) -> str | None:
        """What kind of thing an item is, to tell a list's kinds apart: the noun of its
        title when the catalog titles two or more items so ("sweater"), else its
        category (a book's title names no thing)."""
        noun = title_noun(meta)
        if noun and self._title_nouns[noun] >= 2:
            return noun
        return str(meta.get(self.kind_facet)) if self.kind_facet else noun

    @cached_property
    def _title_nouns(self) -> Counter[str | None]:
        return Counter(title_noun(m) for m in self.metas.values())

    @cached_property
    def thing_nouns(self) -> frozenset[str]:
        """The nouns that name the kinds of thing a shop sells: a title's noun that the
        item's own tags say too ("washer" of a "pressure-washer"), not the words of a
        set or a pack, nor words too common to be only a thing ("can", "stand"); none
        for films and books, whose titles name no thing."""
        if not self.sells_products:
            return frozenset()
        nouns = set()
        for meta in self.metas.values():
            noun = title_noun(meta)
            tagged = {singular(w) for tag in as_list(meta.get("tags")) for w in words(str(tag))}
            if noun in tagged and zipf_frequency(noun, "en", wordlist="small") < _EVERYDAY:
                nouns.add(noun)
        return frozenset(nouns - _NO_KIND)

    @property
    def sells_products(self) -> bool:
        """Items have makers (a brand): products, of which two makers' "Office Chair"
        are two things and a name typed is the thing wanted; without, works (films,
        books), talked about by title as examples."""
        return self.lexicon.sells_products

    @property
    def colour_field(self) -> str | None:
        return next((f for f in ("color", "colour") if f in self.fields), None)

    @cached_property
    def colour_words(self) -> frozenset[str] | None:
        """The words of the catalog's colours ("slate", "grey" …); None without a colour
        field. Computed once: every message is checked against them."""
        field = self.colour_field
        if field is None:
            return None
        return frozenset(
            w for m in self.metas.values() for v in as_list(m.get(field)) for w in words(str(v))
        )

    def same_work(self, item_id: str) -> list[str]:
        """The other catalog entries of the same work as `item_id`: the same title once
        a trailing "(1993)" or "(Fantasy Film)" is dropped, no two different years and no
        two different names (brand, director …). Two entries of one film are one film:
        seen once, seen both; "Office Chair" by two brands are two chairs."""
        if self._versions is None:
            self._versions = {}
            for i, m in self.metas.items():
                key = words(title_core(str(m.get("title") or "")))
                if key:
                    self._versions.setdefault(key, []).append(i)
        meta = self.metas.get(item_id)
        if meta is None:
            return []
        key = words(title_core(str(meta.get("title") or "")))
        return [
            other
            for other in self._versions.get(key, [])
            if other != item_id and _one_work(meta, self.metas[other], self._naming_facets())
        ]

    def _naming_facets(self) -> set[str]:
        # the facets that name who made a thing, and what kind of thing it is
        return self.lexicon.proper | ({"brand"} & self.fields) | {self.kind_facet or "category"}

    def avoid_stem(self, word: str) -> str:
        """A prefix that finds the word's forms in item text ("zombies" → "zombie")."""
        return (
            word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word
        )


# where a title's description of the thing ends: "Hammock with Bug Net", "Mat (Blue)"
_TITLE_TAIL = re.compile(r"\s(?:with|for|and|in|of|by)\s|[(,:–—]|\s-\s", re.I)


# the nouns of a title that say how the thing comes, not what it is
_NO_KIND = frozenset("set kit pack box piece pair bundle collection edition machine maker".split())
_EVERYDAY = 5.0  # Zipf frequency from which a noun is mostly something else ("can", "run")


def title_noun(meta: dict[str, Any]) -> str | None:
    """The thing an item's title names: the last word of its first phrase before a
    size or count, singular ("Anti-Fatigue Standing Mat" → "mat", "Cast Iron Skillet
    10-inch" → "skillet"; English compounds end with their head)."""
    phrase = list(words(_TITLE_TAIL.split(str(meta.get("title") or ""), maxsplit=1)[0]))
    while phrase and _numeric(phrase[-1]):  # a size at the end: "Kettle 0.8L"
        phrase.pop()
    if len(phrase) >= 3 and _numeric(phrase[-2]):  # a count or unit: "Box 500 Pieces"
        phrase = phrase[:-2]
    nouns = [w for w in phrase if not _numeric(w)]
    return singular(nouns[-1]) if nouns else None


def _numeric(word: str) -> bool:
    return any(c.isdigit() for c in word)


def _says(meta: dict[str, Any], said: list[str]) -> bool:
    """Does the item's title hold these words in a row (any number)?"""
    title = [singular(w) for w in words(str(meta.get("title") or ""))]
    n = len(said)
    return any(title[i : i + n] == said for i in range(len(title) - n + 1))


def _first(values: Any) -> Any:
    return values[0] if isinstance(values, list) and values else None


def _one_work(a: dict[str, Any], b: dict[str, Any], naming: set[str]) -> bool:
    ya, yb = a.get("year"), b.get("year")
    if isinstance(ya, (int, float)) and isinstance(yb, (int, float)) and ya != yb:
        return False  # a remake
    for name in naming:
        va = {str(v).lower() for v in as_list(a.get(name)) if v not in (None, "")}
        vb = {str(v).lower() for v in as_list(b.get(name)) if v not in (None, "")}
        if va and vb and not va & vb:
            return False
    return True


def _clause_break(text: str, tokens: list[Token], j: int) -> bool:
    """Is there a sentence break between token j and the next one?"""
    if j + 1 >= len(tokens):
        return False
    return bool(re.search(r"[.;!?]", text[tokens[j].end : tokens[j + 1].start]))
