"""Entity linking: find catalog titles named in free text.

People name items the way the catalog titles them ("It Follows (2014)") or
without the year ("I loved It Follows"). The linker indexes every title by its
last word, so a scan costs one dict look-up per word of the message, and prefers
the longest title that ends at a word: "The Dark Knight Rises" over "The Dark
Knight". A title named without its year is only linked when it is at least two
words long and written with a capital letter, so "up" in a sentence is not the
movie Up and "Have you seen" does not name a film called "Have". A catalog whose
titles carry no year at all (OpenDialKG) links them under the same rule, except
that one-word titles count too when capitalised away from a sentence's start:
"Prometheus" is a film, "you", "drama" and "Yes, I have" name none.
"""

from __future__ import annotations

import re
from collections import defaultdict

_WORD = re.compile(r"[\w'’&:\-\.!]+|\(\d{4}\)")
_YEAR = re.compile(r"\s*\(\d{4}\)$")
MAX_TITLE_WORDS = 16


def _norm(text: str) -> list[str]:
    return [w.lower().strip(".!:'’") or w.lower() for w in _WORD.findall(text)]


class TitleLinker:
    def __init__(self, titles: dict[str, str]):
        """titles: item id → title as in the catalog."""
        # last word → list of (title words, item id, has year); several ids may
        # share a title (remakes): all are returned, first-seen first.
        self._by_last: dict[str, list[tuple[tuple[str, ...], str, bool]]] = defaultdict(list)
        for item_id, title in titles.items():
            words = tuple(_norm(title))
            if not words:
                continue
            bare = _YEAR.sub("", title)
            # a title as the catalog spells it: exact when it carries a year
            self._by_last[words[-1]].append((words, item_id, bare != title))
            if bare != title:
                bare_words = tuple(_norm(bare))
                if len(bare_words) >= 2:
                    self._by_last[bare_words[-1]].append((bare_words, item_id, False))

    def link(self, text: str) -> list[str]:
        """Item ids named in the text, in order of first mention, without repeats."""
        found_words = list(_WORD.finditer(text))
        raw = [m.group() for m in found_words]
        words = _norm(text)
        # every (start, end) span that spells a title; overlaps are settled below
        spans: dict[tuple[int, int], tuple[bool, list[str]]] = {}
        for end, word in enumerate(words):
            for title_words, item_id, with_year in self._by_last.get(word, ()):
                n = len(title_words)
                start = end - n + 1
                if start < 0 or n > MAX_TITLE_WORDS or tuple(words[start : end + 1]) != title_words:
                    continue
                if not with_year and not _looks_like_a_name(raw[start : end + 1]):
                    continue
                if (
                    not with_year
                    and n == 1
                    and _starts_a_sentence(text, found_words[start].start())
                ):
                    continue
                key = (start, end)
                old = spans.get(key)
                if old is None or (with_year and not old[0]):
                    spans[key] = (with_year, [item_id])
                elif old[0] == with_year:
                    old[1].append(item_id)
        # longest spans first, so "The Dark Knight Rises" wins over "The Dark Knight"
        taken: list[tuple[int, int, list[str]]] = []
        for (start, end), (_, ids) in sorted(
            spans.items(), key=lambda kv: (kv[0][0] - kv[0][1], kv[0][0])
        ):
            if all(end < s or start > e for s, e, _ in taken):
                taken.append((start, end, ids))
        found: list[str] = []
        for _, _, ids in sorted(taken):
            found += [i for i in ids if i not in found]
        return found


def _starts_a_sentence(text: str, offset: int) -> bool:
    before = text[:offset].rstrip()
    return not before or before[-1] in '.!?\n"“'


def _looks_like_a_name(raw_words: list[str]) -> bool:
    """A title without its year counts only when written like a name."""
    return raw_words[0][:1].isupper() or raw_words[0][:1].isdigit()


class FacetMatcher:
    """Facet values named in free text ("a good horror movie with Tom Hanks"):
    every value of the given fields shared by at least `min_items` items is
    looked up by its word n-gram, so a scan is one dict look-up per n-gram."""

    def __init__(self, metas: list[dict], fields: tuple[str, ...], min_items: int = 2):
        counts: dict[tuple[str, str], int] = defaultdict(int)
        spelled: dict[tuple[str, str], str] = {}
        for meta in metas:
            for name in fields:
                have = meta.get(name)
                for value in have if isinstance(have, list) else [have]:
                    if isinstance(value, str) and value.strip():
                        key = (name, value.lower())
                        counts[key] += 1
                        spelled.setdefault(key, value)
        self._phrases: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
        self.longest = 1
        for (name, low), n in counts.items():
            words = tuple(_norm(low))
            if n >= min_items and words and len(words) <= 4:
                forms = {words}
                if len(words) == 1:  # "comedies" and "thrillers" name the genre too
                    w = words[0]
                    forms |= {(w + "s",), (w[:-1] + "ies",) if w.endswith("y") else (w,)}
                for form in forms:
                    self._phrases[form].append((name, spelled[(name, low)]))
                self.longest = max(self.longest, len(words))

    def match(self, text: str) -> dict[str, list[str]]:
        words = _norm(text)
        found: dict[str, list[str]] = {}
        for size in range(self.longest, 0, -1):
            for start in range(len(words) - size + 1):
                for name, value in self._phrases.get(tuple(words[start : start + size]), ()):
                    if value not in found.setdefault(name, []):
                        found[name].append(value)
        return {k: v for k, v in found.items() if v}
