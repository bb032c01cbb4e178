"""An LLM behind any OpenAI-compatible chat completions endpoint.

vLLM, TGI, llama.cpp's server, Ollama and another `recochat serve` (which
serves its own model under the model's name) all speak `POST /v1/chat/completions`
with `stream: true`. This backend is how recochat scales out generation: the
API workers stay small and one GPU server writes the copy.

The `openai` client is imported when the backend is built, so `import chat.llm`
stays light. Every failure becomes a `ModelError` that names the setting to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .base import DEFAULT_LANGUAGES, BaseLLM, Message, Usage, reply_start
from .errors import ModelError

INSTALL_HINT = "pip install 'openai==3.54.0' (it installs with recochat)"
MAX_STOP_STRINGS = 4  # the OpenAI API accepts at most four; the rest are cut locally
# vLLM's (and llama.cpp's) flags for continuing the last, assistant message
CONTINUE = {"continue_final_message": True, "add_generation_prompt": False}


def _openai() -> Any:
    try:
        import openai
    except ImportError:
        raise ModelError(
            f"The OpenAI-compatible backend needs the openai client: {INSTALL_HINT}."
        ) from None
    return openai


class OpenAICompatLLM(BaseLLM):
    """`stream` and `complete` over a remote chat completions endpoint.

    `base_url` ends in `/v1` as the servers document it (http://host:8000/v1).
    Stop strings go to the server and are also applied by `BaseLLM`, because
    some servers ignore them and we must never show text past a stop string.
    `languages` is what the served model writes well (a setting: the name of a
    remote model says nothing reliable about it).

    `continues` says whether the server continues a reply begun in the last
    message (base.py), a setting too: vLLM does when asked with
    `continue_final_message` (and `add_generation_prompt` off), llama.cpp's server
    continues a final assistant message by default (unless started with
    `--no-prefill-assistant`) and takes the same flags, and so does another
    recochat serving its raw model; each streams only the continuation. OpenAI's
    own API and servers that read such a message as a finished turn stay at False,
    and the copy writer then relies on the prompt alone."""

    engine = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 1,
        client: Any = None,
        languages: tuple[str, ...] = DEFAULT_LANGUAGES,
        continues: bool = False,
    ):
        if not base_url:
            raise ModelError(
                "RECOCHAT_LLM_BACKEND=openai needs RECOCHAT_OPENAI_BASE_URL "
                "(e.g. http://127.0.0.1:8000/v1)."
            )
        self.name = model
        self.base_url = base_url.rstrip("/")
        self.languages = languages
        self.continues = continues
        openai = _openai()
        # Local servers usually want no key, but the client insists on one.
        self._client = client or openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=max_retries,
        )

    def load(self) -> OpenAICompatLLM:
        """Check at start that the server answers and serves this model."""
        try:
            served = [m.id for m in self._client.models.list()]
        except Exception as e:
            raise self._explain(e) from None
        if served and self.name not in served:
            raise ModelError(
                f"The server at {self.base_url} does not serve model {self.name!r} "
                f"(it serves: {', '.join(served)}). Set RECOCHAT_OPENAI_MODEL to one of them."
            )
        return self

    def _pieces(
        self, messages: list[Message], max_tokens: int, stop: list[str], usage: Usage
    ) -> Iterator[str]:
        try:
            chunks = self._client.chat.completions.create(
                model=self.name,
                messages=[{"role": m["role"], "content": m["content"]} for m in messages],
                max_tokens=max_tokens,
                stop=stop[:MAX_STOP_STRINGS] or None,
                stream=True,
                stream_options={"include_usage": True},
                extra_body=CONTINUE if reply_start(messages)[1] else None,
            )
            try:
                for chunk in chunks:
                    if chunk.usage:
                        usage.prompt_tokens = chunk.usage.prompt_tokens
                        usage.completion_tokens = chunk.usage.completion_tokens
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
            finally:
                chunks.close()  # the reader stopped early: drop the connection
        except ModelError:
            raise
        except Exception as e:
            raise self._explain(e) from None

    def _explain(self, e: Exception) -> ModelError:
        openai = _openai()
        where = f"the LLM server at {self.base_url}"
        if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
            return ModelError(f"{where} refused our key ({e}). Set RECOCHAT_OPENAI_API_KEY.")
        if isinstance(e, openai.NotFoundError):
            return ModelError(
                f"{where} has no model {self.name!r} or no /chat/completions route ({e}). "
                "Check RECOCHAT_OPENAI_MODEL and that RECOCHAT_OPENAI_BASE_URL ends in /v1."
            )
        if isinstance(e, openai.APITimeoutError):
            return ModelError(f"{where} did not answer in time. Raise RECOCHAT_OPENAI_TIMEOUT.")
        if isinstance(e, openai.APIConnectionError):
            return ModelError(
                f"Cannot reach {where} ({e}). Start it, or fix RECOCHAT_OPENAI_BASE_URL."
            )
        if isinstance(e, openai.APIStatusError):
            return ModelError(f"{where} failed with HTTP {e.status_code}: {e.message}")
        return ModelError(f"{where} failed: {e}")
