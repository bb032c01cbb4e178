"""The interaction log: file import with column and id mapping, bad input
counted by reason, `recochat interactions` and `recochat train` on bad data."""

from __future__ import annotations

import json

import pytest

from chat.frontends.cli import main
from chat.persist.interactions import ImportMapping, InteractionError, InteractionStore
from chat.persist.sqlite import SqliteDatabase

CATALOG = {
    "m1": {"title": "One", "ml_movieId": "10"},
    "m2": {"title": "Two", "ml_movieId": "20"},
    "m3": {"title": "Three", "ml_movieId": "30"},
    "m3b": {"title": "Three again", "ml_movieId": "30"},  # a duplicate link
    "m4": {"title": "Four"},
}
ML = ImportMapping(
    user="userId", item="movieId", value="rating", ts="timestamp", catalog_field="ml_movieId"
)


@pytest.fixture
def store(tmp_path):
    db = SqliteDatabase(tmp_path / "r.sqlite3")
    yield InteractionStore(db)
    db.close()


def write_csv(path, rows):
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    return path


def test_import_maps_ids_and_counts_every_skip_reason(store, tmp_path):
    path = write_csv(
        tmp_path / "r.csv",
        [
            "1,10,4.0,100",
            "1,20,3.5,50",  # older than the previous row of user 1: kept, counted
            "1,10,4.0,100",  # duplicate
            "2,99,5.0,10",  # unknown item
            ",10,4.0,10",  # no user
            "3,30,great,10",  # value not a number
            "3,30,4.0,yesterday",  # bad timestamp
            "4,30,2.0,2024-01-02T03:04:05",  # ISO time is fine
        ],
    )
    report = store.import_file(path, ML, CATALOG)
    assert report.read == 8 and report.added == 3
    assert report.duplicates == 1 and report.unknown_items == 1
    assert report.out_of_order == 1 and report.ambiguous_ids == 1
    assert sum(report.bad.values()) == 3 and report.skipped == 5
    text = "\n".join(report.lines())
    assert "missing user ('userId'): 1" in text and "is not a number" in text
    events = store.events()
    assert [(e.user_id, e.item_id) for e in events if e.user_id == "1"] == [
        ("1", "m2"),
        ("1", "m1"),
    ]  # per user in time order, whatever the file order
    assert {e.item_id for e in events if e.user_id == "4"} == {"m3"}  # first of the duplicate link


def test_reimport_is_idempotent(store, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["1,10,4.0,100", "2,20,4.0,100"])
    assert store.import_file(path, ML, CATALOG).added == 2
    again = store.import_file(path, ML, CATALOG)
    assert again.added == 0 and again.duplicates == 2 and store.count() == 2


