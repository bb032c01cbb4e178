"""The words of a Spanish, German, French … message mapped onto the catalog's own
English words ("mochila" → backpack, "Wasserkocher" → kettle, "schwarz" → black),
so the rules read it like an English one, with or without an LLM.

Each content word of the message is embedded with the multilingual USE model
(packaged, numpy only) and compared with every descriptive value of the catalog
(its kinds, colours, materials, genres; not names, which need no translating).
Plain cosine similarity has hubs: a few short values ("hat", "qi") sit near
every foreign function word. So a word's nearest value is accepted only when its
CSLS score clears a threshold (cross-domain similarity local scaling, Conneau et
al. 2018: twice the cosine, less the word's mean similarity to its nearest
values, less the value's mean similarity to its nearest words of that language,
taken from the language's most common words).

Plain English words are targets too (the words the reader itself knows: "for",
"without", "movie", "mother", "funny", "cheap", the catalog's field names): a
word nearest one of them becomes that word ("sans" → without, "película" →
movie, "Mutter" → mother), so negations, who a gift is for and price words read
as in English, and a word that only means "film" is not forced onto a genre.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable

import numpy as np

from chat.understand.language import LATIN_LANGUAGES

# measured on the demo shop: the words that name things score 0.23-0.75 against
# their English value (Wasserkocher → kettle 0.23, mochila → backpack 0.51),
# function and filler words -0.2-0.12 against whatever is nearest
THRESHOLD = 0.2
# English words the catalog does not use are targets too, but only win a word from the
# catalog's nearest value by this much (score = cosine + CSLS, each side measured on its
# own targets): "sábado" is Saturday 1.33, not the weekender bag 0.69; "taza" stays a
# mug 1.32 against "cup" 1.46
ENGLISH_MARGIN = 0.3
ENGLISH_WORDS = 3000  # how many of the commonest English words
NEIGHBOURS = 10  # how many nearest neighbours measure a hub
COMMON_WORDS = 1000  # the language's most common words: the hubs are measured on them
# a word clearly of the other language: this much more common there than in English
# (wordfreq's Zipf scale; the margin language.py tells languages apart by)
FOREIGN_MARGIN = 1.0
_WORD = re.compile(r"[^\W\d_]+")
# each language's definite articles, read as "the" before a word that is translated
# ("la segunda" → "the second": the reader knows a shown item by "the" + a position)
ARTICLES = {
    "es": frozenset("el la los las".split()),
    "de": frozenset("der die das den dem des".split()),
    "fr": frozenset("le la les l".split()),
    "it": frozenset("il lo la i gli le l".split()),
    "pt": frozenset("o a os as".split()),
    "nl": frozenset("de het".split()),
}


@functools.cache
def _english_words(embedder: str) -> tuple[list[str], np.ndarray]:
    """The commonest English words and their vectors, once per process."""
    from wordfreq import top_n_list

    from retrieval import make_embedder

    top = top_n_list("en", 2 * ENGLISH_WORDS, wordlist="small")
    words = [w for w in top if w.isalpha() and len(w) >= 3][:ENGLISH_WORDS]
    return words, make_embedder(embedder).embed(words)


def _scores(
    words: np.ndarray, targets: np.ndarray, hubs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each word against each target: cosine + CSLS, and CSLS alone."""
    similar = words @ targets.T
    own = np.sort(similar, axis=1)[:, -NEIGHBOURS:].mean(axis=1)
    csls = 2 * similar - own[:, None] - hubs[None, :]
    return similar + csls, csls


def is_foreign_word(word: str, language: str) -> bool:
    """Is the word clearly one of that language, not English ("hat" in German is
    "has", not the thing on your head)?"""
    from wordfreq import zipf_frequency

    there = zipf_frequency(word, language, wordlist="small")
    return there - zipf_frequency(word, "en", wordlist="small") >= FOREIGN_MARGIN


