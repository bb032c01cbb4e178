"""The LLM-phrased seeker (`--phrasing llm`): the local model rewords each agenda
utterance (prompts/simulate.yaml), so the bot meets words no template bank
holds. The model sees only the agenda's utterance, which names nothing of the
target; what it writes still goes through the leakage guard, because a model
that recognises a plot may name the movie. A retry (after a leak) asks for
another style, so a greedy model writes something else.

Nothing the model writes is used unchecked: the runner (runner.py `guarded`)
sends a rewording only when it names nothing of the target and is `faithful`:
it keeps every fact it was given, names nobody the message did not (a small
model answers as the assistant, "here's The Dark Knight by Christopher Nolan"),
and brings in no decade and none of the prompt's example facts ("pirates look
for treasure on an island") that the message did not have.
Otherwise the agenda's own words are sent, and that is counted."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

import prompts
from eval.simulate.leakage import tokens

STYLES = [
    "casually, in lower case",
    "politely, in one short sentence",
    "briefly, like a text message",
    "in plain words, as a movie fan would",
]
MAX_CHARS = 300


class LLMPhraser:
    def __init__(self, llm: Any, seed: int) -> None:
        self.llm = llm
        self.rng = random.Random(f"phrasing:{seed}")
        self.settings = prompts.settings("simulate")

    @classmethod
    def open(cls, app: Any, model: str, seed: int) -> LLMPhraser:
        """The phrasing model through the project's LLM factory (the session's own
        model when it is the same one), loaded now so a missing model fails first."""
        from chat import make_llm

        if app.settings.llm == model:
            llm = app.llm
        else:
            llm = make_llm(model, cache_dir=app.settings.cache_dir / "models", greedy=True)
        return cls(llm.load(), seed)

    def rephrase(self, text: str, attempt: int) -> str:
        """The model's rewording ("" when it wrote nothing usable)."""
        style = STYLES[(self.rng.randrange(len(STYLES)) + attempt) % len(STYLES)]
        messages = prompts.render("simulate", message=text, style=style)
        out = self.llm.complete(
            messages,
            max_tokens=int(self.settings.get("max_tokens", 48)),
            stop=list(self.settings.get("stop", [])),
        )
        out = out.strip().strip('"').strip()
        return out if len(out) <= MAX_CHARS else ""


_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")
_DECADE = re.compile(r"^(?:\d{2})?\d0s$")
EXAMPLE_FACTS = frozenset(str(w).lower() for w in prompts.settings("simulate")["example_facts"])


def faithful(original: str, reworded: str, facts: Sequence[tuple[str, str]] = ()) -> bool:
    """Does the rewording keep every fact (a plot fact: one of its words; a decade:
    "1990s" or "90s") and name nobody the original did not?"""
    said = set(tokens(reworded))
    for kind, value in facts:
        words = set(tokens(value))
        if kind == "era":
            words = {value.lower(), value.lower()[2:]}
            if not words & said:
                return False
        elif kind == "plot":
            if not words & said:
                return False
        elif not words <= said:
            return False
    known = set(tokens(original))
    added = {w.lower() for w in _NAME.findall(reworded.strip())} - known - {"i"}
    decades = {w[-3:] for w in known if _DECADE.match(w)}  # "1990s" and "90s" are one
    added |= {w for w in said - known if _DECADE.match(w) and w[-3:] not in decades}
    added |= (said - known) & EXAMPLE_FACTS
    return not added
