"""The scripted dialogue suites (eval/dialogues) end to end, as `make test` runs
them: the `recochat eval dialogues` command with the real smollm2-135m model
(greedy, so deterministic), real MiniLM embeddings and a real Chroma store,
each catalog ingested once. The figures the issue promises are asserted on the
written report: no hallucinated item, every shown item within the constraints,
no disliked or seen item shown again, and every deterministic behaviour (state,
policy, references, feedback, bad input) passing. Copy quality and latency vary
with the model and the machine, so they count towards the pass rate only.

Speed: item vectors are cached per machine next to the converted models
(RECOCHAT_CACHE_DIR/eval), so the 6,583 ReDial plots are embedded once, not on
every run; each catalog is ingested once per run and the model loaded once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODEL_CACHE, shared_file

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
RECOCHAT = str(Path(sys.executable).parent / "recochat")
SUITES = ROOT / "eval" / "dialogues"
# only the old suites (eval/dialogues/demo, eval/dialogues/redial) for now: the new
# dialogues (eval/dialogues/new) were written before the code that should pass them,
# and eval/dialogues_blind is never used to tune code
OLD_SUITES = {"demo": SUITES / "demo", "redial": SUITES / "redial"}
MODEL = "smollm2-135m"
# assertion types that depend only on code, never on what the model writes
DETERMINISTIC = {
    "asks_question",
    "asked_facet",
    "recommends",
    "all_items_satisfy",
    "none_of",
    "contains",
    "contains_any",
    "copy_names_only_recommended",
    "error",
    "act",
    "intent",
    "state",
    "state_unchanged",
}
PASS_THRESHOLD = 0.85


def run_suite(catalog: str, tmp: Path) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RECOCHAT_")}
    env = {**base, "RECOCHAT_CACHE_DIR": str(MODEL_CACHE), "HF_HUB_OFFLINE": "1"}
    out = tmp / f"report-{catalog}"
    proc = subprocess.run(
        [
            RECOCHAT,
            "eval",
            "dialogues",
            str(OLD_SUITES[catalog]),
            "--catalog",
            catalog,
            "--model",
            MODEL,
            "--home",
            str(tmp / "home"),
            "--out",
            str(out),
            "--threshold",
            str(PASS_THRESHOLD),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=2400,
    )
    assert (out / "report.json").is_file(), proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert (out / "report.md").read_text().startswith("# Dialogue evaluation")
    report["returncode"], report["stdout"] = proc.returncode, proc.stdout
    return report


def check(report: dict) -> None:
    s = report["summary"]
    failed = [
        f"{d['name']} t{t['turn']}: {a['type']} ({a['detail']})"
        for d in report["dialogues"]
        for t in d["turns"]
        for a in t["assertions"]
        if not a["passed"] and a["type"] in DETERMINISTIC
    ]
    assert not failed, "\n".join(failed)
    assert s["hallucinated_items"] == 0 and s["items_named_in_copy"] > 0
    assert s["constraint_satisfaction"] == 1.0
    assert s["disliked_or_seen_repeated"] == 0
    assert s["mean_questions_before_first_recommendation"] is not None
    # the per-turn latency split the issue asks for (the figures depend on the machine)
    assert {"state", "recall", "rank", "llm_first_token", "first_text", "llm_total"} <= set(
        s["latency_s"]
    )
    assert s["pass_rate"] >= PASS_THRESHOLD, report["stdout"][-3000:]
    assert report["returncode"] == 0
    assert "Dialogues" in report["stdout"] and "assertion" in report["stdout"]


@pytest.mark.timeout(2400)
def test_demo_dialogues_with_the_real_model(tmp_path):
    report = run_suite("demo", tmp_path)
    assert report["summary"]["dialogues"] >= 40
    check(report)


@pytest.mark.timeout(2400)
def test_redial_dialogues_with_the_real_model(tmp_path):
    shared_file("redial/catalog.jsonl")  # fails in CI when ../shared/data is missing
    report = run_suite("redial", tmp_path)
    assert report["summary"]["dialogues"] >= 20
    check(report)
