"""The storage contract, run over both implementations: SQLite (embedded, fast)
and PostgreSQL (a real throw-away cluster, marked e2e). Every part that moved
behind the interface is exercised through its ordinary user: sessions and turns,
feedback, interactions and online state, API keys, conversations, counters,
artifacts' metadata, and a person's data export and deletion."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from helpers.locks import order_through

from chat.frontends.api.context import Conversations, FeedbackAudit
from chat.frontends.api.keys import KeyStore
from chat.persist.connect import open_database
from chat.persist.database import MIGRATIONS, StoredMessage
from chat.persist.feedback import FeedbackLog
from chat.persist.interactions import Interaction, InteractionStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def db(request, tmp_path):
    if request.param == "sqlite":
        database = open_database(None, tmp_path / "r.sqlite3")
    else:
        pg = request.getfixturevalue("postgres")
        database = open_database(pg.fresh_database("t" + uuid.uuid4().hex[:12]), "")
    assert database.dialect == request.param
    yield database
    database.close()


def tables(db) -> list[str]:
    if db.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    return sorted(r[0] for r in db.execute(sql).fetchall())


def cells_mentioning(db, needles: list[str]) -> list[tuple[str, tuple]]:
    """Every row of every table with a cell that contains one of the needles."""
    found = []
    for table in tables(db):
        rows, _ = db.execute_named(f"SELECT * FROM {table}", ())
        for row in rows:
            if any(n in str(cell) for cell in row for n in needles):
                found.append((table, row))
    return found


def turn(text: str, reply: str) -> list[StoredMessage]:
    now = time.time()
    return [
        StoredMessage("user", text, [], {}, now),
        StoredMessage("assistant", reply, [{"id": "i1"}], {"k": 1}, now),
    ]


def test_schema_is_current_and_a_newer_one_is_refused(db, tmp_path):
    assert db.schema_version == len(MIGRATIONS)
    for table in ("sessions", "messages", "api_keys", "interactions", "online_state", "counters"):
        assert table in tables(db)
    if db.dialect == "sqlite":
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
        url = f"sqlite:///{db.path}"
    else:
        db.execute("INSERT INTO recochat_schema (version) VALUES (?)", (len(MIGRATIONS) + 1,))
        url = db.full_url
    with pytest.raises(Exception, match="newer recochat"):
        open_database(url, "")


@pytest.mark.e2e
def test_a_session_lock_excludes_another_process(postgres):
    """Two handles on one PostgreSQL (as two workers have): the second waits."""
    url = postgres.fresh_database("t" + uuid.uuid4().hex[:12])
    first, second = open_database(url, ""), open_database(url, "")
    others = []

    def another_session():  # is not held up
        with second.session_lock("s2"):
            others.append("s2")

    order = order_through(
        first.session_lock("s1"), second.session_lock("s1"), another_session, pause=0.5
    )
    assert order == ["first", "second"] and others == ["s2"]
    first.close()
    second.close()


@pytest.mark.e2e
def test_turns_holding_locks_do_not_starve_the_queries(postgres):
    """More turns at once than the query pool has connections (the server runs 16
    turn threads): each holds its session's lock and still reads and writes."""
    from concurrent.futures import ThreadPoolExecutor

    from chat.persist.postgres import POOL_SIZE

    db = open_database(postgres.fresh_database("t" + uuid.uuid4().hex[:12]), "")
    sids = [db.create_session() for _ in range(2 * POOL_SIZE)]
    barrier = threading.Barrier(len(sids), timeout=20)

    def turn(sid: str) -> dict:
        with db.session_lock(sid):
            barrier.wait()  # every lock is held at once
            db.save_turn(sid, {"turns": 1}, [])
            return db.load_state(sid)

    with ThreadPoolExecutor(len(sids)) as pool:
        assert list(pool.map(turn, sids)) == [{"turns": 1}] * len(sids)
    db.close()


def test_turns_are_stored_in_order_with_their_state(db):
    sid = db.create_session("u1")
    assert db.session_exists(sid) and not db.session_exists("nope")
    assert db.load_state(sid) == {}
    for n in range(3):
        db.save_turn(sid, {"turn": n}, turn(f"q{n}", f"a{n}"))
    history = db.history(sid)
    assert [m.content for m in history] == ["q0", "a0", "q1", "a1", "q2", "a2"]
    assert history[1].items == [{"id": "i1"}] and history[1].meta == {"k": 1}
    assert db.load_state(sid) == {"turn": 2}
    with pytest.raises(Exception, match="Unknown session"):
        db.load_state("nope")


def test_a_failed_turn_stores_nothing(db):
    sid = db.create_session()
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute("UPDATE sessions SET state_json = ? WHERE id = ?", ('{"x": 1}', sid))
        raise RuntimeError("crash mid-turn")
    assert db.load_state(sid) == {}


