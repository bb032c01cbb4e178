"""End to end for the learning recommender, with the real MiniLM embedder and
the shared data: import a MovieLens slice, train, recommend with feedback and
see the next recommendations follow it (the turns protocol: test_eval_turns.py)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import shared_file
from helpers.learn import assert_corrupt_artifact_is_skipped

from chat.frontends.cli import main

pytestmark = pytest.mark.e2e
CATALOG_ITEMS = 400
USERS = 150


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory):
    catalog_src = shared_file("redial/catalog.jsonl")
    ratings_src = shared_file("movielens/ratings.csv")
    work = tmp_path_factory.mktemp("learn")
    rows = [json.loads(line) for line in catalog_src.read_text().splitlines()]
    rows = sorted((r for r in rows if r.get("ml_movieId")), key=lambda r: -r["ml_num_ratings"])
    catalog = work / "catalog.jsonl"
    catalog.write_text("\n".join(json.dumps(r) for r in rows[:CATALOG_ITEMS]) + "\n")
    ratings = work / "ratings.csv"
    with open(ratings_src) as f, open(ratings, "w", newline="") as out:
        reader = csv.DictReader(f)
        writer = csv.DictWriter(out, reader.fieldnames)
        writer.writeheader()
        writer.writerows(r for r in reader if int(r["userId"]) <= USERS)
    return work, catalog, ratings


@pytest.fixture(scope="module")
def env(trained_home):
    from conftest import MODEL_CACHE

    work, catalog, ratings = trained_home
    mp = pytest.MonkeyPatch()
    mp.setenv("RECOCHAT_HOME", str(work / "home"))
    mp.setenv("RECOCHAT_CACHE_DIR", str(MODEL_CACHE))
    mp.setenv("RECOCHAT_EMBEDDER", "minilm")
    assert main(["ingest", str(catalog), "--preset", "redial"]) == 0
    assert main(["train"]) == 2  # empty interaction log: refused, nothing written
    assert not (work / "home" / "artifacts" / "item_knn").exists()
    args = ["--user", "userId", "--item", "movieId", "--value", "rating", "--ts", "timestamp"]
    assert (
        main(["interactions", "import", str(ratings), *args, "--catalog-field", "ml_movieId"]) == 0
    )
    assert main(["train", "--epochs", "3"]) == 0
    yield work
    mp.undo()


def open_app():
    """The real App (MiniLM, Chroma, SQLite, the trained artifacts); the scripted LLM
    writes the copy, since these tests are about what is recommended."""
    from chat.app import App
    from chat.config import load_settings
    from chat.llm import ScriptedLLM

    return App.open(load_settings(turn={"recommend_k": 5}), llm=ScriptedLLM())


def cards_of(session, text):
    """Cards of the first recommendation, saying "just show me" to any question."""
    from chat.events import ItemsShown

    for message in (text, "just show me some"):
        shown = [e for e in session.turn(message) if isinstance(e, ItemsShown)]
        if shown:
            return shown[0].items
    raise AssertionError(f"no recommendation for {text!r}")


def test_training_wrote_every_artifact(env):
    names = {p.name for p in (env / "home" / "artifacts").iterdir()}
    assert {"item_knn", "ease", "sasrec", "popularity", "fusion"} <= names


def test_a_chat_follows_its_feedback_at_once(env):
    app = open_app()
    try:
        assert {"co_interaction", "cf", "sequence"} <= set(app.recommender.channel_names)
        by_title = {m["title"]: i for i, m in app.store.all_metas().items()}
        liked = by_title["Toy Story (1995)"]

        def animated(cards):
            return np.mean(
                ["animation" in (app.store.get(c.id).get("genres") or []) for c in cards]
            )

        session = app.session()
        before = cards_of(session, "a movie for tonight")
        # the user likes Toy Story and dislikes everything shown first (the buttons)
        session.feedback(liked, "like")
        for c in before:
            session.feedback(c.id, "dislike")
        after = cards_of(session, "another movie for tonight")
        control = cards_of(app.session(), "another movie for tonight")  # no feedback

        ids = [c.id for c in after]
        assert not set(ids) & {c.id for c in before}, "disliked items came back"
        assert liked not in ids
        # what people who watched Toy Story also watched now leads, the explanation says
        # so, and the list turns towards animation (the genre the vague request lacked)
        people = [r for c in after for r in c.reasons if r["signal"] == "people"]
        assert people and any("Toy Story (1995)" in r["detail"] for r in people), people
        assert animated(after) >= 0.4 and animated(after) > animated(control)
        assert [c.id for c in control] != ids
        # the online learner and the interaction store have it, persisted
        online = app.recommender.interactions.load_online(session.id)
        assert online["version"] == 1 and online["profile"]["liked"] == [liked]
        assert set(online["profile"]["disliked"]) == {c.id for c in before}
        logged = {
            (e.item_id, e.kind)
            for e in app.recommender.interactions.events()
            if e.source == "chat" and e.session_id == session.id
        }
        assert (liked, "like") in logged and {(c.id, "dislike") for c in before} <= logged
        sid = session.id
    finally:
        app.close()

    app = open_app()  # a restarted server resumes the session with what it learned
    try:
        resumed = app.session(sid)
        again = cards_of(resumed, "one more for tonight")
        assert not {c.id for c in again} & {c.id for c in before}
        assert animated(again) >= 0.4
    finally:
        app.close()


def test_a_corrupt_artifact_is_skipped_with_a_warning(env):
    arrays = env / "home" / "artifacts" / "sasrec" / "arrays.npz"
    assert_corrupt_artifact_is_skipped(arrays, "sequence", "sasrec")
