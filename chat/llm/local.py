"""Local text generation with transformers on the CPU.

`TransformersLLM` turns any name `registry.resolve` understands into a streaming
chat model. GGUF weights are dequantized to float32 on the first load (20-60 s),
then saved as a safetensors copy in the cache dir so later starts take a second
or a few; loading is lazy, or eager via `load()`.

torch and transformers are imported on first load only, so `import chat.llm`
stays light.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import registry
from .base import Message, Usage
from .errors import ModelError
from .local_engine import LocalEngine
from .packaged import publish_dir

log = logging.getLogger(__name__)


def _quiet_transformers() -> Any:
    """Import transformers with its logging and progress bars turned down: a chat
    session should print replies, not download-style bars or generation warnings."""
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers


@contextlib.contextmanager
def _no_gguf_progress_bar() -> Iterator[None]:
    # The GGUF dequantizer uses tqdm directly, outside transformers' own switch.
    from tqdm.auto import tqdm
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    original = gguf_utils.tqdm
    gguf_utils.tqdm = functools.partial(tqdm, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


def _stop_criteria(
    tokenizer: Any, prompt_len: int, stop: Sequence[str], cancel: threading.Event
) -> Any:
    """A StoppingCriteria that ends generation once a stop string appears in the
    recent output, or when the reader has gone away (`cancel`)."""
    import torch
    from transformers import StoppingCriteria

    # Decoding only the tail keeps each step cheap; a token is at least one
    # character, so this many tokens always cover the longest stop string.
    tail = max((len(s) for s in stop), default=0) + 8

    class StopOnTextOrCancel(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            done = cancel.is_set()
            if not done and stop:
                start = max(prompt_len, input_ids.shape[1] - tail)
                recent = tokenizer.decode(input_ids[0, start:], skip_special_tokens=True)
                done = any(s in recent for s in stop)
            return torch.full((input_ids.shape[0],), done, dtype=torch.bool)

    return StopOnTextOrCancel()


NO_REPEAT_NGRAM = 4


def _no_repeat_in_reply(prompt_len: int, n: int = NO_REPEAT_NGRAM) -> Any:
    """A LogitsProcessor that forbids repeating any n-gram of the reply itself. Small
    models loop ("kitchen, kitchen, kitchen"); transformers' own `no_repeat_ngram_size`
    would also forbid copying a title from the prompt, so only the reply counts."""
    import torch
    from transformers import LogitsProcessor

    class NoRepeatInReply(LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            for row in range(input_ids.shape[0]):
                reply = input_ids[row, prompt_len:].tolist()
                if len(reply) < n:
                    continue
                prefix = tuple(reply[-(n - 1) :])
                banned = [
                    reply[i + n - 1]
                    for i in range(len(reply) - n + 1)
                    if tuple(reply[i : i + n - 1]) == prefix
                ]
                if banned:
                    scores[row, banned] = -torch.inf
            return scores

    return NoRepeatInReply()


class TransformersLLM(LocalEngine):
    """Any transformers causal LM (or GGUF, dequantised to float32) on the CPU."""

    engine = "transformers"

    _model: Any = None  # both set by `_load`
    _tokenizer: Any = None

    # --- loading ---------------------------------------------------------------

    def _load(self) -> str:
        import torch

        _quiet_transformers()
        torch.set_num_threads(self.threads)
        cached = registry.cached_conversion(self.name, self.cache_dir)
        if cached is not None:
            model, tokenizer = self._from_pretrained(str(cached))
            loaded_from = "cache"
        else:
            resolved = registry.resolve(self.name, self.cache_dir)
            if resolved.gguf_file:
                with _no_gguf_progress_bar():
                    model, tokenizer = self._from_pretrained(resolved.location, resolved.gguf_file)
                self._save_conversion(model, tokenizer, resolved)
                loaded_from = "gguf"
            else:
                model, tokenizer = self._from_pretrained(resolved.location)
                loaded_from = "path"
        model.eval()
        self._model, self._tokenizer = model, tokenizer
        # One model instance generates for one caller at a time: concurrent
        # generate() calls on shared weights would just fight over the same cores.
        self._generate_lock = threading.Lock()
        self.context_length = getattr(model.config, "max_position_embeddings", None)
        return loaded_from

    def _from_pretrained(self, location: str, gguf_file: str | None = None) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        # local_files_only: a hub id must already be in the local HF cache; never download.
        kwargs: dict[str, Any] = {"local_files_only": True}
        if gguf_file:
            kwargs["gguf_file"] = gguf_file
        try:
            tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32, **kwargs)
        except Exception as e:  # transformers raises OSError, ValueError, KeyError, ...
            where = os.path.join(location, gguf_file) if gguf_file else location
            raise ModelError(
                f"Cannot load model {self.name!r} from {where}: {e}. Check that it is a "
                "causal language model in transformers or GGUF format, or use one of: "
                f"{', '.join(registry.MODELS)}."
            ) from e
        return model, tokenizer

    def _save_conversion(
        self, model: Any, tokenizer: Any, resolved: registry.ResolvedModel
    ) -> None:
        """Save a float32 safetensors copy so the next start skips dequantizing.
        Written to a temp dir and renamed, so a crash never leaves a half copy that
        looks complete; a failure here only costs speed, so it is logged, not raised."""
        final = registry.converted_dir(resolved.name, self.cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.cache_dir, prefix=f".{final.name}.", suffix=".tmp"))
        try:
            # The GGUF loader marks the model as quantized, which blocks saving; the
            # weights are already plain float32, so the marker can go.
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            registry.write_conversion_stamp(tmp, resolved)
            publish_dir(tmp, final)  # replaces a stale copy from another source
        except Exception as e:  # disk full, read-only cache, another process won the rename...
            log.warning("could not cache converted model in %s: %s", final, e)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # --- generation ------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        self.load()
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def _sampling(self) -> dict[str, Any]:
        if self.greedy:  # reproducible: the same messages always get the same reply
            return {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        return {"do_sample": True, "temperature": 0.7, "top_p": 0.9}

    def _chat_template(self, messages: list[Message]) -> str:
        return str(
            self._tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False
            )
        )

    def _encode(self, messages: list[Message], max_tokens: int) -> Any:
        # what apply_chat_template(tokenize=True) does, with the reply's start appended
        encoded = self._tokenizer(
            self._prompt(messages), add_special_tokens=False, return_tensors="pt"
        )
        self._check_fits(int(encoded["input_ids"].shape[1]), max_tokens)
        return encoded

    def _pieces(
        self, messages: list[Message], max_tokens: int, stop: list[str], usage: Usage
    ) -> Iterator[str]:
        self.load()
        encoded = self._encode(messages, max_tokens)
        with self._generate_lock:
            yield from self._generate_locked(encoded, max_tokens, stop, usage)

    def _generate_locked(
        self, encoded: Any, max_tokens: int, stop: list[str], usage: Usage
    ) -> Iterator[str]:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList, TextIteratorStreamer

        tokenizer = self._tokenizer
        input_ids, attention_mask = encoded["input_ids"], encoded["attention_mask"]
        prompt_len = int(input_ids.shape[1])
        usage.prompt_tokens, usage.completion_tokens = prompt_len, 0
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancel = threading.Event()
        result: dict[str, Any] = {}
        if self.seed is not None:
            torch.manual_seed(self.seed)  # per call, so a seeded sampler repeats itself

        def generate() -> None:
            try:
                with torch.inference_mode():
                    result["output"] = self._model.generate(
                        input_ids=input_ids,
                        attention_mask=attention_mask,
                        max_new_tokens=max_tokens,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList(
                            [_stop_criteria(tokenizer, prompt_len, stop, cancel)]
                        ),
                        logits_processor=LogitsProcessorList([_no_repeat_in_reply(prompt_len)]),
                        pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                        **self._sampling(),
                    )
            except BaseException as e:  # re-raised in the reader's thread below
                result["error"] = e
                streamer.end()  # unblock the reader

        worker = threading.Thread(target=generate, name=f"generate-{self.name}", daemon=True)
        worker.start()
        try:
            yield from (piece for piece in streamer if piece)
        finally:
            cancel.set()  # also when the caller stops reading early: free the cores
            worker.join()
            output = result.get("output")
            if output is not None:
                usage.completion_tokens = int(output.shape[1]) - prompt_len
        if "error" in result:
            raise result["error"]
