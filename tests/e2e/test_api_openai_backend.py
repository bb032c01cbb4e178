"""The OpenAI-compatible LLM backend against a real server: a second recochat
serving the packaged smollm2-135m model on loopback (its raw model, under the
model's name, for a key with the `llm` role), and a front recochat whose copy
comes from it (RECOCHAT_LLM_BACKEND=openai)."""

from __future__ import annotations

import json

import httpx
import pytest
from helpers.servers import FIXTURES, ApiServer, new_key, run_cli, server_env, sse_frames

MODEL = "smollm2-135m"


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    """recochat serving smollm2 (no catalog: it only generates)."""
    env = server_env(tmp_path_factory.mktemp("llm-home"), llm=MODEL)
    key = new_key(env, "backend", "--role", "llm")
    server = ApiServer(env, tmp_path_factory.mktemp("llm-log") / "server.log", "--no-gradio")
    try:
        server.wait(ready=lambda r: r.json()["checks"]["model"] == "ready")
        yield server, key
    finally:
        server.stop()


@pytest.fixture(scope="module")
def front_server(tmp_path_factory, model_server):
    backend, backend_key = model_server
    env = server_env(
        tmp_path_factory.mktemp("front-home"),
        llm=MODEL,
        llm_backend="openai",
        openai_base_url=backend.url + "/v1",
        openai_api_key=backend_key,
        max_reply_tokens="32",  # enough to see it stream; the model writes ~17 tokens/s
    )
    run_cli(env, "ingest", str(FIXTURES / "web_shop.jsonl"))
    key = new_key(env, "front")
    server = ApiServer(env, tmp_path_factory.mktemp("front-log") / "server.log", "--no-gradio")
    try:
        server.wait()
        yield server, key
    finally:
        server.stop()


@pytest.mark.e2e
def test_the_backend_streams_from_another_recochat(model_server):
    from chat.llm.openai_compat import OpenAICompatLLM

    server, key = model_server
    llm = OpenAICompatLLM(server.url + "/v1", MODEL, api_key=key).load()
    messages = [
        {"role": "system", "content": "You are a helpful shop assistant."},
        {"role": "user", "content": "Recommend a coffee grinder in one sentence."},
    ]
    generation = llm.stream(messages, max_tokens=24)
    pieces = list(generation)
    assert len(pieces) >= 3 and "".join(pieces).strip()
    assert (generation.usage.completion_tokens or 0) <= 24


@pytest.mark.e2e
def test_a_front_server_writes_its_copy_with_the_remote_model(front_server, model_server):
    front, key = front_server
    backend, _ = model_server
    before = _tokens(backend)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=front.url, headers=headers, timeout=300) as http:
        sid = http.post("/v1/sessions", json={}).json()["session_id"]
        r = http.post(
            f"/v1/sessions/{sid}/messages",
            json={"message": "wireless earbuds for running", "stream": True},
        )
    frames = sse_frames(r.text)
    names = [e for e, _ in frames]
    assert names[0] == "items" and names[-1] == "done" and names.count("text") >= 3
    assert json.loads(frames[-1][1])["reply"]
    assert _tokens(backend) - before >= 3  # the remote model wrote (at least the draft of) it


def _tokens(server: ApiServer) -> float:
    metrics = httpx.get(server.url + "/metrics").text
    line = next(
        (
            x
            for x in metrics.splitlines()
            if x.startswith(f'recochat_llm_tokens_total{{model="{MODEL}"}}')
        ),
        None,
    )
    return float(line.split()[-1]) if line else 0.0
