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

The reply's first words are written by code (chat/reply/opening.py): the top
card's title in an opener, shown before the model has read its prompt. A model
that continues a begun reply (`LLM.continues`) writes the rest, so every reply
leads with the ranking's best; the checks judge the whole text, opening
included, and the retry and the template start with the same words, so a
failure right after the opening goes on from it rather than replacing it.
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
from chat.llm import LLM, ModelBusy
from chat.reply.claims import ItemFacts, data_only
from chat.reply.copycheck import CopyChecker, Problem, trouble_start
from chat.reply.explain import facts, label, money
from chat.reply.grounding import Grounding, Hold, ReplyCheck, reply_checks
from chat.reply.opening import opening as reply_opening
from chat.reply.perspective import second_person
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
    trimmed: bool = False  # the model's sentences after a wrong one were cut off
    started: float = 0.0  # perf_counter() when writing began

    def take(self, attempt: _Attempt, source: str) -> None:
        """An attempt that passed becomes the reply, with what was cut off of it."""
        self.text, self.source = attempt.text, source
        self.trimmed = bool(attempt.trimmed)
        if attempt.trimmed:
            self.problems.append("cut off: " + "; ".join(attempt.trimmed))


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
                "title": label(c, cards),
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
                ItemFacts(
                    c.title, f"{i['price']} {i['facts']} {i['reasons']}", c.rating, i["reasons"]
                )
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
            "recommend",
            request=second_person(request, language),
            items=items,
            language=language,
            wants=wants,
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
        Each starts with the opening (chat/reply/opening.py), shown first, which a
        model that continues a begun reply goes on from. What happened is left in
        `self.last`."""
        result = self.last = CopyResult(started=time.perf_counter())
        opening = (
            reply_opening(request, label(cards[0], cards), language, metas[0]) if cards else ""
        )
        if not cards or language not in self.languages:
            if cards:
                result.problems.append(f"{self.llm.name} does not write {language}: template copy")
            result.text, result.source = template_copy(cards, language, opening, metas), "template"
            yield from self._rest(result.text, "")
            return
        messages = self.prompt(request, cards, metas, language, wants=wants)
        context = messages[-1]["content"]
        allowed = set(allowed_ids) | {c.id for c in cards}
        check, hold = reply_checks(
            self.checker, allowed, context, language, self.grounding(request, cards, metas)
        )
        draft = _Draft(check, hold, language, opening if self.llm.continues else "")
        if draft.start:
            yield self._piece(Piece(draft.start))  # the first words, at once
        first = _Attempt()
        yield from self._attempt(messages, prompts.settings("recommend"), draft, first)
        result.llm_s = time.perf_counter() - self.last.started
        if not first.problems:
            result.take(first, "llm")
            return
        result.problems.append("; ".join(p.detail for p in first.problems))
        retry = _Attempt()
        if first.problems[0].kind not in ("llm_failed", "busy", "empty"):  # worth telling the model
            yield from self._retry(request, cards, metas, draft, first, retry)
            if not retry.problems:
                return
        yield from self._fall_back(cards, metas, language, opening, first, retry)

    def _retry(
        self,
        request: str,
        cards: list[ItemCard],
        metas: list[dict[str, Any]],
        draft: _Draft,
        first: _Attempt,
        retry: _Attempt,
    ) -> Iterator[Piece]:
        """One corrective retry with the problems spelled out, from the same opening.
        When nothing beyond the opening was shown yet it streams like the first
        attempt, so the user does not wait for the whole rewrite; otherwise it
        replaces what was shown, once, when checked."""
        result = self.last
        messages = prompts.render(
            "recommend_fix",
            request=second_person(request, draft.language),
            items=self.items(cards, metas),
            language=draft.language,
            problems=[p.detail for p in first.problems],
        )
        attempt = self._attempt(messages, prompts.settings("recommend_fix"), draft, retry)
        if len(first.released) > len(draft.start):
            for _ in attempt:  # shown as one replacement once it passed the check
                pass
            retry.released = first.released  # what is still on the screen
            if not retry.problems:
                result.replaced = True
                yield Piece(retry.text, replace=True, reason=first.problems[0].detail)
        else:
            yield from attempt
        result.llm_s = time.perf_counter() - self.last.started
        if not retry.problems:
            result.take(retry, "retry")
        else:
            result.problems.append("; ".join(p.detail for p in retry.problems))

    def _fall_back(
        self,
        cards: list[ItemCard],
        metas: list[dict[str, Any]],
        language: str,
        opening: str,
        first: _Attempt,
        retry: _Attempt,
    ) -> Iterator[Piece]:
        """The template copy: it goes on from what was shown when that was only the
        opening, and replaces the model's words otherwise."""
        result = self.last
        result.text, result.source = template_copy(cards, language, opening, metas), "template"
        reason = (retry.problems or first.problems)[0].detail
        yield from self._rest(result.text, retry.released or first.released, reason)

    def _attempt(
        self,
        messages: list[dict[str, str]],
        cfg: dict[str, Any],
        draft: _Draft,
        out: _Attempt,
    ) -> Iterator[Piece]:
        """Stream one reply of the model, releasing what `draft.hold` allows once
        `draft.check` passed; on success the checked tail follows. The reply starts
        with `draft.start` (already shown), which the model continues. What happened
        is left in `out`."""
        result = self.last
        limit = MAX_CHARS.get(draft.language, 700)
        text = released = draft.start
        problems: list[Problem] = []
        try:
            gen = self.llm.stream(
                _begun(messages, draft.start),
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
                    problems = draft.check(text, partial=True)
                    if problems:
                        break
                    # the space before a held word waits with it: what was shown ends
                    # at a word, so a retry or the template can go on from it
                    end = len(text[: draft.hold(text)].rstrip())
                    if end > len(released):
                        yield self._piece(Piece(text[len(released) : end]))
                        released = text[:end]
            finally:
                gen.close()  # stops generation when we leave early (the protocol's Generation)
        except ModelBusy as e:  # under load: the template answers now, not in a minute
            log.info("copy without the model: %s", e)
            problems = [Problem("busy", str(e))]
        except Exception as e:  # a broken backend must not break the turn
            log.exception("LLM failed while writing copy")
            problems = [Problem("llm_failed", f"the model failed: {e}")]
        text = finish(tidy(text), len(released))
        if not problems and draft.start and text == draft.start:
            problems = [Problem("empty", "The model wrote nothing after the opening.")]
        problems = problems or draft.check(text, partial=False)
        if problems and not any(p.kind in _NO_TEXT for p in problems):
            # good sentences, then one that went wrong (a figure of another item, a loop,
            # an echo of the prompt): keep the whole sentences before it when they pass
            # every check on their own and say more than the opening; when they end
            # before what was shown, they replace it (as a retry would, but at once)
            head = _good_start(text, len(draft.start), draft.check)
            if head:
                out.trimmed = [p.detail for p in problems]
                text, problems = head, []
        out.text, out.released, out.problems = text, released, problems
        if not problems:
            yield from self._rest(text, released)

    def _rest(self, text: str, released: str, reason: str = "reformatted") -> Iterator[Piece]:
        """`text` after what was already shown (`released`), word by word; or all of
        it as a replacement when it does not go on from the words on screen."""
        if text.startswith(released):
            tail = text[len(released) :]
        elif text.startswith(released.rstrip()):  # ends where the shown words end
            tail = text[len(released.rstrip()) :].lstrip()
        else:  # tidying changed what was shown, or another text takes its place
            self.last.replaced = True
            yield self._piece(Piece(text, replace=True, reason=reason))
            return
        for m in re.finditer(r"\s*\S+", tail):
            yield self._piece(Piece(m.group(0)))

    def _piece(self, piece: Piece) -> Piece:
        if self.last.first_text_s is None and piece.text.strip():
            self.last.first_text_s = time.perf_counter() - self.last.started
        return piece


@dataclass(frozen=True)
class _Draft:
    """What every attempt at one reply shares: its checks, its language, and its
    start written by code ("" when the model writes all of it)."""

    check: ReplyCheck
    hold: Hold
    language: str
    start: str


def _begun(messages: list[dict[str, str]], start: str) -> list[dict[str, str]]:
    """The prompt with the reply begun by code as the last message (chat/llm/base.py)."""
    return [*messages, {"role": "assistant", "content": start}] if start else messages


@dataclass
class _Attempt:
    text: str = ""
    released: str = ""  # the part shown to the user
    problems: list[Problem] = field(default_factory=list)
    trimmed: list[str] = field(default_factory=list)  # what the sentences cut off had wrong


# failures that leave no sentence of the model's worth keeping
_NO_TEXT = ("busy", "llm_failed", "empty", "language")


def _good_start(text: str, floor: int, check: ReplyCheck) -> str | None:
    """The longest run of whole sentences from the start, before the reply goes
    wrong (`trouble_start`: a loop or an echo), that ends past `floor` (the opening
    written by code) and passes the full check; None when there is none."""
    cut = trouble_start(text)
    if cut is None:
        cut = len(text)
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)", text[:cut]) if m.end() > floor]
    for end in reversed(ends):
        head = text[:end].strip()
        if head and not check(head, partial=False):
            return head
    return None
