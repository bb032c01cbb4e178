"""The dialogue evaluation runner itself: the suite format, filter expressions,
item references, the report, and the command's exit code. Runs a small suite on
the demo catalog with the hash embedder and the scripted model (seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat.cli import main
from eval.dialogues import SuiteError, load_dialogues, resolve, satisfies

SUITE = """
catalog: demo
dialogues:
  - name: tents under budget
    turns:
      - user: a waterproof tent for camping under $150
        expect:
          recommends: 3
          all_items_satisfy: "price <= 150 and category == 'outdoor'"
          copy_names_only_recommended: true
      - feedback: {item: "@1", kind: dislike}
      - user: something else
        expect: {none_of: ["@1.1"], recommends: true}
  - name: a failing expectation is reported, not raised
    turns:
      - user: hello
        expect: {act: recommend}
"""


def test_filter_expressions_are_safe_and_total():
    meta = {"price": 10.0, "tags": ["a", "b"], "category": "toys"}
    assert satisfies("price <= 10 and 'a' in tags and category == 'toys'", meta)
    assert satisfies("5 < price < 20", meta)
    assert not satisfies("'c' in tags or year >= 2000", meta)  # missing field: False
    assert satisfies("'x' not in tags", meta)
    with pytest.raises(SuiteError, match="Unsupported expression"):
        satisfies("__import__('os')", meta)


def test_item_references():
    lists = [["a", "b", "c"], [], ["d", "e"]]
    assert resolve("@1", lists) == "d"  # the last list that showed something
    assert resolve("@1.2", lists) == "b"
    assert resolve("x-7", lists) == "x-7"
    assert resolve("@9", lists).startswith("(nothing")


def test_a_malformed_suite_says_where_and_what(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "catalog: demo\ndialogues:\n  - name: d\n    turns:\n      - user: hi\n        expect: {recomends: 3}\n"
    )
    with pytest.raises(
        SuiteError, match=r"bad.yaml: dialogue 'd': unknown assertion \['recomends'\]"
    ):
        load_dialogues(tmp_path)
    (tmp_path / "bad.yaml").write_text(
        "catalog: demo\ndialogues:\n  - name: d\n    turns:\n      - user: yes\n"
    )
    with pytest.raises(SuiteError, match="quote it"):
        load_dialogues(tmp_path)


def test_the_shipped_suites_load_and_cover_both_catalogs():
    dialogues = load_dialogues(Path(__file__).parents[1] / "eval" / "dialogues")
    demo = [d for d in dialogues if d.catalog == "demo"]
    redial = [d for d in dialogues if d.catalog == "redial"]
    assert len(demo) >= 40 and len(redial) >= 20
    covered = {c for d in dialogues for c in d.covers}
    assert {
        "policy",
        "negation",
        "ranges",
        "references",
        "feedback",
        "no-match",
        "bad-input",
        "language",
        "typos",
        "contradiction",
        "adversarial",
        "new-topic",
        "reset",
    } <= covered


def test_the_command_runs_a_suite_and_writes_the_report(home, tmp_path, capsys):
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "s.yaml").write_text(SUITE)
    out = tmp_path / "out"
    code = main(
        [
            "eval",
            "dialogues",
            str(suites),
            "--model",
            "scripted",
            "--embedder",
            "hash",
            "--out",
            str(out),
            "--threshold",
            "0.95",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 1  # one of six assertions fails: below the 95% threshold
    report = json.loads((out / "report.json").read_text())
    s = report["summary"]
    assert s["assertions"] == 6 and s["assertions_passed"] == 5
    assert s["per_assertion"]["act"] == {"passed": 0, "total": 1, "rate": 0.0}
    assert s["hallucinated_items"] == 0 and s["constraint_satisfaction"] == 1.0
    assert s["disliked_or_seen_repeated"] == 0
    assert {"state", "recall", "rank", "total"} <= set(s["latency_s"])
    assert "FAIL" in printed and "PASS" in printed and "assertion" in printed
    md = (out / "report.md").read_text()
    assert "| act | 0 | 1 | 0.0% |" in md and "t1 act (act=smalltalk)" in md
    assert (
        main(
            [
                "eval",
                "dialogues",
                str(suites),
                "--model",
                "scripted",
                "--embedder",
                "hash",
                "--out",
                str(out),
                "--threshold",
                "0.5",
            ]
        )
        == 0
    )
