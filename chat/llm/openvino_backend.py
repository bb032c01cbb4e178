"""Local generation with OpenVINO GenAI on the packaged (quantised) GGUF weights.

Measured on a 2-core box, this engine prefills about 3× and generates about 5×
faster than the float32 transformers backend on the same model, in half the
memory (`recochat bench` shows both side by side).

One continuous-batching pipeline serves every caller. A single scheduler
thread steps it; each `stream` adds a request and reads its tokens as they
come, so turns of different sessions share each forward pass instead of
queueing behind each other (up to `slots` at once). Prefix caching keeps the
KV blocks of prompts already seen, so the fixed start of the copy prompt (the
system message and the worked example) is computed once per process and a
turn pays only for its own items and request. Closing the stream cancels the
request: the next step leaves it out and the cores go to the others.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import openvino_cache, pages, registry
from .base import Message, Usage
from .errors import ModelError
from .local_engine import LocalEngine
from .slots import Slots

log = logging.getLogger(__name__)

LOOP_NGRAM = 8  # a reply whose last 8 tokens already appeared in it is looping
# OpenVINO GenAI's `step()` holds Python's GIL for the whole forward pass (tens of
# milliseconds; a long prompt's prefill, a second): stepping back to back starved
# every other thread of the server, the event loop included. With 20 sessions at
# once a turn's cards waited 28 s (p50) for the GIL though they were ready in 3 s;
# a 20 ms pause after each step while several requests run brought that to 4.6 s
# (`recochat bench-api --load-model`). One request alone pauses only briefly.
STEP_PAUSE_S = {False: 0.002, True: 0.02}  # keyed by "more than one request running"
READ_WAIT_S = 1.0  # how long a message reading waits for a generation slot
KV_CACHE_TOKENS = 8_192  # shared by all slots and the prefix cache: ~100 MB for 0.5B
# The CPU plugin's default u8 KV cache makes a reply depend on whether its prompt's
# start came from the prefix cache or was just computed; f16 keeps greedy replies
# the same either way.
KV_PROPS = {"KV_CACHE_PRECISION": "f16"}


def repeats_itself(ids: list[int], n: int = LOOP_NGRAM) -> bool:
    """True when the reply's last n tokens occurred earlier in the reply. Small models
    loop ("kitchen, kitchen, kitchen"); a loop only ever gets longer, so generation
    stops there. Looking at the reply alone lets titles be copied from the prompt."""
    if len(ids) < 2 * n:
        return False
    tail = ids[-n:]
    return any(ids[i : i + n] == tail for i in range(len(ids) - n))


def take(ids: list[int], new: list[int], max_tokens: int) -> bool:
    """Add the tokens read to the reply one at a time, stopping at the first that
    makes it loop or reach max_tokens (True then): a reader that fell behind and
    reads several steps at once gets the same reply as one that read each step."""
    for token in new:
        ids.append(token)
        if repeats_itself(ids) or len(ids) >= max_tokens:
            return True
    return False


class _Scheduler:
    """Steps the pipeline on one thread while any request is unfinished."""

    def __init__(self, pipe: Any, name: str):
        self.pipe = pipe
        self.changed = threading.Condition()
        self.steps = 0
        # Held during a step: a request is marked finished inside a step, before its
        # last tokens are handed over, so a reader that saw it finish waits this out.
        self.stepping = threading.Lock()
        self.error: BaseException | None = None
        self._next_id = 0
        self._thread = threading.Thread(target=self._run, name=f"openvino-{name}", daemon=True)
        self._thread.start()

    def submit(self, input_ids: Any, config: Any) -> Any:
        with self.changed:
            handle = self.pipe.add_request(self._next_id, input_ids, config)
            self._next_id += 1
            self.changed.notify_all()
        return handle

    def wait(self, seen: int, timeout: float = 1.0) -> int:
        """Block until a step after `seen` has finished; returns the new count."""
        with self.changed:
            self.changed.wait_for(lambda: self.steps > seen, timeout=timeout)
            return self.steps

    def settle(self, steps: int = 2, timeout: float = 2.0) -> None:
        """After a cancel: wait until the engine has dropped it (it steps on its own
        when idle otherwise), so the next request is not batched with a request
        being removed: with a single caller, greedy replies then stay identical."""
        deadline = time.monotonic() + timeout
        seen, passed = self.steps, 0
        while passed < steps and time.monotonic() < deadline:
            with self.changed:
                if not self.pipe.has_non_finished_requests():
                    return
            seen, passed = self.wait(seen, timeout=0.2), passed + 1

    def _run(self) -> None:
        while True:
            with self.changed:
                self.changed.wait_for(self.pipe.has_non_finished_requests)
            try:
                with self.stepping:
                    self.pipe.step()
            except BaseException as e:  # reported to every reader, then the thread ends
                log.exception("OpenVINO generation failed")
                self.error = e
            with self.changed:
                self.steps += 1
                self.changed.notify_all()
            if self.error is not None:
                return
            time.sleep(STEP_PAUSE_S[self.pipe.get_metrics().requests > 1])  # see STEP_PAUSE_S


class OpenVINOLLM(LocalEngine):
    """A registry model or local .gguf file on OpenVINO GenAI (CPU)."""

    engine = "openvino"

    def __init__(
        self,
        model: str = registry.DEFAULT_MODEL,
        *,
        cache_dir: Path | str,
        threads: int | None = None,
        greedy: bool = True,
        seed: int | None = None,
        slots: int = 4,
        wait_s: float | None = None,
    ):
        super().__init__(model, cache_dir=cache_dir, threads=threads, greedy=greedy, seed=seed)
        self.slots = slots
        self._admission = Slots(model, slots, wait_s)  # never more requests than slots
        self._tokenizer: Any = None
        self._scheduler: _Scheduler | None = None

    # --- loading ---------------------------------------------------------------

    def _load(self) -> str:
        try:  # before anything is built or re-quantised for an engine that cannot run
            import openvino_genai  # noqa: F401
        except ImportError as e:
            raise ModelError(
                f"openvino-genai is not installed ({e}): reinstall recochat, which installs "
                "it, or set RECOCHAT_LLM_ENGINE=transformers."
            ) from e
        build = openvino_cache.ensure(self.name, self.cache_dir)
        try:
            pipe = self._open(build.directory)
        except RuntimeError as e:  # a damaged IR that kept its size: rebuild it once
            if build.built:
                raise ModelError(f"OpenVINO cannot load {build.directory}: {e}") from e
            log.warning(
                "cached OpenVINO model %s does not load (%s); rebuilding", build.directory, e
            )
            build = openvino_cache.ensure(self.name, self.cache_dir, rebuild=True)
            pipe = self._open(build.directory)
        self._tokenizer = pipe.get_tokenizer()
        self._scheduler = _Scheduler(pipe, self.name)
        self.context_length = build.stamp.get("context_length")
        self._warm_up()
        pages.release(build.directory / "openvino_model.bin")
        return "gguf" if build.built else "cache"

    def _warm_up(self) -> None:
        """One token of a tiny prompt: the engine compiles and repacks the weights
        now, at load, instead of on the first customer's turn."""
        ids = self._tokenizer.encode("Hi", add_special_tokens=False).input_ids
        "".join(self._run(ids, 1, self._config(1, []), Usage()))

    def _open(self, directory: Path) -> Any:
        import openvino_genai

        scheduler = openvino_genai.SchedulerConfig()
        scheduler.enable_prefix_caching = True
        scheduler.max_num_seqs = self.slots
        scheduler.num_kv_blocks = KV_CACHE_TOKENS // 32  # the CPU plugin's block is 32 tokens
        properties = {"INFERENCE_NUM_THREADS": self.threads, **KV_PROPS}
        return openvino_genai.ContinuousBatchingPipeline(
            str(directory), scheduler, "CPU", properties
        )

    # --- generation ------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        self.load()
        return int(self._tokenizer.encode(text, add_special_tokens=False).input_ids.shape[1])

    def _config(self, max_tokens: int, stop: list[str], schema: dict | None = None) -> Any:
        import openvino_genai

        config = openvino_genai.GenerationConfig()
        # One more than asked: when a whole prompt comes from the prefix cache, OpenVINO
        # counts its recomputed last token as generated. The reader stops at max_tokens.
        config.max_new_tokens = max_tokens + 1
        config.stop_strings = set(stop)  # ends generation early; BaseLLM cuts the text
        config.include_stop_str_in_output = True
        if self.greedy:  # reproducible: the same messages always get the same reply
            config.do_sample = False
        else:
            config.do_sample, config.temperature, config.top_p = True, 0.7, 0.9
            if self.seed is not None:
                config.rng_seed = self.seed
        if schema is not None:  # only tokens that keep the text valid for the schema
            config.structured_output_config = openvino_genai.StructuredOutputConfig(
                json_schema=json.dumps(schema)
            )
        return config

    def _chat_template(self, messages: list[Message]) -> str:
        return str(self._tokenizer.apply_chat_template(messages, add_generation_prompt=True))

    def _encode(self, messages: list[Message], max_tokens: int) -> Any:
        prompt = self._prompt(messages)
        input_ids = self._tokenizer.encode(prompt, add_special_tokens=False).input_ids
        self._check_fits(int(input_ids.shape[1]), max_tokens)
        return input_ids

    def complete_json(
        self, messages: Sequence[Message], schema: dict[str, Any], *, max_tokens: int = 64
    ) -> str:
        """Decoding constrained to the JSON schema (OpenVINO's structured output).
        A reading helps the rules but is not worth a wait: with every slot taken for
        `READ_WAIT_S` it is skipped (ModelBusy) and the rules' reading stands."""
        generation = self._generate(list(messages), max_tokens, [], Usage(), schema, READ_WAIT_S)
        return "".join(generation)

    def _pieces(
        self, messages: list[Message], max_tokens: int, stop: list[str], usage: Usage
    ) -> Iterator[str]:
        return self._generate(messages, max_tokens, stop, usage, None)

    def _generate(
        self,
        messages: list[Message],
        max_tokens: int,
        stop: list[str],
        usage: Usage,
        schema: dict[str, Any] | None,
        wait_s: float | None = None,
    ) -> Iterator[str]:
        self.load()
        input_ids = self._encode(messages, max_tokens)
        usage.prompt_tokens, usage.completion_tokens = int(input_ids.shape[1]), 0
        with self._admission.slot(wait_s):
            config = self._config(max_tokens, stop, schema)
            yield from self._run(input_ids, max_tokens, config, usage)

    def _run(self, input_ids: Any, max_tokens: int, config: Any, usage: Usage) -> Iterator[str]:
        """One request on the pipeline, streamed; cancelled when the reader leaves."""
        scheduler = self._scheduler
        assert scheduler is not None  # `_load` sets it together with the pipe
        handle = scheduler.submit(input_ids, config)
        ids: list[int] = []
        sent = ""
        seen = scheduler.steps
        try:
            while True:
                running = _is_running(handle)
                if not running:
                    with scheduler.stepping:  # the step that finished it has handed over
                        pass
                new = _read(handle)
                if new:
                    done = take(ids, new, max_tokens)
                    usage.completion_tokens = len(ids)
                    text = self._tokenizer.decode(ids, skip_special_tokens=True)
                    # A token may end inside a multi-byte character: wait for the rest.
                    if not text.endswith("\ufffd") and text.startswith(sent):
                        yield text[len(sent) :]
                        sent = text
                    if done:
                        return
                if not running:  # read after the status: nothing is left unread
                    _check_finished(handle, self.name)
                    return
                if scheduler.error is not None:
                    raise ModelError(f"OpenVINO generation failed: {scheduler.error}")
                seen = scheduler.wait(seen)
        finally:
            if _is_running(handle):
                handle.cancel()  # the reader left, a stop string or a loop: free the slot
                scheduler.settle()


def _is_running(handle: Any) -> bool:
    import openvino_genai

    return handle.get_status() == openvino_genai.GenerationStatus.RUNNING


def _check_finished(handle: Any, name: str) -> None:
    import openvino_genai

    if handle.get_status() == openvino_genai.GenerationStatus.IGNORED:
        raise ModelError(
            f"OpenVINO dropped a request to {name}: its KV cache is full. Fewer concurrent "
            "generations at once (RECOCHAT_LLM_SLOTS) or a shorter prompt fit in it."
        )


def _read(handle: Any) -> list[int]:
    """The tokens generated since the last read: every output queued on the handle.
    The pipeline queues one output per step and `read()` takes only the oldest, so
    a reader that fell behind (a web page drawing each word while the model writes
    on) must take them all; one per step would leave the rest unread when the
    request finishes, and the reply would end mid-sentence."""
    ids: list[int] = []
    while handle.can_read():
        ids.extend(t for output in handle.read().values() for t in output.generated_ids)
    return ids
