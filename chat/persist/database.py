"""The database behind one interface: sessions, messages, feedback, interactions,
API keys, online-learning state, the catalog version and artifacts' metadata.

Two implementations share every query written here: SQLite (chat/persist/sqlite.py,
the embedded default, one file in the data directory) and PostgreSQL
(chat/persist/postgres.py, for several workers), chosen by `open_database`.
Queries use `?` placeholders and the SQL both dialects accept (`ON CONFLICT`,
`||`, `COALESCE`); an implementation only supplies connections, transactions and
its flavour of the migrations.

Schema changes are an append-only list of migrations, written once in SQLite's
words; PostgreSQL's are derived by `postgres_sql` (identity keys, double
precision). Each database records how many have run, so an old one upgrades in
place and a newer one (written by a later recochat) is refused instead of misread.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from chat.errors import ChatError
from chat.persist.pii import mask, mask_data
from chat.state import ITEM_ID_FIELDS

MIGRATIONS = [
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        state_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        items_json TEXT NOT NULL DEFAULT '[]',
        meta_json TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_session ON messages(session_id, id);
    """,
    # 2: the HTTP API (chat/api). Keys are stored as sha256 hashes, never as given;
    # api_feedback logs feedback with the key that sent it; api_conversations maps an
    # OpenAI-style message history (hashed) to the session that continues it.
    """
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL DEFAULT 'chat',
        rate_limit TEXT,
        created_at REAL NOT NULL,
        last_used_at REAL,
        revoked_at REAL
    );
    CREATE TABLE api_feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        item_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        key_id TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX api_feedback_session ON api_feedback(session_id, id);
    CREATE TABLE api_conversations (
        prefix_hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        created_at REAL NOT NULL
    );
    """,
    # 3: conversation feedback (chat/persist/feedback.py): like / dislike / seen / click on an
    # item, from the text ("I've seen it") or a button, in the order it was given.
    """
    CREATE TABLE item_feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        item_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX item_feedback_session ON item_feedback(session_id, id);
    CREATE INDEX item_feedback_item ON item_feedback(item_id);
    """,
    # 4: the interaction log the learners train on (chat/persist/interactions.py): imported
    # files and chat feedback; a repeated (user, item, kind, ts) is one event. And
    # the online learners' state per user or session (versioned JSON).
    """
    CREATE TABLE interactions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        value REAL,
        ts REAL NOT NULL,
        session_id TEXT,
        source TEXT NOT NULL DEFAULT 'import',
        UNIQUE (user_id, item_id, kind, ts)
    );
    CREATE INDEX interactions_user ON interactions(user_id, ts);
    CREATE INDEX interactions_item ON interactions(item_id);
    CREATE TABLE online_state (
        key TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        state_json TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 5: a session belongs to the API key that created it (chat/frontends/api/context.py:
    # another key gets 404). NULL for sessions of the terminal and web chats, and for
    # sessions made before this migration, which no API key can reach.
    """
    ALTER TABLE sessions ADD COLUMN key_id TEXT;
    """,
    # 6: shared state of several workers. `counters` holds the catalog version, bumped by
    # every catalog change, so each worker notices another's upsert (App.sync_catalog);
    # `artifacts` the metadata of the learned artifacts (the files stay in the data
    # directory), so every worker and `recochat doctor` see which training they serve.
    """
    CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE artifacts (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        info_json TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL
    );
    CREATE INDEX interactions_session ON interactions(session_id);
    CREATE INDEX sessions_user ON sessions(user_id);
    """,
]

# What each table holds about a session or a user, for export and deletion (tables
# reached through a session id; `interactions` also by user id, `online_state` by key).
SESSION_TABLES = ("messages", "item_feedback", "api_feedback", "api_conversations")


def postgres_sql(sqlite_sql: str) -> str:
    """A migration in PostgreSQL's words: identity keys and 8-byte floats (REAL is
    4 bytes there, too coarse for timestamps)."""
    sql = sqlite_sql.replace(
        "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    )
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)


def statements(sql: str) -> list[str]:
    return [s for s in (part.strip() for part in sql.split(";")) if s]


@dataclass
class StoredMessage:
    role: str
    content: str
    items: list[dict[str, Any]]
    meta: dict[str, Any]
    created_at: float


class Rows:
    """What a statement returned, read in full (so no cursor outlives its connection)."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int):
        self.rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:  # a row, or None
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


class Transaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int: ...


class Database:
    """The one storage interface. Subclasses implement `execute`, `transaction`,
    `schema_version`, `close` (and may hold a session's lock across processes)."""

    dialect = "none"
    url = ""  # where it is, for messages (never with a password)

    # -- what an implementation provides -------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """One statement on its own (autocommit)."""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Statements that land together or not at all."""
        raise NotImplementedError

    @property
    def schema_version(self) -> int:
        raise NotImplementedError

    def session_lock(self, session_id: str) -> AbstractContextManager[None]:
        """Held around a turn so no other process runs one of this session at the
        same time. One process orders its own turns (the API's TurnRunner); only a
        database shared by several workers needs more."""
        return _no_lock()

    def close(self) -> None:
        raise NotImplementedError

    # -- sessions and messages -----------------------------------------------------

    def create_session(
        self, user_id: str | None = None, session_id: str | None = None, key_id: str | None = None
    ) -> str:
        """A new session; `key_id` is the API key that owns it (None outside the API)."""
        sid = session_id or uuid.uuid4().hex
        now = time.time()
        self.execute(
            "INSERT INTO sessions (id, user_id, created_at, updated_at, key_id) "
            "VALUES (?, ?, ?, ?, ?)",
            (sid, user_id, now, now, key_id),
        )
        return sid

    def session_exists(self, session_id: str) -> bool:
        return (
            self.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
            is not None
        )

    def session_owned_by(self, session_id: str, key_id: str) -> bool:
        """Whether the session exists and the API key `key_id` created it."""
        row = self.execute(
            "SELECT 1 FROM sessions WHERE id = ? AND key_id = ?", (session_id, key_id)
        ).fetchone()
        return row is not None

    def load_state(self, session_id: str) -> dict[str, Any]:
        row = self.execute("SELECT state_json FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise ChatError(
                f"Unknown session '{session_id}'. Start a new one (omit the session id)."
            )
        return json.loads(row[0])

    def save_turn(
        self, session_id: str, state: dict[str, Any], messages: list[StoredMessage]
    ) -> None:
        """Store a whole turn (its messages and the new state) in one transaction, with
        personal data masked (chat/persist/pii.py); item ids and cards are kept as they are."""
        messages = [
            StoredMessage(
                m.role, mask(m.content), m.items, mask_data(m.meta, ITEM_ID_FIELDS), m.created_at
            )
            for m in messages
        ]
        state = mask_data(state, ITEM_ID_FIELDS)
        with self.transaction() as tx:
            tx.executemany(
                "INSERT INTO messages (session_id, role, content, items_json, meta_json, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        session_id,
                        m.role,
                        m.content,
                        json.dumps(m.items),
                        json.dumps(m.meta),
                        m.created_at,
                    )
                    for m in messages
                ],
            )
            tx.execute(
                "UPDATE sessions SET state_json = ?, updated_at = ? WHERE id = ?",
                (json.dumps(state), time.time(), session_id),
            )

    def history(self, session_id: str) -> list[StoredMessage]:
        rows = self.execute(
            "SELECT role, content, items_json, meta_json, created_at FROM messages "
            "WHERE session_id = ? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [StoredMessage(r[0], r[1], json.loads(r[2]), json.loads(r[3]), r[4]) for r in rows]

    # -- shared counters and artifacts' metadata -----------------------------------

    def counter(self, name: str) -> int:
        row = self.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def bump(self, name: str) -> int:
        """Add one to a counter (atomically, whoever else bumps it) and return it."""
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO counters (name, value, updated_at) VALUES (?, 1, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1, "
                "updated_at = excluded.updated_at",
                (name, time.time()),
            )
            row = tx.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def record_artifact(self, name: str, kind: str, sha256: str, info: dict[str, Any]) -> None:
        self.execute(
            "INSERT INTO artifacts (name, kind, sha256, info_json, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
            "sha256 = excluded.sha256, info_json = excluded.info_json, "
            "created_at = excluded.created_at",
            (name, kind, sha256, json.dumps(info), time.time()),
        )

    def artifacts(self) -> dict[str, dict[str, Any]]:
        rows = self.execute(
            "SELECT name, kind, sha256, info_json, created_at FROM artifacts ORDER BY name"
        ).fetchall()
        return {
            r[0]: {"kind": r[1], "sha256": r[2], "info": json.loads(r[3]), "created_at": r[4]}
            for r in rows
        }

    # -- a person's data: export and deletion ----------------------------------------

    def user_sessions(self, user_id: str) -> list[str]:
        rows = self.execute(
            "SELECT id FROM sessions WHERE user_id = ? ORDER BY created_at, id", (user_id,)
        ).fetchall()
        return [r[0] for r in rows]

    def export_session(self, session_id: str) -> dict[str, Any] | None:
        """Everything stored about one session, as JSON-ready data (None: no such session)."""
        row = self.execute(
            "SELECT id, user_id, created_at, updated_at, state_json FROM sessions WHERE id = ?",
            (session_id,),
        ).fetchone()
        if row is None:
            return None
        out: dict[str, Any] = {
            "session": {
                "id": row[0],
                "user_id": row[1],
                "created_at": row[2],
                "updated_at": row[3],
                "state": json.loads(row[4]),
            }
        }
        for table in SESSION_TABLES:
            out[table] = self._rows_as_dicts(
                f"SELECT * FROM {table} WHERE session_id = ?", (session_id,)
            )
        out["interactions"] = self._rows_as_dicts(
            "SELECT * FROM interactions WHERE session_id = ? ORDER BY ts, id", (session_id,)
        )
        out["online_state"] = self._online_rows([session_id])
        return out

    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything stored about a user: their sessions (each as export_session), their
        interactions under any session or none, and the online state kept for them."""
        sessions = [self.export_session(s) for s in self.user_sessions(user_id)]
        return {
            "user_id": user_id,
            "sessions": [s for s in sessions if s is not None],
            "interactions": self._rows_as_dicts(
                "SELECT * FROM interactions WHERE user_id = ? ORDER BY ts, id", (user_id,)
            ),
            "online_state": self._online_rows([user_id]),
        }

    def delete_session(self, session_id: str) -> dict[str, int]:
        """Delete a session and every row about it; returns rows deleted per table."""
        with self.transaction() as tx:
            return _delete_sessions(tx, [session_id])

    def delete_user(self, user_id: str) -> dict[str, int]:
        """Delete a user's sessions, interactions and online state, in one transaction."""
        with self.transaction() as tx:
            rows = tx.execute("SELECT id FROM sessions WHERE user_id = ?", (user_id,)).fetchall()
            counts = _delete_sessions(tx, [r[0] for r in rows])
            _delete_learned(tx, counts, "user_id", user_id)
        return counts

    def _rows_as_dicts(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        rows, names = self.execute_named(sql, params)
        return [dict(zip(names, r, strict=True)) for r in rows]

    def execute_named(self, sql: str, params: Sequence[Any]) -> tuple[list[tuple], list[str]]:
        """Rows and their column names (for exports, which show every column)."""
        raise NotImplementedError

    def _online_rows(self, keys: list[str]) -> list[dict[str, Any]]:
        out = []
        for key in keys:
            row = self.execute(
                "SELECT key, version, state_json, updated_at FROM online_state WHERE key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                out.append(
                    {
                        "key": row[0],
                        "version": row[1],
                        "state": json.loads(row[2]),
                        "updated_at": row[3],
                    }
                )
        return out


def _delete_sessions(tx: Transaction, session_ids: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(("sessions", *SESSION_TABLES, "interactions", "online_state"), 0)
    for sid in session_ids:
        for table in SESSION_TABLES:
            counts[table] += tx.execute(
                f"DELETE FROM {table} WHERE session_id = ?", (sid,)
            ).rowcount
        _delete_learned(tx, counts, "session_id", sid)
        counts["sessions"] += tx.execute("DELETE FROM sessions WHERE id = ?", (sid,)).rowcount
    return counts


def _delete_learned(tx: Transaction, counts: dict[str, int], column: str, key: str) -> None:
    """The interaction log's rows and the online learners' state kept under a user's
    or a session's id (`column` names which), added to `counts`."""
    counts["interactions"] += tx.execute(
        f"DELETE FROM interactions WHERE {column} = ?", (key,)
    ).rowcount
    counts["online_state"] += tx.execute("DELETE FROM online_state WHERE key = ?", (key,)).rowcount


@contextmanager
def _no_lock() -> Iterator[None]:
    yield
