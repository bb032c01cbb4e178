"""End to end for the learning recommender, with the real MiniLM embedder and
the shared data: import a MovieLens slice, train, recommend with feedback and
see the next recommendations follow it; the ReDial protocol on a fixed subset
of dev turns with a floor."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest
from conftest import shared_file

from chat.cli import main

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


def open_recommender():
    from chat.app import App
    from chat.config import load_settings

    app = App.open(load_settings())
    return app, app.recommender


def test_training_wrote_every_artifact(env):
    names = {p.name for p in (env / "home" / "artifacts").iterdir()}
    assert {"item_knn", "ease", "sasrec", "popularity", "fusion"} <= names


def test_recommendations_follow_feedback(env):
    app, rec = open_recommender()
    try:
        assert {"co_interaction", "cf", "sequence"} <= set(rec.channel_names)
        by_title = {m["title"]: i for i, m in app.store.all_metas().items()}
        liked = by_title["Toy Story (1995)"]
        before = rec.recommend(rec.query("a movie for tonight"), 10, key="e2e")
        # the user likes Toy Story and dislikes everything shown first
        rec.feedback("e2e", liked, "like")
        for item in before:
            rec.feedback("e2e", item.id, "dislike")
        q = rec.query("a movie for tonight")
        q.filter.exclude_ids = {liked}
        after = rec.recommend(q, 10, key="e2e")
        shown_after = [i.id for i in after]
        assert not set(shown_after) & {i.id for i in before}, "disliked items came back"
        # what people who watched Toy Story also watched now leads the list, and the
        # list turns towards animation (Toy Story's genre the vague request lacked)
        co_before = np.mean([i.features.get("co_interaction", 0.0) for i in before])
        co_after = np.mean([i.features.get("co_interaction", 0.0) for i in after])
        assert co_after > max(0.2, 2 * co_before)

        def animated(items):
            return np.mean(["animation" in (i.meta.get("genres") or []) for i in items])

        assert animated(after) >= 0.2 and animated(after) > animated(before)
        assert any(i.contributions.get("co_interaction", 0) > 0 for i in after)
        # the state is persisted: a new process would pick it up
        state = rec.interactions.load_online("e2e")
        assert liked in state["profile"]["liked"] and state["version"] == 1
    finally:
        app.close()


def test_a_corrupt_artifact_is_skipped_with_a_warning(env):
    arrays = env / "home" / "artifacts" / "sasrec" / "arrays.npz"
    good = arrays.read_bytes()
    arrays.write_bytes(good[:100])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            app, rec = open_recommender()
        try:
            assert "sequence" not in rec.channel_names
            assert any("sasrec" in str(w.message) for w in caught)
            assert rec.recommend(rec.query("a funny movie"), 5)  # still recommends
        finally:
            app.close()
    finally:
        arrays.write_bytes(good)


def test_redial_protocol_on_a_fixed_subset_beats_popularity(tmp_path, monkeypatch):
    from conftest import MODEL_CACHE

    shared_file("redial/dev_turns.jsonl")
    monkeypatch.setenv("RECOCHAT_CACHE_DIR", str(MODEL_CACHE))
    out = tmp_path / "redial"
    code = main(
        [
            "eval",
            "redial",
            "--limit-dialogs",
            "150",
            "--no-movielens",
            "--no-ablations",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads((out / "redial.json").read_text())["excluding_mentioned"]
    fused, popular = report["fused (all signals)"], report["popularity (baseline)"]
    assert fused["samples"] > 400
    assert fused["R@10"] >= 0.10 and fused["R@50"] >= 0.22
    assert fused["R@10"] > popular["R@10"] and fused["R@50"] > popular["R@50"]
