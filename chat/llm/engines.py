"""Which local engine runs a model: the one choice, made in one place.

`openvino` runs GGUF files (every packaged model) on OpenVINO GenAI: the fast
default. `transformers` runs anything transformers loads, GGUF included (it
dequantises to float32: slower, but it reads every Hugging Face model).
`auto` takes OpenVINO for GGUF models and transformers for the rest, and falls
back to transformers when OpenVINO cannot load a model, saying why in one line.
The setting is RECOCHAT_LLM_ENGINE, read by the composition root (chat/app.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import registry
from .base import BaseLLM, Message, Usage
from .errors import ModelError

log = logging.getLogger(__name__)

ENGINES: tuple[str, ...] = ("auto", "openvino", "transformers")


def is_gguf_model(name: str) -> bool:
    return name in registry.MODELS or name.endswith(".gguf")


def make_local(
    name: str,
    engine: str,
    *,
    cache_dir: Path | str,
    threads: int | None = None,
    greedy: bool = True,
    slots: int = 4,
    wait_s: float | None = None,
) -> BaseLLM:
    """A local model on a named engine ("openvino" or "transformers"); nothing loads yet."""
    if engine == "openvino":
        from .openvino_backend import OpenVINOLLM

        return OpenVINOLLM(
            name, cache_dir=cache_dir, threads=threads, greedy=greedy, slots=slots, wait_s=wait_s
        )
    if engine == "transformers":  # one generation at a time, in line: no slots, no wait limit
        from .local import TransformersLLM

        return TransformersLLM(name, cache_dir=cache_dir, threads=threads, greedy=greedy)
    raise ModelError(f"Unknown LLM engine {engine!r}. Use one of: {', '.join(ENGINES)}.")


class FallbackLLM(BaseLLM):
    """OpenVINO first; transformers when OpenVINO cannot load the model. Which one
    runs is decided at `load()` (or the first `stream`) and shown by `engine`."""

    continues = True  # both engines continue a reply begun by code (local_engine.py)

    def __init__(self, name: str, *, cache_dir: Path | str, on: Callable[[str], BaseLLM]) -> None:
        self.name = name
        self.languages = registry.languages(name)
        self.reads = registry.reads(name)
        self.inner: BaseLLM | None = None
        self.engine = "auto (not loaded)"  # the chosen engine's name once loaded
        self._cache_dir = cache_dir
        self._on = on  # the model on a named engine, not loaded yet
        self._lock = threading.Lock()

    def load(self) -> BaseLLM:
        with self._lock:  # turns of several sessions may arrive before the model loaded
            if self.inner is None:
                self.inner = self._choose()
                self.engine = self.inner.engine
        return self.inner

    def _choose(self) -> BaseLLM:
        # A missing or corrupt file fails here, for either engine alike (cheap when
        # a stamp vouches for the file).
        registry.resolve(self.name, self._cache_dir)
        try:
            return self._on("openvino").load()
        except Exception as e:  # whatever OpenVINO raises, transformers may still work
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        log.warning("LLM %s: OpenVINO unavailable (%s); using transformers", self.name, reason)
        return self._on("transformers").load()

    def _pieces(
        self, messages: list[Message], max_tokens: int, stop: list[str], usage: Usage
    ) -> Iterator[str]:
        yield from self.load()._pieces(messages, max_tokens, stop, usage)

    def complete_json(
        self, messages: Sequence[Message], schema: dict[str, Any], *, max_tokens: int = 64
    ) -> str:
        return self.load().complete_json(messages, schema, max_tokens=max_tokens)


def make_llm(
    name: str,
    *,
    cache_dir: Path | str,
    threads: int | None = None,
    greedy: bool = True,
    engine: str = "auto",
    slots: int = 4,
    wait_s: float | None = None,
) -> BaseLLM:
    """A local model by registry name, .gguf path, transformers directory or cached
    Hugging Face id, on `engine`. Nothing loads until first use (or `.load()`).
    `slots`: how many generations the OpenVINO engine runs at once; `wait_s`: how long
    a caller waits for one before `ModelBusy` (None: as long as it takes)."""

    def on(engine: str) -> BaseLLM:
        return make_local(
            name,
            engine,
            cache_dir=cache_dir,
            threads=threads,
            greedy=greedy,
            slots=slots,
            wait_s=wait_s,
        )

    if engine != "auto":
        return on(engine)
    if not is_gguf_model(name):
        return on("transformers")
    return FallbackLLM(name, cache_dir=cache_dir, on=on)
