"""Fast tests of the engine plumbing: the shared stop-string helper, the loop
guard, the Q5_0 → Q8_0 re-quantiser and its cache, the engine choice with its
fallback, and what both local engines share. No model weights: GGUF files are
written here, tiny."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from chat.llm import ModelError, ScriptedLLM, engines, registry, requant
from chat.llm.base import BaseLLM, hold_back_stops
from chat.llm.openvino_backend import LOOP_NGRAM, repeats_itself, take

# --- stop strings, shared by every backend -------------------------------------------


@pytest.mark.parametrize(
    "pieces, stop, shown",
    [
        (["Hello wor", "ld. User:", " more"], ["User:"], "Hello world. "),
        (["a U", "s", "er: b"], ["User:"], "a "),  # the stop string split over three pieces
        (["a Us", "ual day"], ["User:"], "a Usual day"),  # a false start is released
        (["plain text"], [], "plain text"),
        (["x<|im_", "end|>y"], ["<|im_end|>", "\n\n\n"], "x"),
    ],
)
def test_hold_back_never_shows_text_past_a_stop_string(pieces, stop, shown):
    assert "".join(hold_back_stops(pieces, stop)) == shown


def test_hold_back_releases_text_that_cannot_start_a_stop_string_at_once():
    out = hold_back_stops(iter(["one ", "two ", "three"]), ["Customer said"])
    assert next(out) == "one "  # nothing held: "one " ends with no start of the stop


def test_hold_back_closes_the_source_once_a_stop_string_appears():
    closed = []

    def source():
        try:
            yield from ["a", " b", " STOP", " c", " d"]
        finally:
            closed.append(True)

    assert "".join(hold_back_stops(source(), ["STOP"])) == "a b "
    assert closed == [True]


def test_every_backend_gets_stop_handling_from_the_base():
    class Raw(BaseLLM):
        def _pieces(self, messages, max_tokens, stop, usage):
            yield from ["Pick A. ", "Cust", "omer: no"]

    assert Raw().complete([], stop=["Customer:"]) == "Pick A. "


def test_the_loop_guard_sees_a_repeated_run_of_tokens_in_the_reply_only():
    assert repeats_itself([1, 2, 3, 4] * 5, n=4)
    assert not repeats_itself(list(range(40)), n=4)
    assert not repeats_itself([1, 2, 3, 4, 1, 2, 3], n=4)


def test_tokens_read_in_one_batch_stop_where_read_one_by_one_would():
    loop = list(range(100, 100 + LOOP_NGRAM)) * 3  # a loop of LOOP_NGRAM tokens
    one_by_one: list[int] = []
    for token in loop:
        if take(one_by_one, [token], max_tokens=100):
            break
    batched: list[int] = []
    assert take(batched, loop, max_tokens=100) and batched == one_by_one
    capped: list[int] = []
    assert take(capped, list(range(50)), max_tokens=40) and capped == list(range(40))
    assert not take([], [1, 2, 3], max_tokens=40)


class _QueuedHandle:
    """OpenVINO's GenerationHandle as the engine sees it: one output queued per
    pipeline step, `read()` takes the oldest one."""

    def __init__(self, steps: list[list[int]], status):
        self.queue = [{0: type("Output", (), {"generated_ids": ids})()} for ids in steps]
        self.status = status

    def get_status(self):
        return self.status

    def can_read(self):
        return bool(self.queue)

    def read(self):
        return self.queue.pop(0)

    def cancel(self):
        pass


def test_a_reader_that_fell_behind_still_gets_every_token_of_a_finished_reply(tmp_path):
    """A slow reader (a web page drawing each word) finds the request finished with
    several steps' tokens still queued: the reply is all of them, not the first."""
    import threading

    from openvino_genai import GenerationStatus

    from chat.llm.openvino_backend import OpenVINOLLM

    words = ["I", " would", " pick", " the", " Yoga", " Mat", "."]
    handle = _QueuedHandle([[i] for i in range(len(words))], GenerationStatus.FINISHED)
    scheduler = type(
        "Scheduler",
        (),
        {"stepping": threading.Lock(), "steps": 7, "error": None, "submit": lambda *a: handle},
    )()
    tokenizer = type(
        "Tokenizer", (), {"decode": lambda self, ids, **_: "".join(words[i] for i in ids)}
    )()
    llm = OpenVINOLLM("smollm2-135m", cache_dir=tmp_path)
    llm.loaded_from, llm._scheduler, llm._tokenizer = "cache", scheduler, tokenizer
    llm._encode = lambda messages, max_tokens: type("Ids", (), {"shape": (1, 3)})()

    generation = llm.stream([{"role": "user", "content": "a yoga mat"}], max_tokens=20)
    assert "".join(generation) == "I would pick the Yoga Mat."
    assert generation.usage.completion_tokens == len(words)


