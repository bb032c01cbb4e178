"""Scripted dialogue evaluation: YAML suites of user turns with assertions, run
against a real App (store, tracker, policy, LLM), with a report per dialogue
and per assertion type, and the figures that matter for a recommender that
talks: hallucinated items, constraint satisfaction, disliked/seen items shown
again, questions before the first recommendation, latency per stage.

A suite file:

    catalog: demo                     # demo | redial | opendialkg
    dialogues:
      - name: a specific request is recommended at once
        turns:
          - user: a waterproof tent for camping under $150
            expect:
              recommends: 3
              all_items_satisfy: "price <= 150 and 'tent' in tags"
              copy_names_only_recommended: true
          - feedback: {item: "@2", kind: dislike}   # a card button; @2 = item 2 shown last
          - user: something else
            expect: {none_of: ["@1.2"]}           # item 2 shown at turn 1

`run_command` is `recochat eval dialogues DIR`; the assertions are checked in
checks.py, item expressions evaluated in expressions.py, the report is report.py.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chat import ChatError
from eval.offline.data import item_vectors
from eval.scripted import CATALOGS
from eval.scripted.checks import check_turn, observe, settle_later_turns
from eval.scripted.expressions import SuiteError, resolve

ASSERTIONS = {
    "asks_question": "the assistant asks a question (true) or does not (false)",
    "asked_facet": "the question is about this facet (or one of a list)",
    "recommends": "number of items shown: N, '>=N', true (some) or false (none)",
    "all_items_satisfy": "a filter expression every shown item satisfies "
    "(at('@1.2', 'price') is a field of an item shown before)",
    "none_of": "none of these items (ids, @N, @T.N) is shown",
    "contains": "all of these items are shown",
    "contains_any": "at least one of these items is shown",
    "copy_names_only_recommended": "the reply names no catalog item except the shown ones",
    "copy_cites_a_true_reason": "the reply names a shown item and one of its real reasons",
    "language": "the reply is in this language (en | zh)",
    "max_latency_s": "the turn completes within this many seconds",
    "reply_contains": "the reply contains this text (or one of a list), case-insensitive",
    "reply_lacks": "the reply contains none of these texts",
    "error": "the message is refused with this error code",
    "act": "the policy's act (recommend, ask, answer, no_match, smalltalk, refuse …)",
    "intent": "the intent read from the message",
    "state": "the dialogue state holds these values (a subset)",
    "state_unchanged": "the dialogue state is exactly as before the message",
    "shown_satisfy": "a filter expression every shown item satisfies; nothing shown passes "
    "only as an honest no-match (act no_match)",
    "reply_states": "the reply states this field of this item: {item: '@1.3', field: price} "
    "(or a list of them)",
    "never_shown_again": "these items (ids, @N, @T.N) are not shown in this turn or any later one",
    "ordered_by": "the shown items are in this order of a field: 'price' (lowest first) "
    "or '-rating' (highest first)",
    "no_invented_names": "every capitalised name in the reply is in the shown items' records, "
    "the user's words or the catalog's titles",
}


@dataclass
class Turn:
    user: str | None = None
    feedback: dict[str, str] | None = None
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass
class Dialogue:
    name: str
    catalog: str
    turns: list[Turn]
    covers: list[str] = field(default_factory=list)
    file: str = ""


def load_dialogues(path: str | Path) -> list[Dialogue]:
    path = Path(path)
    files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise SuiteError(f"No .yaml dialogue suites under {path}.")
    out = []
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        catalog = data.get("catalog")
        if catalog not in CATALOGS:
            raise SuiteError(
                f"{file}: 'catalog' must be one of {', '.join(CATALOGS)}, got {catalog!r}."
            )
        for i, d in enumerate(data.get("dialogues") or []):
            name = d.get("name") or f"{file.stem} #{i + 1}"
            turns = []
            for t in d.get("turns") or []:
                expect = t.get("expect") or {}
                unknown = set(expect) - set(ASSERTIONS)
                if unknown:
                    raise SuiteError(
                        f"{file}: dialogue '{name}': unknown assertion {sorted(unknown)}; "
                        f"use some of: {', '.join(ASSERTIONS)}."
                    )
                if ("user" in t) == ("feedback" in t):
                    raise SuiteError(
                        f"{file}: dialogue '{name}': each turn needs 'user' or 'feedback'."
                    )
                user = t.get("user")
                if "user" in t and not isinstance(user, str):
                    raise SuiteError(
                        f"{file}: dialogue '{name}': user text {user!r} is not a string; quote it."
                    )
                turns.append(Turn(user, t.get("feedback"), expect))
            out.append(Dialogue(name, catalog, turns, list(d.get("covers") or []), file.name))
    return out


# --- the catalogs and the app a suite runs against ------------------------------------


def catalog_source(catalog: str) -> tuple[str, str]:
    """(file, field-map preset) of a catalog name."""
    import retrieval

    if catalog == "demo":
        return retrieval.demo_catalog_path(), "shop"
    folder, name = {"redial": ("redial", "ReDial"), "opendialkg": ("opendialkg", "OpenDialKG")}[
        catalog
    ]
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / folder / "catalog.jsonl"
    if not path.is_file():
        raise SuiteError(
            f"The {name} catalog is not at {path}; it comes from ../shared/data (see DESIGN.md)."
        )
    return str(path), catalog


def open_app(catalog: str, home: str | Path, *, model: str | None = None, embedder: str = "minilm"):
    """An App over `catalog` in data directory `home` (ingested unless already there)."""
    from chat import App, load_settings
    from retrieval import PRESETS, load_catalog

    app = App.open(load_settings(home=str(home), llm=model, embedder=embedder))
    try:
        path, preset = catalog_source(catalog)
        items = load_catalog(path, PRESETS[preset]).items
        if app.store.count() != len(items):
            with cached_vectors(app.store, items, Path(app.settings.cache_dir) / "eval"):
                app.store.upsert(items, sync=True)
            app.refresh()
    except BaseException:
        app.close()
        raise
    return app


class _KnownVectors:
    """The store's embedder, answering item texts from vectors computed before."""

    def __init__(self, embedder, known: dict[str, Any]):
        self.embedder, self.known = embedder, known
        self.spec, self.dim = embedder.spec, embedder.dim

    def embed(self, texts: list[str]):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.stack([self.known[t] for t in texts])


