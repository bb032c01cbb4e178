"""The LLM-phrased seeker (`--phrasing llm`): the local model rewords each agenda
utterance (prompts/simulate.yaml), so the bot meets words no template bank
holds. The model sees only the agenda's utterance, which names nothing of the
target; what it writes still goes through the leakage guard, because a model
that recognises a plot may name the movie. A retry (after a leak) asks for
another style, so a greedy model writes something else."""

from __future__ import annotations

import random
from typing import Any

import prompts

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
        self.calls = 0
        self.unusable = 0  # empty or overlong rewrites, replaced by the agenda's words

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
        style = STYLES[(self.rng.randrange(len(STYLES)) + attempt) % len(STYLES)]
        messages = prompts.render("simulate", message=text, style=style)
        out = self.llm.complete(
            messages,
            max_tokens=int(self.settings.get("max_tokens", 48)),
            stop=list(self.settings.get("stop", [])),
        )
        self.calls += 1
        out = out.strip().strip('"').strip()
        if not out or len(out) > MAX_CHARS:
            self.unusable += 1
            return text
        return out
