"""The one interface every text generator implements.

A backend writes `_pieces` (raw text as the model produces it); `BaseLLM` turns
that into the protocol: `stream` returns a `Generation` (iterate it for text
pieces, never past a stop string; its `usage` is final once iteration ends)
and `complete` joins it. Stop strings, timing and early close are handled here
once, so every backend behaves the same. Frontends and the copy writer only ever
see this protocol, so the local engines, a remote OpenAI-compatible server, a
LangChain chat model and the scripted fake are interchangeable.

Capabilities are declared, never guessed: `languages` says which reply
languages a backend writes well, `continues` whether it continues a reply that
code has begun (below), `load()` loads eagerly (a no-op where nothing needs
loading).

A reply begun by code ("assistant prefill"): when the last message has the role
"assistant", its content is the start of the reply and the model writes on from
there. The local engines put the chat template's generation prompt after the
messages before it and append the start as plain text, so the model's next token
follows its last character; the stream then holds only the continuation, never
the start again (the caller has the start already). A backend that cannot do
this declares `continues = False`, and `stream` refuses such messages with a
`ModelError` rather than let the start be read as a finished turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .errors import ModelError

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}

# What a backend writes when nothing else is declared: the registry declares
# each packaged model's languages, remote and LangChain backends are configured.
DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "zh")


@dataclass
class Usage:
    """Token counts and timings of one generation; None where a backend cannot tell."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    first_token_s: float | None = None  # from the call until the first text arrived
    total_s: float = 0.0


class Generation(Iterator[str]):
    """What `stream` returns: an iterator of text pieces with the usage beside it.

    Closing it (or dropping it) closes the backend's generator, which is how a
    local engine learns that the reader went away and frees the cores."""

    def __init__(self, pieces: Generator[str, None, None], usage: Usage):
        self._pieces = pieces
        self.usage = usage

    def __next__(self) -> str:
        return next(self._pieces)

    def close(self) -> None:
        self._pieces.close()


@runtime_checkable
class LLM(Protocol):
    name: str
    languages: tuple[str, ...]
    continues: bool  # continues a final "assistant" message (see the module docstring)
    reads: bool  # reads messages well enough to second the rules (chat/understand/llm_reading.py)

    def load(self) -> LLM: ...

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, stop: Sequence[str] = ()
    ) -> Generation: ...

    def complete(
        self, messages: Sequence[Message], *, max_tokens: int = 256, stop: Sequence[str] = ()
    ) -> str: ...

    def complete_json(
        self, messages: Sequence[Message], schema: dict[str, Any], *, max_tokens: int = 64
    ) -> str: ...