def test_jsonl_with_kinds_and_plain_ids(store, tmp_path):
    path = tmp_path / "e.jsonl"
    rows = [
        {"u": "a", "i": "m1", "k": "like"},
        {"u": "a", "i": "m2", "k": "teleport"},
        "not an object",
        {"u": "b", "i": "m4", "k": "CLICK"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = store.import_file(path, ImportMapping(user="u", item="i", kind="k"), CATALOG)
    assert report.added == 2
    assert report.bad["not a JSON object"] == 1
    assert any("unknown kind" in r for r in report.bad)
    assert {e.kind for e in store.events()} == {"like", "click"}


def test_unusable_mapping_or_file_says_what_to_do(store, tmp_path):
    with pytest.raises(InteractionError, match="--catalog-field"):
        store.import_file(
            write_csv(tmp_path / "r.csv", []), ImportMapping(catalog_field="nope"), CATALOG
        )
    with pytest.raises(InteractionError, match="not found"):
        store.import_file(tmp_path / "missing.csv", ML, CATALOG)
    with pytest.raises(InteractionError, match=r"\.csv or \.jsonl"):
        store.import_file(tmp_path / "r.parquet", ML, CATALOG)


def test_empty_store(store):
    assert store.count() == 0 and store.events() == []
    assert store.stats()["events"] == 0


def test_online_state_round_trip(store):
    assert store.load_online("s1") is None
    store.save_online("s1", {"version": 1, "x": [1]})
    store.save_online("s1", {"version": 1, "x": [2]})
    assert store.load_online("s1") == {"version": 1, "x": [2]}


def test_cli_import_stats_and_train_refusal(app, tmp_path, capsys, monkeypatch):
    """Over the small shop catalog: import, stats, and a refused train."""
    app.close()  # the CLI opens the data directory itself
    monkeypatch.setenv("RECOCHAT_EMBEDDER", "hash")
    path = tmp_path / "shop.csv"
    path.write_text("user,item,ts\nu1,a1,1\nu1,a2,2\nu2,zz,3\nu2,a1,4\n")
    assert (
        main(
            [
                "interactions",
                "import",
                str(path),
                "--user",
                "user",
                "--item",
                "item",
                "--ts",
                "ts",
                "--default-kind",
                "click",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "3 events added" in out and "unknown item ids (not in the catalog): 1" in out
    assert main(["interactions", "stats"]) == 0
    assert "users: 2" in capsys.readouterr().out
    assert main(["train"]) == 2
    err = capsys.readouterr().err
    assert "Too little interaction data" in err and "nothing was written" in err


def test_a_fresh_install_recommends_without_warnings(app, recwarn):
    from retrieval.ranking.serving import ArtifactWarning

    rec = app.recommender  # nothing trained yet: normal, not worth a warning
    assert not [w for w in recwarn if issubclass(w.category, ArtifactWarning)]
    assert rec.channel_names == ["dense", "content", "shared_facets", "popular"]
    first = rec.recommend(rec.query("a waterproof tent for camping"), 3, key="s")
    assert first and first[0].title == "Trail Tent 2P"
    assert "semantic" in first[0].contributions
    rec.feedback("s", first[0].id, "like")
    state = rec.interactions.load_online("s")
    assert state["profile"]["liked"] == [first[0].id] and state["last_arm"]


def test_train_with_single_event_users_then_degrade_on_a_corrupt_artifact(app):
    from chat.learn.training import TrainConfig, train
    from chat.persist.interactions import Interaction
    from retrieval.models.sequence import SASRecConfig
    from retrieval.ranking.serving import ArtifactWarning, Recommender

    store = InteractionStore(app.db)
    ids = sorted(app.store.all_metas())
    events = [Interaction(f"solo{n}", ids[n % len(ids)], "view", None, 1.0) for n in range(10)]
    for u in range(30):  # pairs that always go together: a1→a2, a3→a4 …
        first = ids[(2 * u) % len(ids)]
        second = ids[(2 * u + 1) % len(ids)]
        events += [Interaction(f"u{u}", first, "click", None, 1.0)]
        events += [Interaction(f"u{u}", second, "like", None, 2.0)]
        events += [Interaction(f"u{u}", second, "view", None, 2.5)]  # a repeat: one cell
        events += [Interaction(f"u{u}", ids[(2 * u + 2) % len(ids)], "dislike", None, 3.0)]
    assert store.add(events) == len(events)
    cfg = TrainConfig(
        min_events=20,
        min_users=5,
        min_items=4,
        min_sequence_users=2,
        sasrec=SASRecConfig(dim=16, layers=1, epochs=2, max_len=5),
    )
    report = train(store, app.store, app.home.artifacts, cfg)
    assert {"item_knn", "ease", "popularity", "sasrec"} <= set(report.built)
    assert report.built["item_knn"]["users"] == 40  # dislikes are not positives
    rec = Recommender.build(app.store, store, app.home.artifacts)
    assert {"co_interaction", "cf", "sequence"} <= set(rec.channel_names)
    got = rec.recommend(rec.query(liked=[ids[0]]), 3)
    assert got[0].id == ids[1] and got[0].contributions["co_interaction"] > 0

    (app.home.artifacts / "item_knn" / "manifest.json").write_text("{broken")
    with pytest.warns(ArtifactWarning, match="item_knn.*corrupt"):
        rec = Recommender.build(app.store, store, app.home.artifacts)
    assert "co_interaction" not in rec.channel_names and rec.recommend(rec.query("tent"), 2)
