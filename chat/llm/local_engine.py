"""What the two local engines share: settings, loading once, and the context check.

`TransformersLLM` (local.py) and `OpenVINOLLM` (openvino_backend.py) each write
`_load` (load the weights, say where from), `_chat_template` and `_pieces`;
loading once under a lock, timing it, the prompt text (a reply begun by code
included) and refusing a prompt that does not fit the model's context are
written here, once.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Self

from . import registry
from .base import BaseLLM, Message, reply_start
from .errors import ModelError


class LocalEngine(BaseLLM):
    """A model whose weights load into this process: lazily on first use, or via `load()`.

    It continues a reply begun in the last message (base.py): the chat template
    ends the messages before it with the generation prompt, the beginning follows
    as plain text, and only the tokens generated after it are decoded and streamed.
    (Decoded on their own, the first of them keeps its leading space with the
    byte-level BPE tokenizers of the packaged models.)"""

    continues = True

    def __init__(
        self,
        model: str = registry.DEFAULT_MODEL,
        *,
        cache_dir: Path | str,
        threads: int | None = None,
        greedy: bool = True,
        seed: int | None = None,
    ):
        self.name = model
        self.languages = registry.languages(model)
        self.reads = registry.reads(model)
        self.cache_dir = Path(cache_dir)
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.greedy = greedy
        self.seed = seed
        self.load_seconds: float | None = None
        self.loaded_from: str | None = None  # what `_load` returned: "gguf", "cache" …
        self.context_length: int | None = None  # set by `_load` when the model declares it
        self._load_lock = threading.Lock()

    def load(self) -> Self:
        with self._load_lock:  # turns of several sessions may arrive before the model loaded
            if self.loaded_from is None:
                started = time.perf_counter()
                self.loaded_from = self._load()
                self.load_seconds = time.perf_counter() - started
        return self

    def _load(self) -> str:
        """Load the weights; return where from ("gguf", "cache" or "path")."""
        raise NotImplementedError

    def _chat_template(self, messages: list[Message]) -> str:
        """The prompt text of `messages`, ending with the generation prompt."""
        raise NotImplementedError

    def _prompt(self, messages: list[Message]) -> str:
        """The text the model reads: the chat template, then the reply begun by code."""
        head, start = reply_start(messages)
        return self._chat_template(head) + start

    def _check_fits(self, prompt_tokens: int, max_tokens: int) -> None:
        """Refuse a prompt that leaves no room for the reply: a model past its
        context writes nonsense, and silently dropping the prompt's start would lose
        the system message."""
        limit = self.context_length
        if limit and prompt_tokens + max_tokens > limit:
            raise ModelError.context_exceeded(self.name, prompt_tokens, max_tokens, limit)
