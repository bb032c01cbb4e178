"""One contract for every LLM backend: streaming, stop strings, greedy
determinism, cancellation, continuing a reply begun by code, and clear errors.

The scripted fake and the OpenAI-compatible client (against a tiny local
server written here) are fast; the two local engines run the real SmolLM2-135M
weights and are marked e2e (they run in CI too)."""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ["HF_HUB_OFFLINE"] = "1"  # nothing in these tests may touch the network

import pytest
from helpers.models import require_installed

from chat.llm import LLM, Generation, ModelError, ScriptedLLM, make_llm, registry

MESSAGES = [{"role": "user", "content": "Name three famous science fiction movies."}]
SCRIPT = "Here are three: Alien, Blade Runner and Solaris. All of them are classics of the genre."
BEGUN = "Here are three: Alien,"  # a reply begun by code, for the model to go on from


def scripted(messages: list[dict[str, str]]) -> str:
    """SCRIPT, or the rest of it after a begun reply (as a model that continues would)."""
    begun = messages[-1]["content"] if messages[-1]["role"] == "assistant" else ""
    return SCRIPT.removeprefix(begun)


# --- a tiny OpenAI-compatible server -------------------------------------------------


class _Completions(BaseHTTPRequestHandler):
    """Streams SCRIPT word by word, ignoring stop strings (as some servers do), so
    the client's own stop handling is what the contract sees. Asked to continue the
    last, assistant message (vLLM's flags), it streams only the rest."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        continues = body.get("continue_final_message") and not body.get("add_generation_prompt")
        text = scripted(body["messages"]) if continues else SCRIPT
        words = text.split(" ")[: body.get("max_tokens") or 256]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for i, word in enumerate(words):
                delta = {"content": word if i == 0 else " " + word}
                self._event({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                time.sleep(0.005)
            usage = {"prompt_tokens": 9, "completion_tokens": len(words), "total_tokens": 0}
            self._event({"choices": [], "usage": usage})
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):  # the client went away: stop
            pass

    def _event(self, data: dict) -> None:
        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m"}
        self.wfile.write(f"data: {json.dumps({**chunk, **data})}\n\n".encode())
        self.wfile.flush()


@pytest.fixture(scope="module")
def openai_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Completions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


# --- the backends ------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine_cache():
    """The per-machine model cache the other end-to-end tests load from: the contract
    needs a loaded model, not a conversion (tests/e2e/test_llm_local.py and
    test_llm_openvino.py check those from an empty cache)."""
    from conftest import MODEL_CACHE

    return MODEL_CACHE / "models"


_loaded: dict[str, LLM] = {}


def _local(engine: str, cache) -> LLM:
    """The fast model on a local engine, loaded once per session."""
    if engine not in _loaded:
        require_installed(registry.FAST_MODEL)
        _loaded[engine] = make_llm(
            registry.FAST_MODEL, cache_dir=cache, engine=engine, threads=2
        ).load()
    return _loaded[engine]


@pytest.fixture(
    params=[
        "scripted",
        "openai",
        pytest.param("transformers", marks=pytest.mark.e2e),
        pytest.param("openvino", marks=pytest.mark.e2e),
    ]
)
def llm(request, engine_cache) -> LLM:
    kind = request.param
    if kind == "scripted":
        return ScriptedLLM(fn=scripted, continues=True)
    if kind == "openai":  # a server that continues a begun reply, as vLLM and llama.cpp's do
        from chat.llm.openai_compat import OpenAICompatLLM

        return OpenAICompatLLM(request.getfixturevalue("openai_server"), "m", continues=True)
    return _local(kind, engine_cache)


# --- the contract ------------------------------------------------------------------


def test_streams_several_pieces_with_usage(llm):
    assert isinstance(llm, LLM) and llm.languages
    generation = llm.stream(MESSAGES, max_tokens=24)
    assert isinstance(generation, Generation)
    pieces = list(generation)
    assert len(pieces) > 1 and all(isinstance(p, str) for p in pieces)
    usage = generation.usage
    assert 0 < usage.completion_tokens <= 24
    assert usage.first_token_s is not None and 0 < usage.first_token_s <= usage.total_s


def test_greedy_output_is_reproducible(llm):
    first = llm.complete(MESSAGES, max_tokens=20)
    assert first.strip() and first == llm.complete(MESSAGES, max_tokens=20)


def test_stop_string_cuts_the_reply_and_ends_generation(llm):
    full = llm.stream(MESSAGES, max_tokens=40)
    text = "".join(full)
    words = text.split()
    assert len(words) >= 4, text
    stop = words[2]  # wherever the model would write its third word
    cut = llm.stream(MESSAGES, max_tokens=40, stop=[stop])
    shown = "".join(cut)
    assert stop not in shown and text.startswith(shown) and len(shown) < len(text)
    assert cut.usage.completion_tokens is None or (
        cut.usage.completion_tokens < full.usage.completion_tokens
    )


def test_max_tokens_bounds_the_reply(llm):
    generation = llm.stream(MESSAGES, max_tokens=3)
    "".join(generation)
    assert 0 < generation.usage.completion_tokens <= 3
    assert llm.complete(MESSAGES, max_tokens=0) == ""


def test_closing_the_stream_stops_generation(llm):
    # 80 tokens: the fast engine needs about 2 s for them, so a reader that the OS
    # leaves waiting a second on a busy machine still closes the stream mid-reply
    full = llm.stream(MESSAGES, max_tokens=80)
    "".join(full)
    generation = llm.stream(MESSAGES, max_tokens=80)
    next(generation)
    generation.close()  # the reader walks away
    closed = generation.usage.completion_tokens  # None: the server never said
    assert closed is None or closed < full.usage.completion_tokens
    started = time.perf_counter()
    assert llm.complete(MESSAGES, max_tokens=4)  # the backend is free for the next turn
    assert time.perf_counter() - started < 30


def test_a_begun_reply_is_continued_not_repeated(llm):
    assert llm.continues
    whole = llm.complete(MESSAGES, max_tokens=30)
    rest = llm.complete([*MESSAGES, {"role": "assistant", "content": BEGUN}], max_tokens=30)
    assert rest.strip() and BEGUN not in rest and rest != whole
    assert rest[0] == " ", rest  # the next word after the comma, not a new reply


def test_a_backend_that_does_not_continue_refuses_a_begun_reply(openai_server):
    from chat.llm.openai_compat import OpenAICompatLLM

    llm = OpenAICompatLLM(openai_server, "m")  # the default: the server may not continue
    assert not llm.continues
    with pytest.raises(ModelError, match="does not continue a reply"):
        llm.complete([*MESSAGES, {"role": "assistant", "content": BEGUN}])


# --- clear errors ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["transformers", "openvino"])
def test_a_missing_file_names_the_fix(engine, tmp_path):
    llm = make_llm(str(tmp_path / "nope.gguf"), cache_dir=tmp_path, engine=engine)
    with pytest.raises(ModelError, match="does not exist. Pass an existing .gguf file"):
        llm.load()


@pytest.mark.e2e
@pytest.mark.parametrize("engine", ["transformers", "openvino"])
def test_a_corrupt_file_is_a_model_error(engine, tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(4096))
    with pytest.raises(ModelError, match="broken.gguf"):
        make_llm(str(bad), cache_dir=tmp_path / "cache", engine=engine).load()


def test_an_unreachable_server_names_the_setting():
    from chat.llm.openai_compat import OpenAICompatLLM

    llm = OpenAICompatLLM("http://127.0.0.1:9/v1", "m", timeout=5, max_retries=0)
    with pytest.raises(ModelError, match="RECOCHAT_OPENAI_BASE_URL"):
        llm.complete(MESSAGES)


@pytest.mark.e2e
@pytest.mark.parametrize("engine", ["transformers", "openvino"])
def test_an_oversized_prompt_is_refused_not_truncated(engine, engine_cache):
    huge = [{"role": "user", "content": "movie " * 9000}]  # SmolLM2 reads 8,192 tokens
    with pytest.raises(ModelError, match="exceeds .* context of 8192 tokens"):
        _local(engine, engine_cache).complete(huge, max_tokens=8)
