"""`recochat eval simulate` end to end on a few ReDial targets: the real MiniLM
embedder, the real Chroma store and SQLite, the real Session (rules reading, no
model). Item vectors come from the per-machine cache that the dialogue suites
fill (RECOCHAT_CACHE_DIR/eval), so the 6,583 plots are embedded once per machine."""

from __future__ import annotations

import json

import pytest
from conftest import shared_file

from chat.frontends.cli import main
from eval.simulate.leakage import LeakGuard

pytestmark = pytest.mark.e2e
TARGETS = 6


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from conftest import MODEL_CACHE

    shared_file("redial/catalog.jsonl")
    turns = shared_file("redial/dev_turns.jsonl")
    work = tmp_path_factory.mktemp("simulate")
    mp = pytest.MonkeyPatch()
    mp.setenv("RECOCHAT_CACHE_DIR", str(MODEL_CACHE))
    for key in ("RECOCHAT_HOME", "RECOCHAT_LLM", "RECOCHAT_EMBEDDER"):
        mp.delenv(key, raising=False)
    argv = ["eval", "simulate", "--turns", str(turns), "--targets", str(TARGETS)]
    argv += ["--seed", "7", "--home", str(work / "home"), "--out", str(work / "out")]
    try:
        assert main(argv) == 0
    finally:
        mp.undo()
    return work / "out", json.loads((work / "out" / "simulate.json").read_text())


def test_the_report_has_success_by_turn_and_the_plot(report):
    out, data = report
    summary = data["summary"]
    assert (out / "simulate.png").stat().st_size > 1000
    assert summary["dialogues"] == TARGETS and len(summary["by_turn"]) == 5
    for k in ("success@1", "success@3", "success@10"):
        values = [row[k] for row in summary["by_turn"]]
        assert values == sorted(values) and all(0 <= v <= 1 for v in values)
    assert summary["final"]["success@10"] > 0  # some seeker found its target


def test_no_seeker_said_the_title_and_no_leak_counts_as_a_success(report):
    _, data = report
    assert data["summary"]["leakage"]["successes_with_a_leak"] == 0
    for record in data["dialogues"]:
        guard = LeakGuard(record["target"]["title"], record["target"]["aliases"])
        assert all(guard.leak(turn["seeker"]) is None for turn in record["turns"])
        if record["dropped"]:
            assert record["hit_turn"] is None


def test_the_real_tracker_read_the_openings_genres(report):
    _, data = report
    for record in data["dialogues"]:
        if not record["turns"]:
            continue  # dropped before a word was said
        first = record["turns"][0]
        genres = {v for kind, v in first["told"] if kind == "genre"}
        if genres:
            assert genres & set(first["state"].get("equals", {}).get("genres", [])), first
