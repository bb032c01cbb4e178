"""Numeric constraints in text: money, years and decades, counts with units,
relative words ("cheap", "recent") and comparatives ("cheaper", "newer").

Works on lower-cased text (Chinese already glossed into English by
language.gloss). Which readings apply depends on the catalog: money only when it
has a price facet, years only when it has a year facet, "over 20 hours" only
when a numeric facet is named after hours. Each hit keeps its character span so
the facet matcher leaves those words alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chat.understand.words import CHEAP_WORDS, MID_WORDS, PRICEY_WORDS, UNIT_WORDS
from retrieval import Facet

_UNITS = (
    r"hours?|hrs?|h|min|mins|minutes|kg|g|lbs?|years?|yrs?|l|ml|cm|mm|m|inch|inches|gb|tb|w|"
    r"pieces|pcs|pages|players|stars?|ratings?|reviews?|people|person|persons|ppl|pax|guests|"
    r"kids|adults|litres?|liters?|%"
)
_CUR = r"(?:[$€£¥]\s?)"
_AMOUNT = r"(\d+(?:,\d{3})*(?:\.\d{1,2})?)"
_WORD_CUR = r"(?:\s?(?:dollars?|usd|euros?|eur|bucks|pounds?|gbp|quid|zł|złoty|złotych|złote|zloty|zlotys|zlotych|pln|kronor|kronur|kr|sek|nok|dkk|francs?|chf|reais|brl))"
# a money amount: "$50", "50 dollars", "49.99"; never "2 hours" or "5 kg"
_NUM = rf"{_CUR}?{_AMOUNT}(?!\d|[.,]\d|\s*(?:{_UNITS})\b){_WORD_CUR}?"
_CEILING = re.compile(
    rf"\b(?:under|below|less than|cheaper than|at most|max(?:imum)?|up to|no more than|"
    rf"not more than|within|budget(?: is| of)?|spend(?: up to)?|<"
    # a budget raised or changed: "I can stretch to 40", "make it 70", "go as high as 90"
    rf"|stretch(?: it)? to|go(?: as high as| to)|make it|can do|could do"
    rf"|(?:raise|increase|bump|push)(?: it| that| the budget)?(?: up)? to)\s*{_NUM}",
)
_NO_UNIT = rf"(?!\s*(?:{_UNITS})\b)"
# "60 max", "a hundred and sixty, tops": the bound word after the amount, a comma between
_CEILING_AFTER = re.compile(
    rf"{_NUM}\s*,?\s*(?:or less|or under|or below|or cheaper|and under|and below|at (?:the )?most|"
    rf"max(?:imum)?|tops|budget|to spend|to play with|to blow)\b"
)
_FLOOR = re.compile(rf"\b(?:over|above|more than|at least|min(?:imum)?|>)\s*{_NUM}")
_FLOOR_AFTER = re.compile(
    rf"{_NUM}\s*(?:or more|or above|and up|and above|at (?:the )?least|minimum|\+){_NO_UNIT}"
)
_BETWEEN = re.compile(
    rf"\b(?:between|from)\s*{_NUM}\s*(?:and|-|–|to)\s*{_NUM}"
    rf"|{_CUR}{_AMOUNT}\s*(?:-|–|to)\s*{_CUR}?{_AMOUNT}"
    rf"|\b{_AMOUNT}\s*(?:-|–|to)\s*{_AMOUNT}{_WORD_CUR}"
)
# a bare number is money only where nothing follows it but the end of a phrase
# ("roughly 150, for a lamp"; never "about 7 sisters" or "3 to 5 players")
_BARE_END = (
    r"(?=\s*(?:$|[,.;:!?)]|or so\b|or thereabouts\b|-?ish\b|for\b|and\b|please\b|max\b|tops\b))"
)
_AROUND = re.compile(
    rf"\b(?:around|about|roughly|approximately|approx|circa|ballpark|in the region of|~)\s*"
    rf"(?:{_CUR}{_AMOUNT}|{_AMOUNT}{_WORD_CUR}|{_AMOUNT}{_BARE_END})"
    rf"|{_NUM}\s*(?:or so|-?ish|give or take|or thereabouts)\b"
)
# an amount marked as money and nothing else ("maybe 50 bucks?", "$80, for my sister"):
# what the user means to spend, so a cap (read after every cue, which wins where present)
_MARKED = re.compile(rf"{_CUR}{_AMOUNT}(?![\d.,]*\d)|\b{_AMOUNT}{_WORD_CUR}\b")
_BARE_BETWEEN = re.compile(rf"\b{_AMOUNT}\s*(?:-|–|to)\s*{_AMOUNT}{_BARE_END}")

# a bound said the other way round: "nothing over 30", "not anything above $80",
# "none under 20 please" (a negation right before the cue, one word between at most)
_COMPARING = re.compile(r"(?:over|above|more than|under|below|less than|cheaper than)\b")
_NEGATED_BOUND = re.compile(r"\b(?:nothing|not|no|none|never)(?:\s+[a-z]+)?\s+$")

# the single words of the cues above and below: what a word of another language
# that means one of them is translated to (foreign.py: "después" → after)
CUE_WORDS = frozenset(
    """under below less cheaper most maximum within budget over above more least minimum
    between from after since newer later before until older earlier prior around about
    roughly approximately dollars euros pounds""".split()
)

_Y = r"((?:19|20)\d\d)"
_YEAR_BETWEEN = re.compile(
    rf"\b(?:between|from)\s+{_Y}\s*(?:and|to|-|–)\s*{_Y}\b|\b{_Y}\s*(?:-|–)\s*{_Y}\b"
)
_YEAR_AFTER = re.compile(rf"\b(after|since|newer than|later than|post)\s*-?\s*{_Y}\b")
_YEAR_FROM_ON = re.compile(
    rf"\b{_Y}\s*(?:or later|or newer|onwards?|and later|and newer|and up|\+)|\bfrom\s+{_Y}\s+on(?:wards?)?\b"
)
_YEAR_BEFORE = re.compile(
    rf"\b(before|until|till|up to|older than|earlier than|prior to|pre)\s*-?\s*{_Y}\b"
)
_YEAR_UNTIL_AFTER = re.compile(
    rf"\b{_Y}\s*(?:or earlier|or older|and earlier|and older|and before)"
)
_YEAR_IN = re.compile(rf"\b(?:in|from|of|made in|released in|year)\s+{_Y}\b(?!s)")
_DECADE = re.compile(r"\b(early|mid|late)?[\s-]*(?:the\s+)?(?:(19|20)(\d)0|'?(\d)0)\s*'?s\b")
_DECADE_WORDS = {
    "twenties": 1920,
    "thirties": 1930,
    "forties": 1940,
    "fifties": 1950,
    "sixties": 1960,
    "seventies": 1970,
    "eighties": 1980,
    "nineties": 1990,
}
_DECADE_WORD = re.compile(rf"\b(early|mid|late)?[\s-]*(?:the\s+)?({'|'.join(_DECADE_WORDS)})\b")
_RECENT = re.compile(r"\b(recent|newest|latest|modern|contemporary|new releases?|newer ones?)\b")
_OLD = re.compile(
    r"(?<!year )(?<!years )\b(old(?:er)? ones?|classics?|vintage|oldies|old[- ]school|golden age|old movies?|old films?)\b"
)

_COMPARE = re.compile(
    r"(?<!the )\b(cheaper|less expensive|more affordable|lower[- ]priced|"
    # "the cheaper one" points at a shown item; "a cheaper one (than that)" asks for one
    r"more expensive|pricier|fancier|higher[- ]end|newer|more recent|older)\b(?!\s+of\b)"
)
_LOWER = {"cheaper", "less expensive", "more affordable", "lower-priced", "lower priced", "older"}
# a complaint about what was shown asks for the other side: "too pricey" → cheaper,
# "too old" → newer ("not too expensive" is a mild wish, read by the price levels)
_TOO = re.compile(
    r"(?<!not )\btoo\s+(expensive|pricey|pricy|costly|steep|dear|spendy|old|dated|new|recent|"
    r"modern|heavy|bulky)\b"
)
_TOO_MEANS = {
    "expensive": ("price", "lower"),
    "pricey": ("price", "lower"),
    "pricy": ("price", "lower"),
    "costly": ("price", "lower"),
    "steep": ("price", "lower"),
    "dear": ("price", "lower"),
    "spendy": ("price", "lower"),
    "old": ("year", "higher"),
    "dated": ("year", "higher"),
    "new": ("year", "lower"),
    "recent": ("year", "lower"),
    "modern": ("year", "lower"),
    "heavy": ("kg", "lower"),
    "bulky": ("kg", "lower"),
}
# the same complaint about price in other words ("a bit steep for me", "out of my price
# range") and a limit set by a shown item ("anything under that?", "less than this one")
_DEAR = re.compile(
    r"(?<!not )\b(?:(?:a (?:bit|little|tad)|bit|rather|quite|way|very|pretty|so) "
    r"(?:steep|dear|spendy|pricey|pricy|expensive|costly)|"
    r"(?:out of|over|above|beyond) (?:my|our|the) (?:price range|budget|league)|"
    r"more than i (?:want|wanted|can|could|'d like) to (?:pay|spend|afford))\b"
)
# better liked than what was shown ("anything people rate higher than the second one?")
_RATED_HIGHER = re.compile(
    r"(?<!the )\b(?:better[- ]rated|better[- ]reviewed|higher[- ]rated|more highly rated|"
    r"rated (?:higher|better)|rates? (?:it |them )?(?:higher|better))\b"
)
_BELOW_SHOWN = re.compile(
    r"\b(?:under|below|less than|lower than)\s+"
    r"(?:(?:that|this|it|them|those|these)(?:\s+ones?)?\b(?!\s+(?:budget|price|amount|figure))|"
    # "for less than the last pair", "less than every one of them"
    r"the\s+(?:first|second|third|fourth|fifth|last|other)\s+(?:ones?|pairs?|sets?)\b|"
    r"(?P<all>(?:all|every one|each|any) of (?:them|those|these))\b|"
    # "anything under what the third one costs?"
    r"what\s+(?:the|that|this|it|they|those|these)\b[^?.!,]{0,30}?\b(?:costs?|is|are|goes for)\b)"
)

# size and weight said relative to what was shown: "roomier", "a lighter one", "longer
# battery"; each → (the unit of the measure it compares, which way). Read only where
# the catalog has a measure in that unit ("capacity_l", "weight_kg", "battery_hours").
_SIZE_MEANS = {
    "roomier": (("l", "ml"), "higher"),
    "bigger": (("l", "ml"), "higher"),
    "larger": (("l", "ml"), "higher"),
    "more spacious": (("l", "ml"), "higher"),
    "more room": (("l", "ml"), "higher"),
    "higher capacity": (("l", "ml"), "higher"),
    "smaller": (("l", "ml"), "lower"),
    "more compact": (("l", "ml"), "lower"),
    "lighter": (("kg",), "lower"),
    "heavier": (("kg",), "higher"),
    "longer battery": (("hours",), "higher"),
    "longer lasting": (("hours",), "higher"),
    "longer-lasting": (("hours",), "higher"),
    "lasts longer": (("hours",), "higher"),
    # a book's length: "something meatier", "a shorter read"
    "meatier": (("pages",), "higher"),
    "longer read": (("pages",), "higher"),
    "longer book": (("pages",), "higher"),
    "thicker": (("pages",), "higher"),
    "shorter read": (("pages",), "lower"),
    "quicker read": (("pages",), "lower"),
    "shorter book": (("pages",), "lower"),
    "thinner": (("pages",), "lower"),
}
_SIZE = re.compile(
    r"(?<!the )\b(" + "|".join(sorted(map(re.escape, _SIZE_MEANS), key=len, reverse=True)) + r")\b"
)

# "more pieces", "weighs less": a comparative and the word of a measure, either way round
_MORE_WORDS = frozenset("more higher bigger larger longer".split())
_MEASURED = (
    re.compile(r"\b(more|fewer|less|higher|lower|bigger|smaller|larger|longer|shorter)\s+([a-z]+)"),
    re.compile(r"\b([a-z]+)\s+(more|less)\b"),
)
# the words of each measure a field's name may end in ("weight_kg", "battery_hours")
_UNIT_ALIASES = {
    **UNIT_WORDS,
    "kg": (*UNIT_WORDS["kg"], "weigh", "weighs", "weight"),
    "hours": ("hour", "hours", "hrs", "hr", "h"),
    "pages": ("page", "pages"),
    "pieces": ("piece", "pieces", "pcs"),
    "rating": ("star", "stars", "rated", "rating"),
    "battery": ("battery",),
}
_GENERIC = re.compile(
    r"\b(under|below|less than|at most|up to|no more than|over|above|more than|at least|min(?:imum)?)"
    r"\s*(\d+(?:\.\d+)?|an?|one)\s*\+?\s*([a-z]+)"
    r"|\b(\d+(?:\.\d+)?)\s*\+\s*([a-z]+)"
    r"|\b(\d(?:\.\d)?)\s*stars?\s*(?:or more|and up|or better|\+)"
    r"|\brated\s*(?:above|over|at least)?\s*(\d(?:\.\d)?)"
)
_FLOOR_WORDS = ("over", "above", "more than", "at least", "min", "minimum")
_LEVELS = sorted(
    [(w, "low") for w in CHEAP_WORDS]
    + [(w, "high") for w in PRICEY_WORDS]
    + [(w, "mid") for w in MID_WORDS],
    key=lambda p: -len(p[0]),
)
_LEVEL = re.compile(
    r"\b(" + "|".join(re.escape(w) for w, _ in _LEVELS) + r")\b(?!\s+(?:one|of them)\b)"
)
_LEVEL_OF = dict(_LEVELS)


@dataclass(frozen=True)
class RangeHit:
    facet: str
    low: float | None
    high: float | None
    start: int
    end: int


@dataclass(frozen=True)
class Comparative:
    facet: str
    direction: str  # "lower" | "higher"
    start: int
    end: int
    # beyond every shown item ("less than every one of them"), not their middle
    beyond_all: bool = False


@dataclass
class Reading:
    ranges: list[RangeHit] = field(default_factory=list)
    levels: list[tuple[str, str]] = field(default_factory=list)  # (facet, low|mid|high)
    comparatives: list[Comparative] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)

    def covers(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.spans)

    def overlaps(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in self.spans)


_UNITS_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_NUMBER_VALUE = {w: i for i, w in enumerate(_UNITS_WORDS)} | {
    w: 20 + 10 * i for i, w in enumerate(_TENS_WORDS)
}
_SMALL = rf"(?:{'|'.join(_TENS_WORDS)})(?:[\s-]+(?:{'|'.join(_UNITS_WORDS[1:10])}))?|{'|'.join(_UNITS_WORDS)}"
_SCALE = r"hundred|thousand|grand"
# banknotes by name: "under a fiver", "a tenner or so"
_NOTES = {"fiver": 5, "tenner": 10}
# "two hundred and fifty", "a hundred", "a fifty" (the note), "twenty-five", "fifteen"
_NUMBER_PHRASE = re.compile(
    rf"\b(?:(?:a|an|one)\s+)?(?:(?:{_SMALL})\s+)?(?:{_SCALE})(?:\s+(?:and\s+)?(?:{_SMALL}))?\b"
    rf"|\b(?:an?\s+)?(?:{_SMALL})\b"
    rf"|\b(?:an?\s+)?(?:{'|'.join(_NOTES)})s?\b"
)
_CURRENCY_AFTER = re.compile(_WORD_CUR)


def _number_value(phrase: str) -> int:
    total, current = 0, 0
    for word in re.findall(r"[a-z]+", phrase):
        if word == "hundred":
            current = max(current, 1) * 100
        elif word in ("thousand", "grand"):
            total, current = total + max(current, 1) * 1000, 0
        elif word in _NUMBER_VALUE:
            current += _NUMBER_VALUE[word]
        elif word.rstrip("s") in _NOTES:
            current += _NOTES[word.rstrip("s")]
    return total + current  # "a", "an" and "and" add nothing


def spell_numbers(text: str) -> tuple[str, tuple[list[int], list[int]]]:
    """`text` with number words as digits where they can be money: ten or more
    ("under twenty", "around a hundred", "below a fifty") or followed by a currency
    ("five bucks"). Also where each character came from: (start, end) in `text`."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last = 0
    for m in _NUMBER_PHRASE.finditer(text):
        value = _number_value(m.group(0))
        note = any(n in m.group(0) for n in _NOTES)
        money = value >= 10 or note or _CURRENCY_AFTER.match(text, m.end())
        if re.search(r"\d\s*$", text[: m.start()]):
            continue  # "2 grand" is no number this reads
        if not money or (value < 20 and not note and m.group(0).startswith(("a ", "an "))):
            continue  # "one of them", "a ten" is no amount anyone says
        for j in range(last, m.start()):
            out.append(text[j])
            starts.append(j)
            ends.append(j + 1)
        for ch in str(value):
            out.append(ch)
            starts.append(m.start())
            ends.append(m.end())
        last = m.end()
    for j in range(last, len(text)):
        out.append(text[j])
        starts.append(j)
        ends.append(j + 1)
    starts.append(len(text))
    ends.append(len(text))
    return "".join(out), (starts, ends)