def test_feedback_interactions_and_online_state(db):
    sid = db.create_session("u1")
    log = FeedbackLog(db)
    log.record(sid, "i1", "like", "ui")
    log.record(sid, "i2", "dislike", "text")
    assert [(f.item_id, f.kind) for f in log.of_session(sid)] == [("i1", "like"), ("i2", "dislike")]
    store = InteractionStore(db)
    events = [
        Interaction("u1", "i3", "view", None, 1.0),
        Interaction("u1", "i4", "rating", 4.5, 2.0),
    ]
    assert store.add(events) == 2
    assert store.add(events + [Interaction("u2", "i3", "view", None, 1.0)]) == 1  # repeats ignored
    assert store.count() == 3
    assert store.history("u1") == ["i3", "i4", "i1"]  # chat likes count, dislikes do not
    assert store.session_user(sid) == "u1"
    assert {e.source for e in store.events() if e.user_id == "u1"} == {"import", "chat"}
    store.save_online(sid, {"version": 1, "liked": ["i1"]})
    store.save_online(sid, {"version": 1, "liked": ["i1", "i3"]})
    assert store.load_online(sid) == {"version": 1, "liked": ["i1", "i3"]}
    assert store.load_online("other") is None


def test_keys_conversations_and_audit(db):
    keys = KeyStore(db)
    key, secret = keys.create("shop", "chat", "5/minute")
    assert keys.verify(secret) == key and keys.verify(secret + "x") is None
    assert [k.id for k in keys.list()] == [key.id]
    keys.revoke("shop")
    assert keys.verify(secret) is None and keys.list() == []
    sid, other = db.create_session(), db.create_session()
    conversations = Conversations(db)
    conversations.remember("h1", sid)
    conversations.remember("h1", other)  # the newest mapping wins
    assert conversations.find("h1") == other and conversations.find("h2") is None
    FeedbackAudit(db).record(sid, "i1", "like", key.id)
    assert db.execute(
        "SELECT key_id FROM api_feedback WHERE session_id = ?", (sid,)
    ).fetchall() == [(key.id,)]


def test_counters_are_atomic_across_threads(db):
    def bump_many():
        for _ in range(20):
            db.bump("catalog")

    threads = [threading.Thread(target=bump_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.counter("catalog") == 80 and db.counter("never") == 0


def test_artifacts_metadata(db):
    db.record_artifact("cf", "cf", "abc", {"users": 3})
    db.record_artifact("cf", "cf", "def", {"users": 4})
    assert db.artifacts() == {
        "cf": {
            "kind": "cf",
            "sha256": "def",
            "info": {"users": 4},
            "created_at": pytest.approx(time.time(), abs=60),
        }
    }


def _someone(db, user: str) -> list[str]:
    """A user with two sessions and something in every table that can hold their data."""
    sids = [db.create_session(user) for _ in range(2)]
    for sid in sids:
        db.save_turn(sid, {"liked": ["i1"]}, turn(f"hello from {user}", "hi"))
        FeedbackLog(db).record(sid, "i1", "like", "ui")
        FeedbackAudit(db).record(sid, "i1", "like", "key_1")
        Conversations(db).remember(f"hash-{sid}", sid)
        InteractionStore(db).save_online(sid, {"version": 1})
    InteractionStore(db).add(
        [
            Interaction(user, "i2", "view", None, 1.0),
            Interaction(user, "i3", "view", None, 2.0, sids[0]),
        ]
    )
    InteractionStore(db).save_online(user, {"version": 1})
    return sids


def test_export_holds_everything_and_delete_leaves_nothing(db):
    user, bystander = "user-" + uuid.uuid4().hex, "user-" + uuid.uuid4().hex
    sids = _someone(db, user)
    kept = _someone(db, bystander)

    exported = db.export_user(user)
    assert [s["session"]["id"] for s in exported["sessions"]] == sids
    first = exported["sessions"][0]
    assert [m["content"] for m in first["messages"]] == [f"hello from {user}", "hi"]
    for table in ("item_feedback", "api_feedback", "api_conversations", "online_state"):
        assert len(first[table]) == 1, table
    assert len(exported["interactions"]) == 2 and len(exported["online_state"]) == 1
    assert cells_mentioning(db, [user, *sids])  # the scan sees them before

    counts = db.delete_user(user)
    assert counts["sessions"] == 2 and counts["messages"] == 4 and counts["interactions"] == 2
    assert cells_mentioning(db, [user, *sids]) == []
    assert db.export_user(user)["sessions"] == []
    # the other person's data is untouched
    assert len(db.export_user(bystander)["sessions"]) == 2
    assert cells_mentioning(db, [bystander, *kept])

    counts = db.delete_session(kept[0])
    assert counts["sessions"] == 1 and counts["messages"] == 2
    assert cells_mentioning(db, [kept[0]]) == []
    assert db.export_session(kept[0]) is None and db.export_session(kept[1]) is not None
