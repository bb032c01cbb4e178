"""End to end for `recochat eval turns` on a slice of the real ReDial dev turns,
the real catalog and MiniLM: learned from one file of dialogues, measured on
another, with the protocol rows, both baselines, intervals and cold-start rows."""

from __future__ import annotations

import json

import pytest
from conftest import MODEL_CACHE, shared_file

from chat.frontends.cli import main

pytestmark = pytest.mark.e2e
TRAIN_DIALOGS, TEST_DIALOGS = 90, 30


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    turns = shared_file("redial/dev_turns.jsonl")
    catalog = shared_file("redial/catalog.jsonl")
    rows = [json.loads(line) for line in turns.read_text().splitlines() if line.strip()]
    dialogs = sorted({str(r["dialog_id"]) for r in rows})
    train_ids = set(dialogs[:TRAIN_DIALOGS])
    test_ids = set(dialogs[TRAIN_DIALOGS : TRAIN_DIALOGS + TEST_DIALOGS])
    work = tmp_path_factory.mktemp("turns")
    for name, ids in (("train", train_ids), ("test", test_ids)):
        keep = [json.dumps(r) for r in rows if str(r["dialog_id"]) in ids]
        (work / f"{name}.jsonl").write_text("\n".join(keep) + "\n")
    mp = pytest.MonkeyPatch()
    mp.setenv("RECOCHAT_CACHE_DIR", str(MODEL_CACHE))
    try:
        code = main(
            [
                "eval",
                "turns",
                "--catalog",
                str(catalog),
                "--preset",
                "redial",
                "--train",
                str(work / "train.jsonl"),
                "--turns",
                str(work / "test.jsonl"),
                "--cold-items",
                "0.2",
                "--folds",
                "3",
                "--no-ablations",
                "--out",
                str(work / "out"),
            ]
        )
    finally:
        mp.undo()
    assert code == 0
    return json.loads((work / "out" / "report.json").read_text()), work / "out"


def _rows(report, scope: str, subset: str = "all") -> dict:
    return {(r["protocol"], r["ranker"]): r for r in report["scopes"][scope][subset]}


def test_the_held_out_turns_are_ranked_next_to_the_cross_validation(report):
    data, out = report
    stats = data["stats"]
    assert stats["held_out"] and stats["test"]["dialogs"] == TEST_DIALOGS
    held = _rows(data, "held-out")
    assert held[("standard", "fused")]["samples"] == stats["test"]["samples"]
    cv = _rows(data, "cross-validated")
    assert cv[("standard", "fused")]["samples"] == stats["train"]["samples"]
    text = (out / "report.md").read_text()
    assert "held-out turns" in text and "Cross-validated" in text


def test_every_protocol_row_has_an_interval_and_the_baselines_behave(report):
    data, _ = report
    for scope in ("cross-validated", "held-out"):
        rows = _rows(data, scope)
        assert {p for p, _ in rows} == {"standard", "excluded", "dropped"}
        for row in rows.values():
            for f in row["figures"].values():
                assert f["low"] <= f["value"] <= f["high"] and f["se"] >= 0
        # repeating the context recommends only mentioned items: nothing once they are
        # excluded, and something when a gold item was already named
        assert rows[("excluded", "repeat the context")]["figures"]["R@50"]["value"] == 0
        assert rows[("dropped", "repeat the context")]["figures"]["R@50"]["value"] == 0
        assert rows[("standard", "repeat the context")]["figures"]["R@1"]["value"] > 0
        assert rows[("dropped", "fused")]["samples"] < rows[("excluded", "fused")]["samples"]
        # merging the context's items changes the standard protocol only
        merged = "fused, the context's items merged by their odds"
        for protocol in ("excluded", "dropped"):
            assert rows[(protocol, merged)]["figures"] == rows[(protocol, "fused")]["figures"]
        assert rows[("standard", merged)]["samples"] == rows[("standard", "fused")]["samples"]


def test_the_fusion_beats_popularity_on_both_sides(report):
    data, _ = report
    for scope in ("cross-validated", "held-out"):
        rows = _rows(data, scope)
        fused = rows[("excluded", "fused")]["figures"]
        popular = rows[("excluded", "popularity")]["figures"]
        assert fused["R@50"]["value"] > 1.5 * popular["R@50"]["value"]
        assert fused["R@10"]["value"] >= 0.08


def test_cold_items_have_their_own_rows(report):
    data, _ = report
    assert data["stats"]["cold_items"] > 1000
    cold = _rows(data, "cross-validated", "cold items (held out of training)")
    warm = _rows(data, "cross-validated", "warm items")
    total = _rows(data, "cross-validated")
    for protocol in ("standard", "excluded"):
        key = (protocol, "fused")
        assert cold[key]["samples"] + warm[key]["samples"] == total[key]["samples"]
        assert cold[key]["samples"] > 0
