"""End-to-end tests of TransformersLLM with the real SmolLM2-135M weights.

The GGUF is dequantized once per session into a shared cache dir; every other
test reuses that conversion, so the whole file costs one ~20 s cold load."""

from __future__ import annotations

import os
import threading

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing in these tests may touch the network

import pytest
from helpers.models import require_installed

from chat.llm import LLM, make_llm, registry
from chat.llm.local import TransformersLLM

pytestmark = pytest.mark.e2e

MODEL = registry.FAST_MODEL
MESSAGES = [{"role": "user", "content": "Name three famous science fiction movies."}]


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory):
    require_installed(MODEL)
    return tmp_path_factory.mktemp("llm-cache")


@pytest.fixture(scope="session")
def cold_llm(model_cache) -> TransformersLLM:
    return make_llm(MODEL, cache_dir=model_cache, engine="transformers").load()


@pytest.fixture(scope="session")
def llm(cold_llm, model_cache) -> TransformersLLM:
    # A second instance, loaded from the converted copy the cold load wrote.
    return make_llm(MODEL, cache_dir=model_cache, engine="transformers").load()


def test_cold_load_converts_gguf_and_writes_the_cache(cold_llm, model_cache):
    assert cold_llm.loaded_from == "gguf"
    converted = registry.converted_dir(MODEL, model_cache)
    assert (converted / "model.safetensors").is_file()
    assert (converted / registry.CONVERSION_STAMP).is_file()
    assert registry.check(MODEL, model_cache).cached
    # no temp dirs left behind
    assert not [p for p in model_cache.iterdir() if p.name.startswith(".")]


def test_second_instance_loads_from_cache_quickly(llm, cold_llm):
    assert isinstance(llm, LLM)
    assert llm.loaded_from == "cache"
    assert llm.load_seconds < cold_llm.load_seconds


# Streaming, stop strings, greedy determinism, max_tokens and cancellation are the
# contract every backend meets: tests/unit/test_llm_contract.py.


def test_usage_counts_the_chat_template(llm):
    generation = llm.stream(MESSAGES, max_tokens=12)
    pieces = list(generation)
    # the chat template wraps the message, so the prompt is longer than its text
    assert generation.usage.prompt_tokens > llm.count_tokens(MESSAGES[0]["content"])
    assert llm.count_tokens("".join(pieces)) > 0


def test_abandoned_stream_frees_the_model(llm):
    stream = llm.stream(MESSAGES, max_tokens=200)
    next(stream)
    stream.close()  # the reader walks away: generation must stop and release the lock
    assert llm._generate_lock.acquire(timeout=5)
    llm._generate_lock.release()
    assert stream.usage.completion_tokens < 200


def test_two_threads_never_generate_at_once(llm):
    active, most = 0, 0
    counter = threading.Lock()
    generate = llm._model.generate

    def counting_generate(*args, **kwargs):
        nonlocal active, most
        with counter:
            active += 1
            most = max(most, active)
        try:
            return generate(*args, **kwargs)
        finally:
            with counter:
                active -= 1

    results: list[str] = []
    llm._model.generate = counting_generate
    try:
        threads = [
            threading.Thread(target=lambda: results.append(llm.complete(MESSAGES, max_tokens=12)))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        del llm._model.generate
    assert most == 1
    assert len(results) == 2 and results[0] == results[1]


def test_local_transformers_directory_loads_directly(llm, model_cache):
    directory = registry.converted_dir(MODEL, model_cache)
    from_dir = make_llm(str(directory), cache_dir=model_cache).load()  # auto: transformers
    assert from_dir.loaded_from == "path"
    assert from_dir.complete(MESSAGES, max_tokens=12) == llm.complete(MESSAGES, max_tokens=12)
