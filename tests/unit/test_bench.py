"""`recochat bench` end to end: the real catalog, MiniLM, Chroma and the fast model,
through the console script; and its one-line error when the data is missing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import shared_file

RECOCHAT = str(Path(sys.executable).parent / "recochat")


def bench_env(tmp_path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RECOCHAT_")}
    return {**base, "RECOCHAT_HOME": str(tmp_path / "home")}


def test_missing_catalog_is_a_one_line_error(tmp_path):
    proc = subprocess.run(
        [RECOCHAT, "bench", "--catalog", str(tmp_path / "nope.jsonl")],
        env=bench_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "nope.jsonl" in proc.stderr and "--catalog FILE" in proc.stderr
    proc = subprocess.run(
        [RECOCHAT, "bench", "--repeats", "0"],
        env=bench_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.strip() == "Error: --repeats must be at least 1."


@pytest.mark.e2e
@pytest.mark.timeout(1800)
def test_bench_reports_every_section(tmp_path):
    # The small demo catalog and one timed reply per prompt (not the median of 3) keep
    # the test short; the README figures use the movie catalog and the defaults.
    from retrieval import demo_catalog_path

    shared_file("redial/dev_turns.jsonl")  # fails in CI when ../shared/data is missing
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            RECOCHAT,
            "bench",
            "--catalog",
            demo_catalog_path(),
            "--models",
            "smollm2-135m",
            "--queries",
            "20",
            "--concurrent",
            "2",
            "--repeats",
            "1",
            "--json",
            str(out),
        ],
        env=bench_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=1700,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(out.read_text())

    assert figures["machine"]["cpus"] >= 1 and figures["machine"]["torch_threads"] >= 1
    ingest = figures["ingest"]
    assert ingest["items"] == ingest["embedded"] == 348
    for key in ("embed_s", "write_s", "total_s", "items_per_s", "embed_items_per_s"):
        assert ingest[key] > 0, key
    assert ingest["reingest_embedded"] == 0 and ingest["reingest_s"] > 0

    recall = figures["recall_rank"]
    assert recall["queries"] == 20
    for stage in ("state", "recall", "embed", "rank", "total"):
        assert recall[stage]["p50"] > 0, stage
        assert recall[stage]["p95"] >= recall[stage]["p50"], stage

    runs = figures["llm"]["smollm2-135m"]
    for engine in ("transformers", "openvino"):  # side by side, on the same prompt
        llm = runs[engine]
        assert "error" not in llm and "note" not in llm  # cold from GGUF, warm from cache
        assert llm["engine"] == engine
        for key in (
            "cold_load_s",
            "warm_load_s",
            "first_token_s",
            "warm_first_token_s",
            "reply_s",
            "prompt_tokens",
            "prompt_tok_per_s",
            "gen_tok_per_s",
            "completion_tokens",
            "peak_rss_mb",
            "cold_peak_rss_mb",
        ):
            assert llm[key] > 0, key
    assert runs["transformers"]["prompt_tokens"] == runs["openvino"]["prompt_tokens"]
    assert set(runs["ratios"]) == {
        "prompt_tok_per_s",
        "gen_tok_per_s",
        "first_token_s",
        "peak_rss_mb",
    }
    assert runs["openvino"]["concurrent_s"] > 0
    assert figures["memory"]["bench_peak_rss_mb"] > 0

    # the printed table names each section
    for heading in (
        "Ingest demo_catalog.jsonl",
        "Recall + rank, 20",
        "median of 1;",
        "smollm2-135m / openvino",
        "openvino vs transformers",
        "peak RSS",
    ):
        assert heading in proc.stdout