def test_languages_are_declared_by_the_registry_not_guessed():
    assert registry.languages("smollm2-135m") == ("en",)
    assert "zh" in registry.languages("qwen2.5-coder-0.5b")
    assert ScriptedLLM(languages=("en",)).languages == ("en",)


# --- re-quantising the tensors OpenVINO rejects --------------------------------------


def write_gguf(path, kinds: dict[str, str]) -> dict[str, np.ndarray]:
    """A tiny GGUF with one 2×64 tensor per entry of `kinds` (name → type name)."""
    import gguf
    from gguf.quants import quantize

    rng = np.random.default_rng(0)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_context_length(128)
    writer.add_string("tokenizer.chat_template", "{{ messages }}")
    values = {}
    for name, kind in kinds.items():
        values[name] = rng.standard_normal((2, 64)).astype(np.float32)
        qtype = gguf.GGMLQuantizationType[kind]
        writer.add_tensor(name, quantize(values[name], qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return values


def test_requantising_changes_only_rejected_tensors_and_keeps_metadata(tmp_path):
    import gguf
    from gguf.quants import dequantize

    source, target = tmp_path / "m.gguf", tmp_path / "m.ov.gguf"
    values = write_gguf(source, {"a.weight": "Q5_0", "b.weight": "Q4_0", "c.weight": "F32"})
    assert requant.rejected_tensors(source) == ["a.weight"]
    assert requant.write_requantised(source, target) == 1
    assert requant.rejected_tensors(target) == []

    before, after = gguf.GGUFReader(source), gguf.GGUFReader(target)
    kinds = {t.name: t.tensor_type.name for t in after.tensors}
    assert kinds == {"a.weight": "Q8_0", "b.weight": "Q4_0", "c.weight": "F32"}
    for key in ("llama.context_length", "tokenizer.chat_template"):
        assert after.fields[key].contents() == before.fields[key].contents()
    old = {t.name: t for t in before.tensors}
    for t in after.tensors:
        if t.name != "a.weight":  # untouched tensors are copied byte for byte
            assert np.array_equal(np.asarray(t.data), np.asarray(old[t.name].data))
    a = next(t for t in after.tensors if t.name == "a.weight")
    restored = dequantize(a.data, a.tensor_type).reshape(2, 64)
    assert np.abs(restored - values["a.weight"]).max() < 0.15  # Q5_0's own rounding


def test_the_requantised_copy_is_cached_and_a_damaged_one_rebuilt(tmp_path, caplog):
    source = tmp_path / "m.gguf"
    write_gguf(source, {"a.weight": "Q5_0"})
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING):
        first = requant.ensure_openvino_gguf(source, "digest-1", cache, "m")
    assert "re-quantising" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert requant.ensure_openvino_gguf(source, "digest-1", cache, "m") == first
    assert caplog.text == ""  # reused, not rebuilt
    good = first.read_bytes()

    first.write_bytes(good[: len(good) // 2])  # half-written, e.g. by a crash outside us
    assert requant.cached_copy(first, "digest-1") is None
    requant.ensure_openvino_gguf(source, "digest-1", cache, "m")
    assert first.read_bytes() == good
    assert requant.cached_copy(first, "digest-2") is None  # another source: rebuilt
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temp files left


def test_a_gguf_openvino_reads_is_used_as_it_is(tmp_path):
    source = tmp_path / "m.gguf"
    write_gguf(source, {"a.weight": "Q4_1", "b.weight": "Q8_0"})
    assert requant.ensure_openvino_gguf(source, "d", tmp_path / "cache", "m") == source


# --- which engine runs a model -------------------------------------------------------


class _Fake(BaseLLM):
    def __init__(self, engine: str, fail: Exception | None = None):
        self.engine, self.fail, self.name = engine, fail, "fake"

    def load(self):
        if self.fail:
            raise self.fail
        return self

    def _pieces(self, messages, max_tokens, stop, usage):
        yield f"from {self.engine}"


def test_auto_falls_back_to_transformers_with_a_one_line_reason(monkeypatch, caplog, tmp_path):
    made = []

    def fake_local(name, engine, **options):
        made.append(engine)
        fail = (
            RuntimeError("Exception from src/core: no AVX2\nstack...")
            if engine == "openvino"
            else None
        )
        return _Fake(engine, fail)

    monkeypatch.setattr(engines, "make_local", fake_local)
    monkeypatch.setattr(engines.registry, "resolve", lambda name, cache: None)
    llm = engines.make_llm("smollm2-135m", cache_dir=tmp_path)
    assert isinstance(llm, engines.FallbackLLM) and llm.engine == "auto (not loaded)"
    with caplog.at_level(logging.WARNING):
        assert llm.complete([]) == "from transformers"
    assert made == ["openvino", "transformers"] and llm.engine == "transformers"
    assert "OpenVINO unavailable (Exception from src/core: no AVX2); using transformers" in (
        caplog.text
    )


def test_a_missing_model_is_not_hidden_by_the_fallback(tmp_path):
    llm = engines.make_llm(str(tmp_path / "gone.gguf"), cache_dir=tmp_path)
    with pytest.raises(ModelError, match="does not exist"):
        llm.load()


def test_hugging_face_models_go_to_transformers_and_unknown_engines_are_refused(tmp_path):
    from chat.llm.local import TransformersLLM

    assert isinstance(engines.make_llm(str(tmp_path), cache_dir=tmp_path), TransformersLLM)
    with pytest.raises(ModelError, match="Use one of: auto, openvino, transformers"):
        engines.make_llm("smollm2-135m", cache_dir=tmp_path, engine="llamacpp")


# --- what both local engines share ----------------------------------------------------


def test_a_local_engine_loads_once_and_refuses_a_prompt_past_its_context(tmp_path):
    from chat.llm.local_engine import LocalEngine

    class Tiny(LocalEngine):
        loads = 0

        def _load(self):
            self.loads += 1
            self.context_length = 10
            return "path"

        def _pieces(self, messages, max_tokens, stop, usage):
            self.load()
            self._check_fits(len(messages[0]["content"].split()), max_tokens)
            yield "ok"

    llm = Tiny("tiny", cache_dir=tmp_path)
    assert llm.load().load() is llm and llm.loads == 1 and llm.loaded_from == "path"
    assert llm.complete([{"role": "user", "content": "a b c"}], max_tokens=7) == "ok"
    with pytest.raises(ModelError) as e:
        llm.complete([{"role": "user", "content": "a b c d"}], max_tokens=7)
    assert str(e.value) == (
        "The prompt has 4 tokens; with 7 for the reply that exceeds tiny's context of 10 "
        "tokens. Shorten the conversation or the catalog text sent to the model, or lower "
        "max_reply_tokens."
    )


@pytest.mark.parametrize("engine", ["auto", "openvino", "transformers"])
def test_every_local_engine_declares_that_it_continues_a_begun_reply(engine, tmp_path):
    # declared before anything loads: the copy writer decides on it for the first turn
    assert engines.make_llm("smollm2-135m", cache_dir=tmp_path, engine=engine).continues
