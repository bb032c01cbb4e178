"""Recommendation copy: the LLM phrases, from a prompt that holds only the
chosen items, their facts and their ranking reasons; code checks what it wrote.

Streaming and checking at once. Text is released to the user as the model
writes it, but only what the check can already judge: the last word is held (it
may still grow, "$24" → "$24.99"), and so are the words at the end that could
be the beginning of a catalog title, of the prompt's scaffolding, of the worked
example's words or of a sentence said before (`CopyChecker.hold_from`). Every
new piece is checked together with the words held back, so an item that was not
chosen or a number the catalog does not have is caught before its first word
is shown, and generation stops right there. Holding back only those words,
rather than a fixed count or whole sentences, keeps the stream lively (a
sentence of a 0.5B model on two cores takes seconds; the first words appear as
soon as the model has written them) while the frontends stay thin: they append
deltas and, in the rare case that the copy is replaced, swap the text for the
one in `TextReplace`. Replacement happens only when something was already shown
and then failed: a problem that only the finished reply reveals (its language),
or the retry after a stop. The corrected retry (one) streams the same way and
the template copy is checked too.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Set
from dataclasses import dataclass, field
from typing import Any

import prompts
from chat.events import ItemCard
from chat.llm import LLM
from chat.reply.claims import ItemFacts, data_only
from chat.reply.copycheck import CopyChecker, Problem, trouble_start
from chat.reply.explain import facts, money
from chat.reply.grounding import Grounding, Hold, ReplyCheck, reply_checks
from chat.reply.sentences import brief, cut_to_sentence, finish, tidy
from chat.reply.template import template_copy

log = logging.getLogger(__name__)

MAX_CHARS = {"en": 700, "zh": 300}
# Facts per item in the prompt: the catalog fields and the first sentences of the
# description. Every prompt token is read before the first word is written (about
# a second per 150 tokens for the small models on two busy cores), and a 2-4
# sentence reply has no room for more.
MAX_FACT_CHARS = 260


@dataclass
class CopyResult:
    text: str = ""
    source: str = "llm"  # "llm" | "retry" | "template"
    problems: list[str] = field(default_factory=list)  # what the checks found, per attempt
    first_token_s: float | None = None  # the model's first token
    first_text_s: float | None = None  # the first words shown to the user (checked)
    llm_s: float = 0.0
    replaced: bool = False
    started: float = 0.0  # perf_counter() when writing began


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
    ) -> None:
        self.llm = llm
        self.max_tokens = max_tokens
        self.checker = checker
        self.languages = languages or llm.languages  # declared by the backend
        self.last = CopyResult()

    def items(self, cards: list[ItemCard], metas: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items as the prompt shows them: catalog text only as data (`data_only`
        withholds sentences that address the reader), cut to what a reply can use."""
        return [
            {
                "title": c.title,
                "price": money(c.price, c.currency) if c.price is not None else None,
                "facts": brief(data_only(facts(c, m))[0], MAX_FACT_CHARS),
                "reasons": c.explanation or "a close match to the request",
            }
            for c, m in zip(cards, metas, strict=True)
        ]

    def grounding(
        self, request: str, cards: list[ItemCard], metas: list[dict[str, Any]]
    ) -> Grounding:
        """What the reply's claims are checked against (chat/reply/claims.py)."""
        shown = self.items(cards, metas)
        withheld = [s for c, m in zip(cards, metas, strict=True) for s in data_only(facts(c, m))[1]]
        return Grounding(
            request,
            [
                ItemFacts(c.title, f"{i['price']} {i['facts']} {i['reasons']}", c.rating)
                for c, i in zip(cards, shown, strict=True)
            ],
            withheld,
        )

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
        allowed_ids: Set[str] = frozenset(),
    ) -> Iterator[Piece]:
        """The copy for these cards: the model's reply while it passes the checks,
        one corrective retry when it does not, and the template as the last resort.
        What happened is left in `self.last`."""
        result = self.last = CopyResult(started=time.perf_counter())
        if not cards or language not in self.languages:
            if cards:
                result.problems.append(f"{self.llm.name} does not write {language}: template copy")
            result.text, result.source = template_copy(cards, language), "template"
            yield from self._fixed(result.text)
            return
        messages = self.prompt(request, cards, metas, language, wants=wants)
        context = messages[-1]["content"]
        allowed = set(allowed_ids) | {c.id for c in cards}
        check, hold = reply_checks(
            self.checker, allowed, context, language, self.grounding(request, cards, metas)
        )
        first = _Attempt()
        yield from self._attempt(
            messages, prompts.settings("recommend"), check, hold, language, first
        )
        result.llm_s = time.perf_counter() - self.last.started
        if not first.problems:
            result.text = first.text
            return
        result.problems.append("; ".join(p.detail for p in first.problems))
        retry = _Attempt()
        if first.problems[0].kind not in ("llm_failed", "empty"):  # worth telling the model
            yield from self._retry(request, cards, metas, language, check, hold, first, retry)
            if not retry.problems:
                return
        yield from self._fall_back(cards, language, first, retry)

    def _retry(
        self,
        request: str,
        cards: list[ItemCard],
        metas: list[dict[str, Any]],
        language: str,
        check: ReplyCheck,
        hold: Hold,
        first: _Attempt,
        retry: _Attempt,
    ) -> Iterator[Piece]:
        """One corrective retry with the problems spelled out. When nothing was shown
        yet it streams like the first attempt, so the user does not wait for the
        whole rewrite; otherwise it replaces what was shown, once, when checked."""
        result = self.last
        messages = prompts.render(
            "recommend_fix",
            request=request,
            items=self.items(cards, metas),
            language=language,
            problems=[p.detail for p in first.problems],
        )
        attempt = self._attempt(
            messages, prompts.settings("recommend_fix"), check, hold, language, retry
        )
        if first.released:
            for _ in attempt:  # shown as one replacement once it passed the check
                pass
            if not retry.problems:
                result.replaced = True
                yield Piece(retry.text, replace=True, reason=first.problems[0].detail)
        else:
            yield from attempt
        result.llm_s = time.perf_counter() - self.last.started
        if not retry.problems:
            result.text, result.source = retry.text, "retry"
        else:
            result.problems.append("; ".join(p.detail for p in retry.problems))

    def _fall_back(
        self, cards: list[ItemCard], language: str, first: _Attempt, retry: _Attempt
    ) -> Iterator[Piece]:
        """The template copy, replacing whatever of the model's words were shown."""
        result = self.last
        result.text, result.source = template_copy(cards, language), "template"
        if first.released or retry.released:
            result.replaced = True
            reason = (retry.problems or first.problems)[0].detail
            yield self._piece(Piece(result.text, replace=True, reason=reason))
        else:
            yield from self._fixed(result.text)

    def _attempt(
        self,
        messages: list[dict[str, str]],
        cfg: dict[str, Any],
        check: ReplyCheck,
        hold: Hold,
        language: str,
        out: _Attempt,
    ) -> Iterator[Piece]:
        """Stream one reply of the model, releasing what `hold` allows once `check`
        passed; on success the checked tail follows. What happened is left in `out`."""
        result = self.last
        limit = MAX_CHARS.get(language, 700)
        text, released, problems = "", "", []
        try:
            gen = self.llm.stream(
                messages,
                max_tokens=min(self.max_tokens, cfg.get("max_tokens", 256)),
                stop=cfg.get("stop", ()),
            )
            try:
                for delta in gen:
                    if result.first_token_s is None and delta:
                        result.first_token_s = time.perf_counter() - self.last.started
                    text = (text + delta).lstrip()
                    if len(text) > limit:
                        text = cut_to_sentence(text, limit, len(released))
                        break
                    problems = check(text, partial=True)
                    if problems:
                        break
                    end = hold(text)
                    if end > len(released):
                        yield self._piece(Piece(text[len(released) : end]))
                        released = text[:end]
            finally:
                gen.close()  # stops generation when we leave early (the protocol's Generation)
        except Exception as e:  # a broken backend must not break the turn
            log.exception("LLM failed while writing copy")
            problems = [Problem("llm_failed", f"the model failed: {e}")]
        text = finish(tidy(text), len(released))
        problems = problems or check(text, partial=False)
        if problems and all(p.kind in _DERAILED for p in problems):
            # a good start, then the model looped or echoed the prompt: keep the whole
            # sentences before that when they pass the check on their own
            head = _good_start(text, len(released.rstrip()), check)
            if head:
                text, problems = head, []
        out.text, out.released, out.problems = text, released, problems
        if not problems:
            yield from self._rest(text, released)

    def _rest(self, text: str, released: str) -> Iterator[Piece]:
        """The checked reply after what was already shown, word by word; or all of
        it as a replacement when tidying changed the words on screen."""
        if text.startswith(released):
            tail = text[len(released) :]
        elif text.startswith(released.rstrip()):  # ends where the shown words end
            tail = text[len(released.rstrip()) :].lstrip()
        else:  # tidying changed what was shown
            self.last.replaced = True
            yield self._piece(Piece(text, replace=True, reason="reformatted"))
            return
        for m in re.finditer(r"\s*\S+", tail):
            yield self._piece(Piece(m.group(0)))

    def _piece(self, piece: Piece) -> Piece:
        if self.last.first_text_s is None and piece.text.strip():
            self.last.first_text_s = time.perf_counter() - self.last.started
        return piece

    def _fixed(self, text: str) -> Iterator[Piece]:
        for piece in _pieces(text):
            yield self._piece(piece)


@dataclass
class _Attempt:
    text: str = ""
    released: str = ""  # the part shown to the user
    problems: list[Problem] = field(default_factory=list)


_DERAILED = ("repetitive", "echo", "variant_loop")


def _good_start(text: str, floor: int, check: ReplyCheck) -> str | None:
    """The whole sentences before the reply goes wrong (`trouble_start`), if they
    reach past what was shown (`floor`) and pass the full check."""
    cut = trouble_start(text)
    if cut is None:
        return None
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)", text[:cut]) if m.end() >= floor]
    if not ends:
        return None
    head = text[: ends[-1]].strip()
    return head if head and not check(head, partial=False) else None


def _pieces(text: str) -> Iterator[Piece]:
    """Fixed text (template, checked retry) streamed word by word like model output."""
    for m in re.finditer(r"\s*\S+", text):
        yield Piece(m.group(0))