class ForeignWords:
    """English catalog words for the words of a message in another Latin-script
    language; the model loads at the first such message."""

    def __init__(
        self, values: Iterable[str], plain: Iterable[str] = (), embedder: str = "use-multilingual"
    ):
        # plain English words ("without", "movie", "mother") are targets too: a word
        # nearest to one of them is translated to it, not forced onto a catalog value
        # ("película" is a movie, not a comedy)
        values = {
            v for v in values if any(c.isalpha() for c in v) and not any(c.isdigit() for c in v)
        }
        self.values = sorted(values | set(plain))
        self.embedder = embedder
        self._vectors: np.ndarray | None = None
        self._hubness: dict[str, np.ndarray] = {}  # language → each value's hubness
        self._english: np.ndarray | None = None  # vectors of _english_words()
        self._english_hubness: dict[str, np.ndarray] = {}
        self._common_vectors: dict[str, np.ndarray] = {}  # language → its common words
        self._known: dict[tuple[str, str], str | None] = {}
        self._lock = threading.Lock()

    def translate(self, text: str, language: str, keep: Callable[[int, int], bool]) -> str:
        """`text` with each word that names a catalog value or a plain English word
        replaced by it, and the other words of that language left out ("de después
        de 2010" → "after 2010": they would only come between a cue and its number,
        and blur the dense query of an English catalog). Words at spans `keep` says
        are read already stay ("50 Euro", a brand)."""
        found = [m for m in _WORD.finditer(text) if not keep(m.start(), m.end())]
        english = self.english([m.group(0) for m in found if len(m.group(0)) >= 3], language)
        articles = ARTICLES.get(language, frozenset())
        for n in range(len(found) - 1, -1, -1):
            m = found[n]
            word = m.group(0)
            # a word of that language spelt like its nearest English word is a false
            # friend ("hat" in German is "has"), not that word
            same = english.get(word, "").lower() == word.lower()
            if word in english and not (same and is_foreign_word(word.lower(), language)):
                text = text[: m.start()] + english[word] + text[m.end() :]
            elif (
                word.lower() in articles
                and n + 1 < len(found)
                and found[n + 1].group(0) in english
                and not text[m.end() : found[n + 1].start()].strip(" '’")
            ):
                text = text[: m.start()] + "the " + text[found[n + 1].start() :]
            elif is_foreign_word(word, language):
                text = text[: m.start()] + text[m.end() :]
        return re.sub(r" {2,}", " ", text).strip()

    def warm_up(self, languages: Iterable[str] = LATIN_LANGUAGES) -> None:
        """Load the model and embed the catalog's values and each language's common
        words now. Done lazily, under a server's load, it took a minute: 20 sessions'
        threads share the GIL, and every message in another language waits on the lock."""
        if self.values:
            with self._lock:
                for language in languages:
                    self._hubs(language)
                    self._hubs(language, english=True)

    def english(self, words: list[str], language: str) -> dict[str, str]:
        """The catalog value each word names, for the words that name one."""
        if not self.values:
            return {}
        with self._lock:
            todo = [w for w in dict.fromkeys(words) if (w, language) not in self._known]
            if todo:
                for word, value in zip(todo, self._nearest(todo, language), strict=True):
                    self._known[(word, language)] = value
            return {w: v for w in words if (v := self._known.get((w, language)))}

    def _nearest(self, words: list[str], language: str) -> list[str | None]:
        values = self._catalog_vectors()
        embedded = self._embed([w.lower() for w in words])
        scores, csls = _scores(embedded, values, self._hubs(language))
        other, _ = _scores(embedded, self._english_vectors(), self._hubs(language, english=True))
        out: list[str | None] = []
        # the nearest by cosine and CSLS together: CSLS alone lets a value far from the
        # word win on a small hub difference (Wasserkocher: milk steamer 0.244, kettle
        # 0.236), cosine alone lets the hubs win ("correr": run 0.88, running 0.87)
        for score, sure, english in zip(scores, csls, other, strict=True):
            best = int(score.argmax())
            if english.max() - score[best] >= ENGLISH_MARGIN:
                out.append(None)  # an English word the catalog does not use: no value
            else:
                out.append(self.values[best] if sure[best] >= THRESHOLD else None)
        return out

    def _catalog_vectors(self) -> np.ndarray:
        if self._vectors is None:
            self._vectors = self._embed([v.replace("-", " ") for v in self.values])
        return self._vectors

    def _english_vectors(self) -> np.ndarray:
        if self._english is None:
            words, vectors = _english_words(self.embedder)
            known = set(self.values)
            self._english = vectors[[w not in known for w in words]]
        return self._english

    def _hubs(self, language: str, english: bool = False) -> np.ndarray:
        """How near each value (or English word) sits to the language's common words."""
        hubness = self._english_hubness if english else self._hubness
        if language not in hubness:
            targets = self._english_vectors() if english else self._catalog_vectors()
            similar = self._common(language) @ targets.T
            hubness[language] = np.sort(similar, axis=0)[-NEIGHBOURS:].mean(axis=0)
        return hubness[language]

    def _common(self, language: str) -> np.ndarray:
        """The vectors of the language's most common words."""
        if language not in self._common_vectors:
            from wordfreq import top_n_list

            # the small list holds the same top words; the full one costs 25-47 MB a language
            top = top_n_list(language, 2 * COMMON_WORDS, wordlist="small")
            common = [w for w in top if w.isalpha()]
            self._common_vectors[language] = self._embed(common[:COMMON_WORDS])
        return self._common_vectors[language]

    def _embed(self, texts: list[str]) -> np.ndarray:
        from retrieval import make_embedder

        return make_embedder(self.embedder).embed(texts)