def reply_start(messages: Sequence[Message]) -> tuple[list[Message], str]:
    """The messages before a reply begun by code, and that beginning ("" when the
    last message is not the assistant's)."""
    if messages and messages[-1]["role"] == "assistant":
        return list(messages[:-1]), messages[-1]["content"]
    return list(messages), ""


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Return text up to the first stop string, and whether one was found."""
    cut = min((i for s in stop if (i := text.find(s)) >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _open_stop(text: str, stop: Sequence[str]) -> int:
    """Length of the longest end of `text` that begins a stop string (0 if none)."""
    best = 0
    for s in stop:
        for n in range(min(len(s) - 1, len(text)), best, -1):
            if text.endswith(s[:n]):
                best = n
                break
    return best


def hold_back_stops(pieces: Iterable[str], stop: Sequence[str]) -> Generator[str, None, None]:
    """Pass text through, never past the first stop string.

    Only an end of the text that could begin a stop string is held back, until
    the next piece decides it; everything else passes through as it came. Once a
    stop string appears, the source is closed: a local model stops generating."""
    stop = [s for s in stop if s]
    text, sent = "", 0
    source = iter(pieces)
    try:
        for piece in source:
            text += piece
            visible, found = cut_at_stop(text, stop)
            end = len(visible) if found else len(text) - _open_stop(text, stop)
            if end > sent:
                yield text[sent:end]
                sent = end
            if found:
                return
        if len(text) > sent:  # the end came without a stop string: release the tail
            yield text[sent:]
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def _timed(pieces: Iterator[str], usage: Usage) -> Iterator[str]:
    started = time.perf_counter()
    try:
        for piece in pieces:
            if piece and usage.first_token_s is None:
                usage.first_token_s = time.perf_counter() - started
            yield piece
    finally:
        pieces.close()  # type: ignore[attr-defined]  # always a generator (`_pieces`)
        usage.total_s = time.perf_counter() - started


class BaseLLM:
    """Derives the protocol from one method, `_pieces`."""

    name = "base"
    engine = ""  # what runs it, for `recochat doctor` and bench: "openvino", "openai" …
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    continues = False  # a backend that continues a begun reply says so
    reads = True  # good enough to read messages where the rules are unsure (llm_reading.py)

    def load(self) -> BaseLLM:
        return self

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, stop: Sequence[str] = ()
    ) -> Generation:
        if reply_start(messages)[1] and not self.continues:
            raise ModelError(
                f"{self.name} ({self.engine or 'this backend'}) does not continue a reply that "
                "ends the messages (role 'assistant'): check the backend's `continues` first, "
                "or leave the last message to the user."
            )
        stop = [s for s in stop if s]
        usage = Usage()
        if max_tokens < 1:
            return Generation(hold_back_stops((), stop), usage)  # nothing, but closable
        raw = self._pieces(list(messages), max_tokens, stop, usage)
        return Generation(hold_back_stops(_timed(raw, usage), stop), usage)

    def complete(
        self, messages: Sequence[Message], *, max_tokens: int = 256, stop: Sequence[str] = ()
    ) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens, stop=stop))

    def complete_json(
        self, messages: Sequence[Message], schema: dict[str, Any], *, max_tokens: int = 64
    ) -> str:
        """Text meant to be one JSON object for `schema` (a JSON Schema). Engines that
        can constrain decoding to it do (OpenVINO); the others rely on the prompt.
        Either way the caller parses and validates what comes back."""
        return self.complete(messages, max_tokens=max_tokens)

    def _pieces(
        self, messages: list[Message], max_tokens: int, stop: list[str], usage: Usage
    ) -> Iterator[str]:
        """Raw text as generated. `stop` is a hint for stopping early (the caller
        cuts the text); fill in `usage` as far as the backend knows it."""
        raise NotImplementedError


class ScriptedLLM(BaseLLM):
    """Deterministic fake for unit tests: replies from a list, or from a function
    of the messages. Streams word by word like a real model.

    With `continues=True` it accepts a reply begun in the last message, as the
    local engines do: `fn` sees every message, that beginning included, and what
    it returns (or the next scripted reply) is the continuation, streamed as is;
    the beginning is not repeated."""

    name = "scripted"
    engine = "scripted"

    def __init__(
        self,
        replies: Iterable[str] | None = None,
        *,
        fn: Callable[[list[Message]], str] | None = None,
        languages: tuple[str, ...] = DEFAULT_LANGUAGES,
        continues: bool = False,
    ) -> None:
        self.replies = list(replies or [])
        self.fn = fn
        self.languages = languages
        self.continues = continues
        self.calls: list[list[Message]] = []

    def _pieces(
        self, messages: list[Message], max_tokens: int, stop: list[str], usage: Usage
    ) -> Iterator[str]:
        self.calls.append(list(messages))
        if self.fn is not None:
            text = self.fn(messages)
        elif self.replies:
            text = self.replies.pop(0)
        else:
            text = "Here are my picks."
        words = text.split(" ")[:max_tokens]
        usage.prompt_tokens = sum(len(m["content"].split()) for m in messages)
        usage.completion_tokens = 0
        for i, w in enumerate(words):
            usage.completion_tokens += 1
            yield w if i == 0 else " " + w
