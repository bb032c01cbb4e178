"""Recommendation copy: the LLM phrases, from a prompt that holds only the
chosen items, their facts and their ranking reasons; code checks what it wrote.

Streaming and checking at once. Text is released to the user as the model
writes it, but always a few words behind (HOLD_WORDS): every new piece is
checked together with the words held back, so an item that was not chosen or a
number the catalog does not have is caught before its first word is shown, and
generation stops right there. Holding back words rather than whole sentences
keeps the stream lively (a sentence of a 0.5B model on two cores takes seconds)
while the frontends stay thin: they append deltas and, in the rare case that
the copy is replaced, swap the text for the one in `TextReplace`. Replacement
happens only when something was already shown and then failed: a problem that
only the finished reply reveals (its language), or the retry after a stop. The
corrected retry (one) and the template copy are checked the same way.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import prompts

from .copycheck import CopyChecker, Problem
from .events import ItemCard
from .explain import facts, money
from .llm import LLM

log = logging.getLogger(__name__)

HOLD_WORDS = 6
MAX_CHARS = {"en": 700, "zh": 300}
# Models known to write only English (their model cards say so); any other model
# is trusted with the user's language, and the language check catches it if not.
ENGLISH_ONLY = ("smollm",)


@dataclass
class CopyResult:
    text: str = ""
    source: str = "llm"  # "llm" | "retry" | "template"
    problems: list[str] = field(default_factory=list)  # what the checks found, per attempt
    first_token_s: float | None = None
    llm_s: float = 0.0
    replaced: bool = False


@dataclass(frozen=True)
class Piece:
    """What `write` yields: a delta to append, or a replacement of the whole text."""

    text: str
    replace: bool = False
    reason: str = ""


class CopyWriter:
    def __init__(
        self,
        llm: LLM,
        *,
        max_tokens: int = 120,
        checker: CopyChecker | None = None,
        languages: tuple[str, ...] | None = None,
    ):
        self.llm = llm
        self.max_tokens = max_tokens
        self.checker = checker
        name = str(getattr(llm, "name", "")).lower()
        self.languages = (
            languages
            or getattr(llm, "languages", None)
            or (("en",) if name.startswith(ENGLISH_ONLY) else ("en", "zh"))
        )
        self.last = CopyResult()

    def items(self, cards: list[ItemCard], metas: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "title": c.title,
                "price": money(c.price, c.currency) if c.price is not None else None,
                "facts": facts(c, m),
                "reasons": c.explanation or "a close match to the request",
            }
            for c, m in zip(cards, metas, strict=True)
        ]

    def prompt(
        self,
        request: str,
        cards: list[ItemCard],
        metas: list[dict[str, Any]],
        language: str,
        *,
        wants: str = "",
    ) -> list[dict[str, str]]:
        items = self.items(cards, metas)
        return prompts.render(
            "recommend", request=request, items=items, language=language, wants=wants
        )

    def stream(
        self, request: str, cards: list[ItemCard], metas: list[dict[str, Any]], language: str = "en"
    ) -> Iterator[str]:
        """Plain text deltas (a replacement arrives as a fresh paragraph)."""
        for piece in self.write(request, cards, metas, language):
            yield ("\n" + piece.text) if piece.replace else piece.text

    def write(
        self,
        request: str,
        cards: list[ItemCard],
        metas: list[dict[str, Any]],
        language: str = "en",
        *,
        wants: str = "",
        allowed_ids: set[str] = frozenset(),
    ) -> Iterator[Piece]:
        result = self.last = CopyResult()
        if not cards:
            result.text, result.source = template_copy(cards, language), "template"
            yield from _pieces(result.text)
            return
        if language not in self.languages:
            result.problems.append(f"{self.llm.name} does not write {language}: template copy")
            result.text, result.source = template_copy(cards, language), "template"
            yield from _pieces(result.text)
            return
        messages = self.prompt(request, cards, metas, language, wants=wants)
        context = messages[-1]["content"]
        allowed = set(allowed_ids) | {c.id for c in cards}
        check = self._checker(allowed, context, len(cards), language, tuple(c.title for c in cards))
        cfg = prompts.settings("recommend")
        limit = MAX_CHARS.get(language, 700)
        released = ""
        started = time.perf_counter()
        text, problems = "", []
        try:
            gen = self.llm.stream(
                messages,
                max_tokens=min(self.max_tokens, cfg.get("max_tokens", 256)),
                stop=cfg.get("stop", ()),
            )
            try:
                for delta in gen:
                    if result.first_token_s is None and delta:
                        result.first_token_s = time.perf_counter() - started
                    text = (text + delta).lstrip()
                    if len(text) > limit:
                        text = _cut(text, limit, len(released))
                        break
                    problems = check(text, partial=True)
                    if problems:
                        break
                    end = _release_point(text)
                    if end > len(released):
                        yield Piece(text[len(released) : end])
                        released = text[:end]
            finally:
                gen.close()  # stops generation when we leave early
        except Exception as e:  # a broken backend must not break the turn
            log.exception("LLM failed while writing copy")
            problems = [Problem("llm_failed", f"the model failed: {e}")]
        result.llm_s = time.perf_counter() - started
        text = _finish(_tidy(text), len(released))
        problems = problems or check(text, partial=False)
        if not problems:
            result.text = text
            if not text.startswith(released):  # tidying changed what was shown
                result.replaced = True
                yield Piece(text, replace=True, reason="reformatted")
            else:  # the checked tail, word by word like the rest of the stream
                for m in re.finditer(r"\s*\S+", text[len(released) :]):
                    yield Piece(m.group(0))
            return
        result.problems.append("; ".join(p.detail for p in problems))
        final, source = self._retry(request, cards, metas, language, text, problems, check)
        result.text, result.source = final, source
        result.llm_s = time.perf_counter() - started
        if released:
            result.replaced = True
            yield Piece(final, replace=True, reason=problems[0].detail)
        else:
            yield from _pieces(final)

    def _checker(
        self,
        allowed: set[str],
        context: str,
        count: int,
        language: str,
        titles: tuple[str, ...] = (),
    ):
        borrowed = [
            p
            for p in prompts.settings("recommend").get("example_phrases") or []
            if p.lower() not in context.lower()
        ]

        def check(text: str, partial: bool) -> list[Problem]:
            low = text.lower()
            copied = [p for p in borrowed if p.lower() in low]
            if copied:  # taken from the worked example, not from these items
                detail = f'"{copied[0]}" is not a fact about the listed items.'
                return [Problem("example", detail)]
            if self.checker is None:
                return (
                    [] if (partial or text.strip()) else [Problem("empty", "The reply was empty.")]
                )
            return self.checker.check(
                text,
                allowed_ids=allowed,
                context=context,
                count=count,
                language=language,
                partial=partial,
                chosen_titles=titles,
            )

        return check

    def _retry(self, request, cards, metas, language, draft, problems, check) -> tuple[str, str]:
        """One corrective retry with the problems spelled out; then the template."""
        if problems[0].kind not in ("llm_failed", "empty"):
            messages = prompts.render(
                "recommend_fix",
                request=request,
                items=self.items(cards, metas),
                language=language,
                problems=[p.detail for p in problems],
            )
            cfg = prompts.settings("recommend_fix")
            try:
                text = _tidy(
                    self.llm.complete(
                        messages,
                        max_tokens=min(self.max_tokens, cfg.get("max_tokens", 256)),
                        stop=cfg.get("stop", ()),
                    )
                )
                text = _cut(text, MAX_CHARS.get(language, 700), 0)
                again = check(text, partial=False)
                if not again:
                    return text, "retry"
                self.last.problems.append("; ".join(p.detail for p in again))
            except Exception:
                log.exception("LLM failed on the corrective retry")
        return template_copy(cards, language), "template"


def _pieces(text: str) -> Iterator[Piece]:
    """Fixed text (template, checked retry) streamed word by word like model output."""
    for m in re.finditer(r"\s*\S+", text):
        yield Piece(m.group(0))


def _release_point(text: str) -> int:
    """End of the text that may be shown: all but the last HOLD_WORDS words."""
    starts = [m.start() for m in re.finditer(r"\S+", text)]
    if len(starts) <= HOLD_WORDS:
        return 0
    return starts[-HOLD_WORDS]


def _cut(text: str, limit: int, floor: int) -> str:
    """Shorten to the last sentence end within `limit` (never before `floor`)."""
    head = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)", head)]
    end = max([e for e in ends if e >= floor] or [max(floor, len(head.rstrip()))])
    return text[:end]


def _finish(text: str, floor: int) -> str:
    """Drop a sentence the token limit cut off, if a whole one ends after what was shown."""
    if not text or text[-1] in ".!?。！？)\"'”":
        return text
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)", text) if m.end() >= floor]
    return text[: ends[-1]] if ends else text


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def template_copy(cards: list[ItemCard], language: str = "en") -> str:
    if language == "zh":
        if not cards:
            return "暂时没有找到符合的。能再多说一点吗？"
        lines = ["我为你挑选了："]
        for c in cards:
            price = f"（{money(c.price, c.currency)}）" if c.price is not None else ""
            why = f"：{c.explanation}" if c.explanation else ""
            lines.append(f"- {c.title}{price}{why}。")
        return "\n".join(lines)
    if not cards:
        return "I could not find anything that matches yet. Could you tell me a bit more?"
    lines = ["Here is what I would pick for you:"]
    for c in cards:
        price = f" ({money(c.price, c.currency)})" if c.price is not None else ""
        why = f": {c.explanation}" if c.explanation else ""
        lines.append(f"- {c.title}{price}{why}.")
    return "\n".join(lines)
