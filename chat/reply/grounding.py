"""What a recommendation reply may claim, and the check the copy writer runs on it.

`Grounding` is what the prompt gave the model (the request, the chosen items'
facts) plus the catalog sentences withheld from it. `reply_checks` turns that
into the two functions the streaming writer needs: `check`, the problems of the
reply so far (or of all of it), and `hold`, how much of it may be shown yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import prompts
from chat.reply.claims import ItemFacts, check_claims
from chat.reply.copycheck import CopyChecker, Problem, language_settled


@dataclass
class Grounding:
    """The request, the chosen items as the prompt gave them, and the catalog
    sentences withheld from the prompt: what a reply may claim."""

    request: str
    items: list[ItemFacts]
    withheld: list[str]


class ReplyCheck(Protocol):
    """Problems of a reply so far (`partial`) or of the whole of it."""

    def __call__(self, text: str, partial: bool) -> list[Problem]: ...


Hold = Callable[[str], int]  # how much of the reply so far may be shown


def reply_checks(
    checker: CopyChecker | None,
    allowed: set[str],
    context: str,
    language: str,
    grounds: Grounding,
) -> tuple[ReplyCheck, Hold]:
    """The check of a reply (partial while streaming) and where to hold it back.
    Without a `checker` only the claims are checked and just the last word is held."""
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
        claims = [
            Problem(c.kind, c.detail)
            for c in check_claims(
                text,
                grounds.items,
                request=grounds.request,
                withheld=grounds.withheld,
                partial=partial,
                title_words=checker.title_words if checker else frozenset(),
                kind_words=checker.kind_words if checker else frozenset(),
            )
        ]
        if checker is None:
            empty = not partial and not text.strip()
            return [Problem("empty", "The reply was empty.")] if empty else claims
        return (
            checker.check(
                text,
                allowed_ids=allowed,
                context=context,
                count=len(grounds.items),
                language=language,
                partial=partial,
                chosen_titles=tuple(i.title for i in grounds.items),
            )
            + claims
        )

    def hold(text: str) -> int:
        if language != "en" and not language_settled(text, context):
            return 0  # not one word before it is clear the reply is in the language
        if checker is None:
            last = re.search(r"\S+\s*$", text)
            return last.start() if last else len(text)
        return checker.hold_from(text, tuple(borrowed))

    return check, hold
