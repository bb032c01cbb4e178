"""The dialogue evaluation runner itself: the suite format, filter expressions,
item references, the report, and the command's exit code. Runs a small suite on
the demo catalog with the hash embedder and the scripted model (seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat.frontends.cli import main
from eval.scripted import CATALOGS
from eval.scripted.expressions import SuiteError, resolve, satisfies
from eval.scripted.runner import load_dialogues

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
      - user: thanks
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


def test_a_filter_may_compare_with_an_item_shown_before():
    shown = {("@1.2", "price"): 20.0}
    lookup = lambda ref, name: shown.get((ref, name))  # noqa: E731
    assert satisfies("price < at('@1.2', 'price')", {"price": 10.0}, lookup)
    assert not satisfies("price < at('@1.2', 'price')", {"price": 30.0}, lookup)
    assert not satisfies("price < at('@1.3', 'price')", {"price": 10.0}, lookup)  # None
    with pytest.raises(SuiteError, match="needs the items shown"):
        satisfies("price < at('@1.2', 'price')", {"price": 10.0})
    with pytest.raises(SuiteError, match="Unsupported expression"):
        satisfies("price < at(x, 'price')", {"price": 10.0}, lookup)


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


def test_the_shipped_suites_load_and_cover_every_catalog():
    dialogues = load_dialogues(Path(__file__).parents[2] / "eval" / "dialogues")
    demo = [d for d in dialogues if d.catalog == "demo"]
    redial = [d for d in dialogues if d.catalog == "redial"]
    assert len(demo) >= 40 and len(redial) >= 20
    assert {d.catalog for d in dialogues} == set(CATALOGS)
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

    def run(*extra: str) -> int:
        args = ["eval", "dialogues", str(suites), "--model", "scripted", "--embedder", "hash"]
        return main([*args, "--out", str(out), *extra])

    code = run("--threshold", "0.95")
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
    assert "| act | 0 | 1 | 0.0% |" in md and "t1 act (act=smalltalk)" in md  # thanks: small talk
    assert run("--threshold", "0.5") == 0
    # every suite catalog can be chosen; this suite is a demo one, so nothing runs
    assert run("--catalog", "opendialkg") == 2
    assert "No dialogues to run" in capsys.readouterr().err


def _turn(act, *, shown=(), timings=None, passed=True, **extra):
    return {
        "act": act,
        "shown": list(shown),
        "timings": timings or {},
        "assertions": [{"type": "act", "passed": passed, "detail": ""}],
        **extra,
    }


def test_the_summary_gives_the_figures_the_evaluation_promises():
    from eval.scripted.report import summarize

    ask = {"state": 0.01, "recall": 0.1, "total": 0.2}
    rec = {
        "state": 0.02,
        "recall": 0.3,
        "rank": 0.05,
        "llm_first_token": 0.4,
        "first_text": 0.6,
        "llm_total": 2.0,
        "total": 2.5,
    }
    results = [
        {  # two questions, then three items; one named in the copy was not chosen
            "name": "a",
            "catalog": "demo",
            "passed": 3,
            "total": 4,
            "turns": [
                _turn("ask", timings=ask),
                _turn("ask", timings=ask),
                _turn(
                    "recommend",
                    shown=["x", "y", "z"],
                    timings=rec,
                    named=["x", "q"],
                    hallucinated=["q"],
                    unsatisfied=["z"],
                    repeated=[],
                    copy={"source": "llm", "leads_with_top": True, "trimmed": True},
                ),
                _turn("recommend", shown=["w"], timings=rec, passed=False, repeated=["w"]),
            ],
        },
        {  # recommends at once; a smalltalk turn has no recall and no LLM
            "name": "b",
            "catalog": "redial",
            "passed": 2,
            "total": 2,
            "turns": [
                _turn(  # the LLM read this one (`reading_llm`), the others the rules alone
                    "smalltalk",
                    timings={"reading": 0.9, "reading_llm": 0.9, "state": 0.03, "total": 0.04},
                ),
                _turn(
                    "recommend",
                    shown=["v"],
                    timings=rec,
                    named=["v"],
                    copy={"source": "retry", "leads_with_top": None},  # names no card
                ),
            ],
        },
    ]
    s = summarize(results, model="m", machine={"cpus": 2, "load_average": [3.0, 2.0, 1.0]})
    assert s["per_assertion"]["act"] == {"passed": 5, "total": 6, "rate": 0.8333}
    assert s["per_catalog"]["demo"]["rate"] == 0.75 and s["per_catalog"]["redial"]["rate"] == 1.0
    assert s["hallucinated_items"] == 1 and s["hallucinated_item_rate"] == round(1 / 3, 4)
    assert s["items_shown"] == 5 and s["constraint_satisfaction"] == 0.8
    assert s["disliked_or_seen_repeated"] == 1
    assert s["mean_questions_before_first_recommendation"] == 1.0  # (2 + 0) / 2
    assert s["copy_sources"] == {"llm": 1, "retry": 1}
    assert s["copy_leads_with_top_card"] == {"top": 1, "none": 1} and s["lead_share"] == 0.5
    lat = s["latency_s"]
    assert lat["state"]["n"] == 6 and lat["recall"]["n"] == 5 and lat["llm_total"]["n"] == 3
    assert lat["rank"] == {"p50": 0.05, "p95": 0.05, "n": 3}
    assert lat["state"]["p50"] == 0.02 and lat["state"]["p95"] == 0.03
    assert lat["reading"]["n"] == lat["reading_llm"]["n"] == 1
    assert list(lat) == [
        "reading",
        "reading_llm",
        "state",
        "recall",
        "rank",
        "llm_first_token",
        "first_text",
        "llm_total",
        "total",
    ]
    for line in (
        "hallucinated-item rate: 33.3%",
        "constraint satisfaction: 80.0%",
        "disliked/seen items shown again: 1",
        "copy leads with the top card: 50.0% of 2 recommendation turns "
        "(0 name another card first, 1 name none)",
        "mean questions before the first recommendation: 1.0",
        "by the model 100.0% (first draft 50.0%); cut to the sentences before a wrong one: 1",
        "load average 3.0 2.0 1.0",
    ):
        assert line in s["text"]
    assert "llm_first_token" in s["text"] and "first_text" in s["text"]


def test_item_vectors_are_computed_once_per_machine(tmp_path):
    import numpy as np

    from eval.scripted.runner import cached_vectors

    class Counting:
        spec, dim = "count", 2

        def __init__(self):
            self.texts = 0

        def embed(self, texts):
            self.texts += len(texts)
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    class Item:
        def __init__(self, text):
            self.text = text

    class Store:
        embedder = Counting()

        def upsert(self, items):
            return self.embedder.embed([it.text for it in items])

    store, items = Store(), [Item("a"), Item("bb"), Item("ccc")]
    real = store.embedder
    with cached_vectors(store, items, tmp_path):
        first = store.upsert(items)
    assert real.texts == 3 and store.embedder is real
    with cached_vectors(store, items, tmp_path):
        again = store.upsert(items)
        assert store.embedder.embed(["new"]).shape == (1, 2)  # unknown text: embedded
    assert real.texts == 4 and np.array_equal(first, again)
    with cached_vectors(store, [*items, Item("dddd")], tmp_path):  # other texts, other key
        store.upsert(items)
    assert real.texts == 8


def test_the_offline_index_and_the_suites_share_one_vector_file(tmp_path, monkeypatch):
    """A catalog embedded for an offline evaluation is not embedded again for a
    dialogue suite (or a test) ingesting it, nor the other way round."""
    import numpy as np

    from eval.offline.data import load_index
    from eval.scripted.runner import cached_vectors
    from retrieval import PRESETS, load_catalog, make_embedder

    monkeypatch.setenv("RECOCHAT_CACHE_DIR", str(tmp_path))
    catalog = Path(__file__).parents[1] / "fixtures" / "shop_small.jsonl"
    index = load_index(catalog, "hash", "shop", progress=False)
    [saved] = (tmp_path / "eval").glob("item-vectors-*.npy")
    np.save(saved, np.asarray(index.vectors) * 0 + 7)  # marks the file: read, not recomputed

    class Store:
        embedder = make_embedder("hash")

        def upsert(self, items):
            return self.embedder.embed([it.text for it in items])

    store, items = Store(), load_catalog(catalog, PRESETS["shop"]).items
    with cached_vectors(store, items, tmp_path / "eval"):
        vectors = store.upsert(items)
    assert (vectors == 7).all() and len(list((tmp_path / "eval").glob("*.npy"))) == 1


def test_the_title_scan_counts_names_not_ordinary_words():
    from eval.scripted.checks import TitleScan

    scan = TitleScan(
        {
            "p": {"title": "The Perfect Match (2016)"},
            "a": {"title": "The American (2010)"},
            "s": {"title": "Sport Wireless Earbuds"},
            "m": {"title": "Monster (2003)"},
        }
    )
    assert scan.named("It is the perfect match for you, a monster of a film.") == {}
    assert set(scan.named("Try The Perfect Match or Monster.")) == {"the perfect match", "monster"}
    assert set(scan.named('I would pick "the perfect match".')) == {"the perfect match"}
    assert set(scan.named("the sport wireless earbuds are light")) == {"sport wireless earbuds"}
    assert set(scan.named("It tells how the American market grew.")) == {"the american"}


def test_a_short_or_common_title_the_user_writes_as_a_name_is_a_source_of_names():
    from eval.scripted.checks import TitleScan

    scan = TitleScan({"h": {"title": "Heat (1995)"}, "j": {"title": "Jaws (1975)"}})
    assert scan.named_short("remind me who is in Heat") == {"heat": {"h"}}
    assert scan.named_short("who directed Jaws?") == {"jaws": {"j"}}
    assert scan.named_short("Heat is on, any fan?") == {}  # a sentence's first word


def test_the_reading_counts_as_a_call_only_when_the_llm_was_asked():
    from chat import Done
    from eval.scripted.checks import _timings

    asked = Done("s", "", {"reading": 0.8, "total": 1.0}, {"reading": ["llm reading (x): y"]})
    alone = Done("s", "", {"reading": 0.0, "total": 0.1}, {"reading": ["a note of the rules"]})
    assert _timings(asked, asked.debug)["reading_llm"] == 0.8
    assert "reading_llm" not in _timings(alone, alone.debug)
