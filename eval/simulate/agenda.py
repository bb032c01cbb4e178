"""The agenda-based seeker: no LLM, only the target's facts and a bank of phrasings.

Its agenda is the target's facts in the order a person would give them: the
opening states a genre (two when the item has them) and sometimes its decade or
a star; each later turn gives one more fact. What it says depends on what the
bot did last:

- asked about a facet: the answer from the target's facts (the option that fits,
  else the value the seeker knows, else "no preference");
- showed items without the target: "none of these" (the bot moves past them)
  and the next fact;
- anything else (no match, a reply it cannot use): the next fact.

The seeker never sees the target's title, so it cannot say it; the leakage guard
checks that all the same (a plot word can be the title). A draft that leaked is
redrawn with the leaked words left out (`avoid`); the agenda moves on only when
an utterance is sent (`sent`). Phrasings are drawn from the bank with the
seeker's own random generator, seeded per target, so a run repeats exactly.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from eval.simulate.leakage import tokens
from eval.simulate.targets import FACT_FIELDS, PLOT_WORDS, Target

_PLACEHOLDER = re.compile(r"\{\w+\}")

# The phrasing bank. Every kind has forms without "it", "her" or "up", so that a
# target titled so can still be described after the guard objects to one form.
OPENINGS = [
    "I'm looking for a {genre} movie{extra}.",
    "Can you recommend a {genre} film{extra}?",
    "Hi! I'd like to watch a {genre} movie{extra}.",
    "Any good {genre} movies{extra}?",
    "I'm in the mood for a {genre} film{extra}.",
    "Suggest a {genre} movie{extra}, please.",
]
PLAIN_OPENINGS = [  # a target without genres
    "I'm looking for a movie {fact}",
    "Can you recommend a film {fact}",
]
EXTRAS = {"era": " from the {v}", "star": " with {v}"}
FACTS = {
    "genre": ["I want something {v}.", "More of a {v} film.", "Make that a {v} movie."],
    "era": ["From the {v}.", "One made in the {v}.", "I think the {v}."],
    "star": ["With {v}.", "{v} is in the cast.", "Starring {v}.", "Something with {v} in it."],
    "director": ["Directed by {v}.", "{v} directed the film.", "A {v} film."],
    "writer": ["Written by {v}.", "{v} wrote the script."],
    "plot": [
        "The story has {v} in it.",
        "Something about {v}.",
        "The plot involves {v}.",
    ],
}
# in the opening, after "a comedy movie": "about …" reads better than a sentence
FACT_CLAUSES = {
    "genre": "that is {v}",
    "era": "from the {v}",
    "star": "with {v}",
    "director": "directed by {v}",
    "writer": "written by {v}",
    "plot": "about {v}",
}
REJECTIONS = ["None of these.", "Not those.", "Hmm, none of these.", "None of those, sorry."]
ANSWERS = ["{v}", "{v}, please.", "I'd say {v}.", "{v} would be best."]
NO_PREFERENCE = ["No preference.", "Doesn't matter to me.", "I don't mind."]
MORE = ["Anything else?", "Something else, please.", "Show me other options."]
# after the opening, the facts in the order a person would recall them
REVEAL_ORDER = ["plot", "star", "era", "director", "genre", "writer"]


@dataclass
class BotReply:
    """What the seeker sees of a bot turn."""

    act: str = ""
    shown: list[str] = field(default_factory=list)  # item ids, in order
    facet: str | None = None  # the facet a question asked about
    options: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # the bot's debug summary of its state


@dataclass
class Draft:
    text: str
    kind: str  # opening | answer | reject | fact | more
    facts: list[tuple[str, str]]  # (kind, value) the utterance reveals


class AgendaSeeker:
    def __init__(self, target: Target, seed: int) -> None:
        self.target = target
        self.rng = random.Random(f"{seed}:{target.id}")
        self.agenda = self._agenda()
        self.told: list[tuple[str, str]] = []

    # -- the agenda ------------------------------------------------------------------

    def _agenda(self) -> list[tuple[str, str]]:
        """(kind, value) in the order they will be told; plot words come in groups."""
        facts = self.target.facts
        out: list[tuple[str, str]] = []
        genres = facts.get("genre", [])
        if genres:  # the opening's genre(s)
            out += [("genre", g) for g in genres[: 2 if len(genres) > 1 else 1]]
        for kind in REVEAL_ORDER:
            values = facts.get(kind, [])
            if kind == "genre":
                values = values[2:]
            if kind == "plot":
                words = list(values)
                values = [
                    " ".join(words[i : i + PLOT_WORDS]) for i in range(0, len(words), PLOT_WORDS)
                ][:2]
            out += [(kind, v) for v in values]
        return out

    def untold(self) -> list[tuple[str, str]]:
        return [f for f in self.agenda if f not in self.told]

    # -- what to say -----------------------------------------------------------------

    def draft(self, last: BotReply | None, avoid: frozenset[str] = frozenset()) -> Draft | None:
        """The next utterance, or None when nothing can be said without `avoid`."""
        if last is None:
            return self._opening(avoid)
        if last.facet:
            return self._answer(last, avoid)
        fact = self._fact(avoid)
        if last.shown:
            reject = self._pick(REJECTIONS, avoid)
            if reject is None:
                return None
            if fact is None:
                return Draft(reject, "reject", [])
            return Draft(f"{reject} {fact.text}", "reject", fact.facts)
        return fact or self._plain(MORE, "more", avoid)

    def sent(self, draft: Draft) -> None:
        """The draft was sent: its facts are told."""
        self.told += [f for f in draft.facts if f not in self.told]

    def _opening(self, avoid: frozenset[str]) -> Draft | None:
        genres = [v for k, v in self.agenda if k == "genre"][:2]
        genres = [g for g in genres if not _uses(g, avoid)]
        rest = [f for f in self.untold() if f[0] != "genre" and not _uses(f[1], avoid)]
        if not genres:
            if not rest:
                return None
            kind, value = rest[0]
            template = self._pick(PLAIN_OPENINGS, avoid)
            clause = FACT_CLAUSES[kind].format(v=_say(kind, value))
            if template is None:
                return None
            return Draft(template.format(fact=clause) + ".", "opening", [rest[0]])
        facts = [("genre", g) for g in genres]
        extra = ""
        roll = self.rng.random()
        for kind, chance in (("era", 0.4), ("star", 0.7)):
            found = [f for f in rest if f[0] == kind]
            if roll < chance and found:
                extra = EXTRAS[kind].format(v=_say(kind, found[0][1]))
                facts.append(found[0])
                break
        template = self._pick(OPENINGS, avoid)
        if template is None:
            return None
        text = template.format(genre=" and ".join(genres), extra=extra)
        return Draft(_articles(text), "opening", facts)

    def _answer(self, last: BotReply, avoid: frozenset[str]) -> Draft | None:
        """An answer from what the seeker knows of the asked facet: the option that
        fits the target, else the value it knows, else "no preference"."""
        known = [
            (kind, value, f"the {value}" if kind == "era" else _say(kind, value))
            for kind, name in FACT_FIELDS.items()
            if name == last.facet
            for value in self.target.facts.get(kind, [])
            if not _uses(value, avoid)
        ]
        labels = {o.lower(): o for o in last.options}
        fitting = [(k, v, labels[said.lower()]) for k, v, said in known if said.lower() in labels]
        if not (fitting or known):
            return self._plain(NO_PREFERENCE, "answer", avoid)
        kind, value, said = (fitting or known)[0]
        template = self._pick(ANSWERS, avoid)
        if template is None:
            return None
        text = template.format(v=said)
        return Draft(text[0].upper() + text[1:], "answer", [(kind, value)])

    def _fact(self, avoid: frozenset[str]) -> Draft | None:
        for kind, value in self.untold():
            if _uses(value, avoid):
                continue
            template = self._pick(FACTS[kind], avoid)
            if template is not None:
                text = _articles(template.format(v=_say(kind, value)))
                return Draft(text, "fact", [(kind, value)])
        return None

    def _plain(self, bank: list[str], kind: str, avoid: frozenset[str]) -> Draft | None:
        text = self._pick(bank, avoid)
        return None if text is None else Draft(text, kind, [])

    def _pick(self, bank: list[str], avoid: frozenset[str]) -> str | None:
        usable = [t for t in bank if not _uses(_PLACEHOLDER.sub(" ", t), avoid)]
        return self.rng.choice(usable) if usable else None


def _say(kind: str, value: str) -> str:
    """A fact as words: plot words as a list ("boy, angels and pennant")."""
    if kind == "plot":
        words = value.split()
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return value


def _articles(text: str) -> str:
    """ "a animation movie" -> "an animation movie"."""
    return re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", text)


def _uses(text: str, avoid: frozenset[str]) -> bool:
    return bool(avoid) and bool(set(tokens(text)) & avoid)