@contextmanager
def cached_vectors(store, items, cache: Path):
    """Ingest with item vectors kept in the cache directory (eval.offline.data.
    item_vectors), so a suite run (and `make test`) embeds a catalog once per
    machine rather than once per run. Chat-time queries use the real embedder,
    as in production."""
    texts = [it.text for it in items]
    vectors = item_vectors(texts, store.embedder.spec, cache, store.embedder.embed)
    real = store.embedder
    store.embedder = _KnownVectors(real, dict(zip(texts, vectors, strict=True)))
    try:
        yield
    finally:
        store.embedder = real


def run_dialogue(app, dialogue: Dialogue) -> list[dict[str, Any]]:
    session = app.session()
    lists: list[list[str]] = []  # items shown, per user turn
    records = []
    for number, turn in enumerate(dialogue.turns, 1):
        before = session.state.copy()
        started = time.perf_counter()
        if turn.feedback is not None:
            events, error = [], None
            try:
                item = resolve(turn.feedback.get("item", ""), lists)
                session.feedback(item, turn.feedback.get("kind", ""))
            except ChatError as e:
                error = "invalid_feedback"
                record_message = str(e)
            record = {"turn": number, "feedback": turn.feedback, "error": error, "latency_s": 0.0}
            if error:
                record["reply"] = record_message
        else:
            events = list(session.turn(turn.user))
            record = observe(app, session, events, before, turn.user)
            record["turn"] = number
            record["latency_s"] = round(time.perf_counter() - started, 3)
        lists.append(record.get("shown", []))
        record["assertions"] = check_turn(app, session, turn.expect, record, before, lists)
        records.append(record)
    settle_later_turns(records)
    return records


def run_suites(
    dialogues: list[Dialogue],
    *,
    model: str | None = None,
    embedder: str = "minilm",
    home: str | Path | None = None,
    progress=lambda line: print(line, flush=True),
) -> list[dict[str, Any]]:
    """Run every dialogue, ingesting each catalog once; returns one record per dialogue."""
    results = []
    for catalog in sorted({d.catalog for d in dialogues}):
        todo = [d for d in dialogues if d.catalog == catalog]
        with tempfile.TemporaryDirectory(prefix=f"recochat-eval-{catalog}-") as tmp:
            where = Path(home) / catalog if home else Path(tmp)
            app = open_app(catalog, where, model=model, embedder=embedder)
            try:
                app.llm.load()
                for d in todo:
                    started = time.perf_counter()
                    turns = run_dialogue(app, d)
                    checks = [a for t in turns for a in t["assertions"]]
                    passed = sum(a["passed"] for a in checks)
                    results.append(
                        {
                            "name": d.name,
                            "catalog": catalog,
                            "file": d.file,
                            "covers": d.covers,
                            "turns": turns,
                            "passed": passed,
                            "total": len(checks),
                            "seconds": round(time.perf_counter() - started, 2),
                        }
                    )
                    progress(
                        f"  {'PASS' if passed == len(checks) else 'FAIL'} {passed}/{len(checks)}  "
                        f"[{catalog}] {d.name}"
                    )
            finally:
                app.close()
    return results


def run_command(args) -> int:
    from eval.scripted.report import summarize, write_report

    dialogues = load_dialogues(args.dir)
    if args.catalog:
        dialogues = [d for d in dialogues if d.catalog == args.catalog]
    if args.only:  # "a|b": dialogues whose name contains a or b
        wanted = [w.strip().lower() for w in args.only.split("|") if w.strip()]
        dialogues = [d for d in dialogues if any(w in d.name.lower() for w in wanted)]
    if not dialogues:
        print("No dialogues to run (check DIR, --catalog and --only).", file=sys.stderr)
        return 2
    model = args.model
    print(
        f"Running {len(dialogues)} dialogues with model {model or '(from settings)'} …", flush=True
    )
    started = time.perf_counter()
    results = run_suites(dialogues, model=model, embedder=args.embedder, home=args.home)
    machine = {
        "cpus": os.cpu_count(),
        # other work on the machine inflates the latency figures: say how busy it was
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "run_seconds": round(time.perf_counter() - started, 1),
    }
    summary = summarize(results, model=model, machine=machine)
    paths = write_report(summary, results, Path(args.out))
    print(summary["text"])
    print(f"Report: {paths[0]} and {paths[1]}")
    rate = summary["pass_rate"]
    if rate < args.threshold:
        print(f"Pass rate {rate:.1%} is below the threshold {args.threshold:.0%}.", file=sys.stderr)
        return 1
    return 0
