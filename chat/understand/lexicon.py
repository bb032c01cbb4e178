"""Finding the catalog's facet values in what the user wrote.

Built from the discovered facets and the item metadata, so it works for any
catalog: every categorical value becomes a set of spoken forms (its words,
singular and plural, glued "scifi"), plus the synonyms from words.py whose target
is a real value, plus a person's surname when it is unique ("a Spielberg film").
Matching takes the longest form at each position; a word that matches nothing
and is not an ordinary word of the catalog gets one more chance as a misspelling
(optimal string alignment distance 1, or 2 for long words: "horor", "electornics").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from chat.understand.text import Token, as_list, doers, plural, singular, word_forms, words
from chat.understand.words import (
    COMMON_WORDS,
    STOPWORDS,
    SYNONYMS,
    is_english_word,
    is_rare_word,
)
from retrieval import Facet

MAX_FORM_WORDS = 6
# words before a name: "by Spielberg", "with Keanu Reeves", "starring …"
NAME_CUES = frozenset("by with starring featuring from director directed actor actress".split())
SKIP_FACETS = {"currency", "id", "url", "image", "imdb_id"}


@dataclass(frozen=True)
class ValueHit:
    facet: str
    value: str
    start: int  # token index of the first word
    end: int  # token index after the last word
    fuzzy: bool = False


def proper_noun_facet(values: Iterable[str]) -> bool:
    """Names of people, brands, languages: most values start with a capital."""
    values = [v for v in values if v and v[0].isalpha()]
    return bool(values) and sum(v[0].isupper() for v in values) >= 0.7 * len(values)


class FacetLexicon:
    def __init__(self, facets: dict[str, Facet], metas: Iterable[dict[str, Any]] = ()):
        is_english_word("the")  # the word list loads (~2 s) here, not in a user's first turn
        self.facets = {
            n: f for n, f in facets.items() if f.kind == "categorical" and n not in SKIP_FACETS
        }
        # every value of each categorical facet, also those below discovery's cap
        counts: dict[str, Counter] = {n: Counter(f.values) for n, f in self.facets.items()}
        metas = list(metas)
        for meta in metas:
            for key in counts.keys() & meta.keys():
                value = meta[key]
                counts[key].update(value if isinstance(value, list) else [str(value)])
        self.counts = counts
        self.proper = {n for n, c in counts.items() if proper_noun_facet(c)}
        # ordinary words of the catalog (names left out): a word found here is not a
        # misspelling, and a surname that is also such a word ("Fine") is no alias
        vocabulary: Counter = Counter()
        leads = self._leading_words(counts)
        for meta in metas:
            for key, value in meta.items():
                if key in self.proper or key == "_hash":
                    continue
                for v in as_list(value):
                    if isinstance(v, str):
                        said = words(v)
                        vocabulary.update(said)
                        _check_leads(leads, said, meta)
        self.vocabulary = vocabulary
        self.index: dict[tuple[str, ...], set[tuple[str, str]]] = defaultdict(set)
        for name, values in counts.items():
            for value in values:
                for form in self._forms(value):
                    self.index[form].add((name, value))
            if name in self.proper:
                self._add_surnames(name, values, metas)
        for word, (name, value, in_text) in leads.items():
            if (word,) not in self.index and (in_text or is_rare_word(word)):
                self.index[(word,)].add((name, value))
        self._add_synonyms()
        self._add_compound_heads(metas)
        self._add_doers()
        # misspellings are looked for among descriptive values, not among names
        single = {  # a compound's head noun alone is no spelling to correct towards
            f[0]
            for f, owners in self.index.items()
            if len(f) == 1
            and len(f[0]) >= 4
            and f not in self.compound_heads
            and any(n not in self.proper for n, _ in owners)
        }
        self._fuzzy_choices = sorted(single)
        # items with makers are products, whose titles name the thing (a film's title
        # names none): what a misspelling may be as near to as to a tag
        self.sells_products = any(m.get("brand") for m in metas)
        self._thing_words = (
            sorted(self.things | {plural(t) for t in self.things}) if self.sells_products else []
        )
        # the words of longer descriptive values ("sleeping" of "sleeping bag"): what a
        # misspelt word of a name said in several words may be (_respelt)
        self._form_words = sorted(
            {
                w
                for f, owners in self.index.items()
                if len(f) > 1 and any(n not in self.proper for n, _ in owners)
                for w in f
                if len(w) >= 4 and w.isalpha()
            }
        )
        self._fuzzy_names = sorted(
            f[0]
            for f, owners in self.index.items()
            if len(f) == 1 and len(f[0]) >= 5 and any(n in self.proper for n, _ in owners)
        )

    @staticmethod
    def _forms(value: str) -> set[tuple[str, ...]]:
        form = words(value)
        if not form or len(form) > MAX_FORM_WORDS or all(w.isdigit() for w in form):
            return set()
        if len(form) == 1 and (form[0] in STOPWORDS or len(form[0]) < 3):
            return set()  # "all", "m", "none" are not worth finding in a sentence
        return word_forms(form)

    def _add_surnames(self, name: str, values: Counter, metas: list[dict[str, Any]]) -> None:
        """A surname alone names its one owner ("a Spielberg film"), or all its owners
        when they made their items together ("the Coen brothers": Joel and Ethan Coen
        share most of their films)."""
        by_surname: dict[str, list[str]] = defaultdict(list)
        for value in values:
            parts = words(value)
            if len(parts) >= 2:
                by_surname[parts[-1]].append(value)
        held: dict[str, set[int]] = defaultdict(set)  # each owner's items
        if any(len(owners) > 1 for owners in by_surname.values()):
            for i, meta in enumerate(metas):
                for value in as_list(meta.get(name)):
                    held[value].add(i)
        for surname, owners in by_surname.items():
            if (
                len(surname) >= 4
                and surname not in COMMON_WORDS
                and not self.vocabulary.get(surname)
                and (len(owners) == 1 or _work_together([held[o] for o in owners]))
            ):
                for owner in owners:
                    self.index[(surname,)].add((name, owner))

    def _leading_words(self, counts: dict[str, Counter]) -> dict[str, list[Any]]:
        """The first word of each name of several words that begins no other name
        ("Kestrel" of Kestrel Audio, "Ridgeway" of Ridgeway Gear): brands are called by
        it. Each is [facet, value, said in the catalog's text]; `_check_leads` drops
        those the text also uses for items of another name."""
        firsts: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for name in self.proper:
            for value in counts[name]:
                parts = words(value)
                if len(parts) >= 2:
                    firsts[parts[0]].append((name, value))
        return {
            word: [*owners[0], False]
            for word, owners in firsts.items()
            if len({v for _, v in owners}) == 1
            and len(word) >= 4
            and word.isalpha()
            and word not in COMMON_WORDS
            and word not in STOPWORDS
        }

    def _add_synonyms(self) -> None:
        for spoken, targets in SYNONYMS.items():
            hits = set()
            for target in targets:
                hits |= self.index.get(words(target), set())
            if hits:
                for form in word_forms(words(spoken)):
                    self.index[form] |= hits

    def _add_doers(self) -> None:
        """Who does it names the activity: "a keen gardener" → garden(ing), "for a
        runner" → running, "my sister the cyclist" → cycling. Only English words, and
        never a word that is a value or a thing sold itself ("cooker")."""
        for name, values in self.counts.items():
            if name in self.proper:
                continue
            for value in values:
                form = words(str(value))
                if len(form) != 1:
                    continue
                for doer in doers(form[0]):
                    if (doer,) not in self.index and singular(doer) not in self.things:
                        self.index[(doer,)].add((name, value))
                        self.index[(plural(doer),)].add((name, value))

    def _add_compound_heads(self, metas: list[dict[str, Any]]) -> None:
        """A compound value answers to its last word alone when that word names
        nothing else and is a thing the catalog sells (the last word of a title):
        "grinder" finds coffee-grinder, "desk" standing-desk (and "chair" every
        kind of chair), but "safe" is no oven-safe. A kind is said by its head
        noun; the qualifier is often left out or said apart ("a grinder for espresso")."""
        things = set()
        titled: dict[str, list[dict[str, Any]]] = defaultdict(list)  # thing → its items
        for meta in metas:
            title = re.split(r"\s[-–(:]", str(meta.get("title") or ""))[0]
            named = [w for w in words(title) if not any(c.isdigit() for c in w)]
            if named:
                things.add(singular(named[-1]))
                titled[singular(named[-1])].append(meta)
        self.things = things  # what the catalog sells: the last word of each title
        heads: dict[tuple[str, ...], set[tuple[str, str]]] = defaultdict(set)
        for name, values in self.counts.items():
            if name in self.proper:
                continue
            for value in values:
                form = words(value)
                if 2 <= len(form) <= 3 and len(form[-1]) >= 4 and singular(form[-1]) in things:
                    for spoken in word_forms(form[-1:]):
                        heads[spoken].add((name, value))
        # "pad" is no cotton pad when a kneeling pad is titled a pad too: the head noun
        # alone answers to the compounds only when every item it names has one of them
        self.compound_heads = {
            spoken: owners
            for spoken, owners in heads.items()
            if spoken not in self.index
            and all(
                any(v in as_list(m.get(n)) for n, v in owners)
                for m in titled.get(singular(spoken[0]), [])
            )
        }
        for spoken, owners in self.compound_heads.items():
            self.index[spoken] = set(owners)

    def names_a_thing(self, value: str) -> bool:
        """Does the value end in a thing the catalog sells ("coffee-grinder",
        "kettle"), rather than describe one ("lightweight")?"""
        form = words(value)
        return bool(form) and singular(form[-1]) in self.things

    def values_of(self, facet: str) -> list[str]:
        return [v for v, _ in self.counts.get(facet, Counter()).most_common()]

    def known_word(self, word: str) -> bool:
        return word in COMMON_WORDS or self.vocabulary.get(word, 0) > 0

    def find(
        self, tokens: list[Token], skip: Set[int] = frozenset(), *, fuzzy: bool = True
    ) -> list[ValueHit]:
        """Facet values named in `tokens`, longest first; token indexes in `skip`
        (already read as a title, a price …) are left alone. Without `fuzzy` no word
        is read as a misspelling (a Spanish "menos" is no typo of "men")."""
        return self.find_words([t.text for t in tokens], skip, fuzzy=fuzzy)

    def spells(self, form: tuple[str, ...], value: str) -> bool:
        """Do these words spell the value itself (any of its forms), rather than a
        synonym or a misspelling of it?" A compound's head noun spells it too."""
        return form in self._forms(value) or any(
            v == value for _, v in self.compound_heads.get(form, ())
        )

    def own_form(self, form: tuple[str, ...], value: str) -> bool:
        """Do these words spell the value itself, not a synonym, a misspelling or a
        compound it heads ("board" for "cutting-board")?"""
        return form in self._forms(value)

    def has_form(self, form: tuple[str, ...]) -> bool:
        return form in self.index

    def find_words(
        self, words_: list[str], skip: Set[int] = frozenset(), *, fuzzy: bool = True
    ) -> list[ValueHit]:
        hits: list[ValueHit] = []
        said = words_
        if fuzzy:
            words_ = self._respelt(words_, skip)
        i = 0
        while i < len(words_):
            if i in skip:
                i += 1
                continue
            matched = False
            for n in range(min(MAX_FORM_WORDS, len(words_) - i), 0, -1):
                span = range(i, i + n)
                if any(j in skip for j in span):
                    continue
                for facet, value in sorted(self.index.get(tuple(words_[i : i + n]), ())):
                    respelt = words_[i : i + n] != said[i : i + n]
                    hits.append(ValueHit(facet, value, i, i + n, fuzzy=respelt))
                    matched = True
                if matched:
                    i += n
                    break
            if not matched:
                near = self._fuzzy(words_[i]) if fuzzy else []
                if fuzzy and not near:
                    near = self._fuzzy_name(words_[i], cued=bool(i) and words_[i - 1] in NAME_CUES)
                hits += [ValueHit(f, v, i, i + 1, fuzzy=True) for f, v in near]
                i += 1
        return hits

    def _respelt(self, words_: list[str], skip: Set[int]) -> list[str]:
        """The words with each misspelt word of a value said in several words put
        right when the next or the previous word completes that value ("sleping bag":
        the sleeping bag; "stanidng desk": the standing desk). A word is respelt only
        to one nearest word, and only when it is no word the catalog or English knows."""
        out = list(words_)
        for i, word in enumerate(words_):
            edits = None if i in skip else self._typo_edits(word)
            if edits is None:
                continue
            forms = nearest_forms(word, self._form_words, edits, most=8)
            if len(forms) != 1:
                continue
            pairs = [(forms[0], out[i + 1]) if i + 1 < len(out) else None]
            pairs.append((out[i - 1], forms[0]) if i else None)
            if any(pair in self.index for pair in pairs if pair):
                out[i] = forms[0]
        return out

    def _fuzzy_name(self, word: str, cued: bool = True) -> list[tuple[str, str]]:
        """A misspelt surname after "by", "with" … ("movies by Spielburg"): one edit
        away (two for long names) from exactly one person or brand's surname. Without
        such a cue only a long word one edit away ("hearthwel" for Hearthwell)."""
        if len(word) < (5 if cued else 7) or self.known_word(word) or is_english_word(word):
            return []
        edits = 1 if len(word) <= 7 or not cued else 2
        forms = nearest_forms(word, self._fuzzy_names, edits, most=4)
        if len(forms) != 1:
            return []  # two names equally near: no guess
        return sorted((n, v) for n, v in self.index[(forms[0],)] if n in self.proper)

    def _typo_edits(self, word: str) -> int | None:
        """How many edits a misspelling of `word` may be away from what was meant (1, or 2
        for a long word); None when it is no misspelling: short, a number, a word the
        catalog uses, or an English word ("whats" is no typo of "hats", nor "pirate" of
        "pilates")."""
        if len(word) < 4 or not word.isalpha() or self.known_word(word) or is_english_word(word):
            return None
        return 1 if len(word) <= 6 else 2

    def _fuzzy(self, word: str) -> list[tuple[str, str]]:
        edits = self._typo_edits(word)
        if edits is None or not self._fuzzy_choices:
            return []
        forms = nearest_forms(word, self._fuzzy_choices, edits, most=8)
        if not forms:
            return []
        # "pruning sheers": sheets (a tag) or the shears a title sells, as near: no guess
        said = {singular(f) for f in forms}
        rivals = nearest_forms(word, self._thing_words, edits, most=8)
        if any(singular(r) not in said for r in rivals) and OSA.distance(
            word, rivals[0]
        ) <= OSA.distance(word, forms[0]):
            return []

        def weight(form: str) -> int:  # the most common value among equally near ones
            return sum(self.counts[n][v] for n, v in self.index[(form,)] if n not in self.proper)

        form = max(forms, key=lambda f: (weight(f), f))
        return sorted((n, v) for n, v in self.index[(form,)] if n not in self.proper)


def _work_together(items: list[set[int]]) -> bool:
    """Do the owners of one surname share at least half of each one's items?"""
    shared = set.intersection(*items)
    return all(2 * len(shared) >= len(held) > 0 for held in items)


def _check_leads(leads: dict[str, list[Any]], said: tuple[str, ...], meta: dict[str, Any]) -> None:
    """A leading word the catalog's text uses for an item of another name is an
    ordinary word there ("linen", "little"), no name; one it uses only for items of
    that name is the name said short."""
    for word in leads.keys() & set(said):
        name, value, _ = leads[word]
        if value in as_list(meta.get(name)):
            leads[word][2] = True
        else:
            del leads[word]


def nearest_forms(word: str, choices: list[str], max_edits: int, most: int) -> list[str]:
    """Of the `most` choices nearest to `word` within `max_edits` edits, the nearest
    ones (several when they tie)."""
    found = process.extract(word, choices, scorer=OSA.distance, score_cutoff=max_edits, limit=most)
    if not found:
        return []
    nearest = min(d for _, d, _ in found)
    return [f for f, d, _ in found if d == nearest]
