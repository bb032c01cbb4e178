"""Any LangChain chat model as a recochat LLM.

LangChain already wraps dozens of providers (ChatOpenAI, ChatOllama,
ChatHuggingFace, ChatLlamaCpp …); wrapping its `BaseChatModel` once gives
recochat all of them. Set RECOCHAT_LLM_BACKEND=langchain and
RECOCHAT_LANGCHAIN_MODEL="package.module:name", where `name` is a chat model
instance, or a class or function that builds one without arguments.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import Any

from .base import DEFAULT_LANGUAGES, BaseLLM, Message, Usage
from .errors import ModelError


def _to_langchain(messages: Sequence[Message]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds.get(m["role"], HumanMessage)(content=m["content"]) for m in messages]


def _text(content: Any) -> str:
    """A chunk's content is a string, or a list of parts for multimodal models."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p if isinstance(p, str) else str(p.get("text", ""))
            for p in content
            if isinstance(p, str) or (isinstance(p, dict) and p.get("type", "text") == "text")
        )
    return ""


class LangChainLLM(BaseLLM):
    """A LangChain chat model. Whether a provider continues a final AIMessage or
    reads it as a finished turn differs between them, so it does not claim to
    (`continues` stays False) and the copy writer relies on the prompt alone."""

    engine = "langchain"

    def __init__(
        self,
        model: Any,
        name: str | None = None,
        *,
        languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    ):
        from langchain_core.language_models import BaseChatModel

        if not isinstance(model, BaseChatModel):
            raise ModelError(
                f"{model!r} is not a LangChain chat model (a BaseChatModel). "
                "RECOCHAT_LANGCHAIN_MODEL must name one, or a factory that returns one."
            )
        self.model = model
        self.name = name or getattr(model, "model_name", None) or type(model).__name__
        self.languages = languages

    def _pieces(
        self, messages: list[Message], max_tokens: int, stop: list[str], usage: Usage
    ) -> Iterator[str]:
        model: Any = self.model
        # Most provider models take max_tokens; passing it to one that does not fails.
        if "max_tokens" in type(model).model_fields:
            model = model.bind(max_tokens=max_tokens)
        try:
            for chunk in model.stream(_to_langchain(messages), stop=stop or None):
                yield _text(chunk.content)
        except ModelError:
            raise
        except Exception as e:
            raise ModelError(f"The LangChain model {self.name!r} failed: {e}") from e


def load_chat_model(spec: str) -> LangChainLLM:
    """ "package.module:name" → a LangChainLLM (calling `name` if it is a factory)."""
    module_name, _, attr = (spec or "").partition(":")
    if not module_name or not attr:
        raise ModelError(
            f"RECOCHAT_LANGCHAIN_MODEL={spec!r} must look like 'package.module:name', e.g. "
            "'my_models:chat_model'."
        )
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise ModelError(
            f"Cannot import {spec!r} ({e}). Install the package that defines it, "
            "or fix RECOCHAT_LANGCHAIN_MODEL."
        ) from None
    from langchain_core.language_models import BaseChatModel

    if isinstance(target, BaseChatModel):
        return LangChainLLM(target)
    try:
        model = target()
    except Exception as e:
        raise ModelError(f"Building the chat model {spec!r} failed: {e}") from e
    return LangChainLLM(model)
