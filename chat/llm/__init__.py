"""Text generators behind one protocol (`LLM`), and the local engines' factory.

`import chat.llm` stays light: OpenVINO, torch and transformers load only when
a local model first loads its weights.
"""

from __future__ import annotations

from .base import LLM, BaseLLM, Generation, ScriptedLLM, Usage
from .engines import ENGINES, make_llm
from .errors import ModelBusy, ModelError

__all__ = [
    "ENGINES",
    "LLM",
    "BaseLLM",
    "Generation",
    "ModelBusy",
    "ModelError",
    "ScriptedLLM",
    "Usage",
    "make_llm",
]