def marked_amount(text: str) -> bool:
    """Is `text` an amount marked as money and nothing else ("$899", "899 bucks")?"""
    return _MARKED.fullmatch(text.strip()) is not None


def amounts(text: str) -> list[float]:
    """The numbers of `text` that may be money: not a count or a measure ("2 ppl",
    "5 kg", "3 hours")."""
    found = re.finditer(rf"(?<![\d.,])(\d[\d,]*(?:\.\d+)?)(?!\d|\s*(?:{_UNITS})\b)", text.lower())
    return [_money(m.group(1)) for m in found]


def _money(text: str) -> float:
    return float(text.replace(",", ""))


class RangeReader:
    def __init__(self, facets: dict[str, Facet]):
        numeric = {n: f for n, f in facets.items() if f.kind == "numeric"}
        self.price = "price" if "price" in numeric else None
        self.rating = "rating" if "rating" in numeric else None
        self.year = next((n for n in numeric if n == "year" or n.endswith("_year")), None)
        self.facets = numeric
        year = numeric.get(self.year) if self.year else None
        q = year.quartiles if year and year.quartiles else None
        self.recent_from = q[2] if q else None
        self.old_until = q[0] if q else None
        self._by_unit: dict[str, str] = {}
        for name in numeric:
            if name in ("price", "rating_count") or name == self.year:
                continue
            for part in name.split("_"):
                for unit, aliases in _UNIT_ALIASES.items():
                    if part == unit or part in aliases:
                        for a in aliases + (unit,):
                            self._by_unit.setdefault(a, name)

    def read(self, text: str) -> Reading:
        """Ranges in `text`; number words are read as digits ("under two hundred"),
        and every span refers to `text` as given."""
        digits, where = spell_numbers(text)
        out = self._read(digits)
        if digits == text:
            return out
        starts, ends = where

        def back(start: int, end: int) -> tuple[int, int]:
            return starts[start], ends[end - 1] if end > start else starts[start]

        out.ranges = [RangeHit(r.facet, r.low, r.high, *back(r.start, r.end)) for r in out.ranges]
        out.comparatives = [
            Comparative(c.facet, c.direction, *back(c.start, c.end), c.beyond_all)
            for c in out.comparatives
        ]
        out.spans = [back(s, e) for s, e in out.spans]
        return out

    def _read(self, text: str) -> Reading:
        out = Reading()
        if self.year:
            self._years(text, out, self.year)
        if self.price:
            self._money(text, out, self.price)
        self._generic(text, out)
        self._measured(text, out)
        for m in _COMPARE.finditer(text):
            if out.covers(m.start(), m.end()):
                continue
            word = m.group(1)
            facet = self.year if word in ("newer", "more recent", "older") else self.price
            if facet:
                direction = "lower" if word in _LOWER else "higher"
                out.comparatives.append(Comparative(facet, direction, m.start(), m.end()))
                out.spans.append(m.span())
        for m in _SIZE.finditer(text):
            units, direction = _SIZE_MEANS[m.group(1)]
            facet = next((self._by_unit[u] for u in units if u in self._by_unit), None)
            if facet and not out.covers(*m.span()):
                out.comparatives.append(Comparative(facet, direction, m.start(), m.end()))
                out.spans.append(m.span())
        for m in _TOO.finditer(text):
            kind, direction = _TOO_MEANS[m.group(1)]
            facet = {"price": self.price, "year": self.year}.get(kind) or self._by_unit.get(kind)
            if facet and not out.covers(*m.span()):
                out.comparatives.append(Comparative(facet, direction, m.start(), m.end()))
                out.spans.append(m.span())
        for m in _RATED_HIGHER.finditer(text):
            if self.rating and not out.covers(*m.span()):
                out.comparatives.append(Comparative(self.rating, "higher", m.start(), m.end()))
                out.spans.append(m.span())
        for m in (*_DEAR.finditer(text), *_BELOW_SHOWN.finditer(text)):
            # "weighs less than the first one" compares the weight (_measured), not the price
            if self.price and not out.overlaps(*m.span()):
                every = bool(m.groupdict().get("all"))
                out.comparatives.append(Comparative(self.price, "lower", *m.span(), every))
                out.spans.append(m.span())
        return out

    def measured_by(self, word: str) -> str | None:
        """The numeric field a word of a measure names ("pieces", "weighs", "litres")."""
        return self._by_unit.get(word) or self._by_unit.get(word.rstrip("s"))

    def _measured(self, text: str, out: Reading) -> None:
        """A comparative next to a word that names one of the catalog's measures
        compares that measure: "more pieces than the first one", "weighs less than the
        first one" (not its price), "fewer pages"."""
        before, after = _MEASURED
        found = [(m, m.group(1), m.group(2)) for m in before.finditer(text)]
        found += [(m, m.group(2), m.group(1)) for m in after.finditer(text)]
        for m, comparative, word in found:
            facet = self.measured_by(word)
            if facet and not out.overlaps(*m.span()):
                way = "higher" if comparative in _MORE_WORDS else "lower"
                out.comparatives.append(Comparative(facet, way, *m.span()))
                out.spans.append(m.span())

    def _add(
        self,
        out: Reading,
        facet: str,
        low: float | None,
        high: float | None,
        m: re.Match[str],
    ) -> None:
        out.ranges.append(RangeHit(facet, low, high, m.start(), m.end()))
        out.spans.append(m.span())

    def _money(self, text: str, out: Reading, p: str) -> None:
        for m in (*_BETWEEN.finditer(text), *_BARE_BETWEEN.finditer(text)):
            nums = [g for g in m.groups() if g]
            if len(nums) == 2 and not out.covers(m.start(), m.end()) and not _about_age(text, m):
                low, high = sorted(map(_money, nums))
                self._add(out, p, low, high, m)
        for m in _AROUND.finditer(text):
            if not out.covers(*m.span()):
                value = _money(next(g for g in m.groups() if g))
                self._add(out, p, round(value * 0.8, 2), round(value * 1.2, 2), m)
        for pattern, side in (
            (_CEILING, "high"),
            (_CEILING_AFTER, "high"),
            (_FLOOR, "low"),
            (_FLOOR_AFTER, "low"),
        ):
            for m in pattern.finditer(text):
                if out.covers(*m.span()) or _about_age(text, m):
                    continue
                low = side == "low"
                if _NEGATED_BOUND.search(text[: m.start()]) and _COMPARING.match(m.group(0)):
                    # "nothing over 30": a cap; "no maximum 80" (Portuguese "no" is "in
                    # the") is no negation: only a comparison is said the other way round
                    low = not low
                value = _money(m.group(1))
                self._add(out, p, value if low else None, None if low else value, m)
        if not any(r.facet == p for r in out.ranges):
            for m in _MARKED.finditer(text):
                if not out.covers(*m.span()) and not _about_age(text, m):
                    self._add(out, p, None, _money(next(g for g in m.groups() if g)), m)
                    break  # one budget; a second amount is something else ("$80 of $200")
        for m in _LEVEL.finditer(text):
            if not out.covers(*m.span()):
                out.levels.append((p, _LEVEL_OF[m.group(1)]))
                out.spans.append(m.span())

    def _years(self, text: str, out: Reading, y: str) -> None:
        for m in _YEAR_BETWEEN.finditer(text):
            a, b = [int(g) for g in m.groups() if g]
            self._add(out, y, min(a, b), max(a, b), m)
        for m in _YEAR_AFTER.finditer(text):
            if not out.covers(*m.span()):
                year = int(m.group(2))
                if _NEGATED_BOUND.search(text[: m.start()]):  # "nothing newer than 2000"
                    self._add(out, y, None, year, m)
                else:
                    self._add(out, y, year if m.group(1) == "since" else year + 1, None, m)
        for m in _YEAR_FROM_ON.finditer(text):
            if not out.covers(*m.span()):
                self._add(out, y, int(m.group(1) or m.group(2)), None, m)
        for m in _YEAR_BEFORE.finditer(text):
            if not out.covers(*m.span()):
                year = int(m.group(2))
                if _NEGATED_BOUND.search(text[: m.start()]):  # "nothing older than 2005"
                    self._add(out, y, year, None, m)
                    continue
                inclusive = m.group(1) in ("until", "till", "up to")
                self._add(out, y, None, year if inclusive else year - 1, m)
        for m in _YEAR_UNTIL_AFTER.finditer(text):
            if not out.covers(*m.span()):
                self._add(out, y, None, int(m.group(1)), m)
        for m in _YEAR_IN.finditer(text):
            if not out.covers(*m.span()):
                year = int(m.group(1))
                self._add(out, y, year, year, m)
        for m in _DECADE.finditer(text):
            if out.covers(*m.span()):
                continue
            if m.group(2):
                start = int(m.group(2) + m.group(3) + "0")
            else:
                d = int(m.group(4))
                start = 2000 + d * 10 if d <= 1 else 1900 + d * 10
            self._add(out, y, *_part_of_decade(start, m.group(1)), m)
        for m in _DECADE_WORD.finditer(text):
            if not out.covers(*m.span()):
                self._add(out, y, *_part_of_decade(_DECADE_WORDS[m.group(2)], m.group(1)), m)
        if self.recent_from is not None:
            for m in _RECENT.finditer(text):
                if not out.covers(*m.span()):
                    self._add(out, y, self.recent_from, None, m)
            for m in _OLD.finditer(text):
                if not out.covers(*m.span()):
                    self._add(out, y, None, self.old_until, m)

    def _generic(self, text: str, out: Reading) -> None:
        for m in _GENERIC.finditer(text):
            if out.covers(*m.span()):
                continue
            g = m.groups()
            if g[0]:  # "under a kilo": one of the unit
                word, value, unit = g[0], float(g[1]) if g[1][0].isdigit() else 1.0, g[2]
            elif g[3]:
                word, value, unit = "at least", float(g[3]), g[4]
            else:
                word, value, unit = "at least", float(g[5] or g[6]), "stars"
            facet = self._by_unit.get(unit)
            if unit in _UNIT_ALIASES["rating"] and "rating" in self.facets:
                facet = "rating"
            if facet is None:
                continue
            floor = word.startswith(_FLOOR_WORDS)
            self._add(out, facet, value if floor else None, None if floor else value, m)


_AGE_WORDS = re.compile(
    r"(kids?|child|children|ages?|aged|baby|babies|toddlers?|boys?|girls?|teens?)\s*$"
)


def _about_age(text: str, m: re.Match) -> bool:
    """ "toys for kids under 10" is an age, not a price (unless a currency says so)."""
    if re.search(r"[$€£¥]|dollar|euro|buck|usd", m.group(0)):
        return False
    return bool(_AGE_WORDS.search(text[max(0, m.start() - 12) : m.start()]))


def _part_of_decade(start: int, part: str | None) -> tuple[int, int]:
    if part == "early":
        return start, start + 4
    if part == "mid":
        return start + 3, start + 7
    if part == "late":
        return start + 5, start + 9
    return start, start + 9
