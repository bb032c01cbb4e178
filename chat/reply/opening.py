"""The first words of a recommendation reply, written by code.

Small models asked to "start with item 1" often praise another card first (the
third of three tents, a one-person one, for "a tent for two"). So the reply's
start is not left to them: it is one of the openers in prompts/recommend.yaml
with the top card's title ("I would pick the Two-Person Dome Tent"), shown at
once, and a model that continues a begun reply (`LLM.continues`) writes the
rest; the template copy starts with it too. The opener is chosen by a hash of
the request: the same request always opens alike (tests and evaluations repeat
themselves), while the turns of a conversation do not all open the same way.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import prompts
from chat.reply.explain import the_title as named


def opening(request: str, title: str, language: str, meta: Mapping[str, Any] | None = None) -> str:
    """The reply's start naming `title` (the item's `meta` says whether it takes "the");
    "" when no opener is written for `language`."""
    openers = (prompts.settings("recommend").get("openers") or {}).get(language) or []
    if not openers:
        return ""
    chosen = openers[zlib.crc32(request.encode("utf-8")) % len(openers)]
    return prompts.fill("recommend", chosen, title=title, the_title=named(title, meta))
