"""The one interface every text generator implements.

A backend needs `stream`; `complete` comes for free. Frontends and the copy
writer only ever see this protocol, so a local model, a remote OpenAI-compatible
server, a LangChain chat model and the scripted fake are interchangeable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}


@runtime_checkable
class LLM(Protocol):
    name: str

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, stop: Sequence[str] = ()
    ) -> Iterator[str]: ...

    def complete(
        self, messages: Sequence[Message], *, max_tokens: int = 256, stop: Sequence[str] = ()
    ) -> str: ...


class BaseLLM:
    """Mixin: derive `complete` from `stream`."""

    name = "base"

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        raise NotImplementedError

    def complete(
        self, messages: Sequence[Message], *, max_tokens: int = 256, stop: Sequence[str] = ()
    ) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens, stop=stop))


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Return text up to the first stop string, and whether one was found."""
    cut = min((i for s in stop if (i := text.find(s)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class ScriptedLLM(BaseLLM):
    """Deterministic fake for unit tests: replies from a list, or from a function
    of the last user message. Streams word by word like a real model."""

    name = "scripted"

    def __init__(self, replies=None, *, fn=None):
        self.replies = list(replies or [])
        self.fn = fn
        self.calls: list[list[Message]] = []

    def stream(self, messages, *, max_tokens=256, stop=()):
        self.calls.append(list(messages))
        if self.fn is not None:
            text = self.fn(messages)
        elif self.replies:
            text = self.replies.pop(0)
        else:
            text = "Here are my picks."
        text, _ = cut_at_stop(text, stop)
        words = text.split(" ")[:max_tokens]
        for i, w in enumerate(words):
            yield w if i == 0 else " " + w
