"""Copy cut to whole sentences: what the prompt quotes of an item, where an
overlong reply stops, and what is left of a reply the token limit cut off. A
sentence end is one of .!? (or the Chinese 。！？) before a space or the end.
"""

from __future__ import annotations

import re


def brief(text: str, limit: int) -> str:
    """`text` up to the last whole sentence (or "; " part) within `limit` characters."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s)|;(?=\s)", head)]
    return (head[: ends[-1]] if ends else head.rsplit(" ", 1)[0]).rstrip(" ;")


def cut_to_sentence(text: str, limit: int, floor: int) -> str:
    """Shorten to the last sentence end within `limit` (never before `floor`)."""
    head = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)", head)]
    end = max([e for e in ends if e >= floor] or [max(floor, len(head.rstrip()))])
    return text[:end]


def finish(text: str, floor: int) -> str:
    """Drop a sentence the token limit cut off, if a whole one ends after what was shown."""
    if not text or text[-1] in ".!?。！？)\"'”":
        return text
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)", text) if m.end() >= floor]
    return text[: ends[-1]] if ends else text


def tidy(text: str) -> str:
    """At most one blank line in a row, no space around the whole."""
    return re.sub(r"\n{3,}", "\n\n", text).strip()
