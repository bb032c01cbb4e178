"""Text generators behind one protocol (`LLM`), and the local backend's factory.

`import chat.llm` stays light: torch and transformers load only when a
`TransformersLLM` first loads its weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .base import LLM, BaseLLM, ScriptedLLM
from .errors import ModelError

if TYPE_CHECKING:
    from .local import TransformersLLM

__all__ = ["LLM", "BaseLLM", "ScriptedLLM", "ModelError", "make_llm"]


def make_llm(
    name: str, *, cache_dir: Path | str, threads: int | None = None, greedy: bool = True
) -> TransformersLLM:
    """A local model by registry name, local path or cached Hugging Face id.
    Nothing loads until first use (or `.load()`)."""
    from .local import TransformersLLM

    return TransformersLLM(name, cache_dir=cache_dir, threads=threads, greedy=greedy)
