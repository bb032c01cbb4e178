"""SQLite storage for sessions and messages.

Schema changes are an append-only list of migrations; `PRAGMA user_version`
records how many have run, so an old database upgrades in place and a newer one
(written by a later recochat) is refused instead of misread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
]


@dataclass
class StoredMessage:
    role: str
    content: str
    items: list[dict[str, Any]]
    meta: dict[str, Any]
    created_at: float


class Database:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise ChatError(
                    f"{self.path} was written by a newer recochat (schema {version}, this one knows "
                    f"{len(MIGRATIONS)}). Upgrade recochat or use another RECOCHAT_HOME."
                )
            for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                self._conn.execute("BEGIN")
                try:
                    for statement in filter(str.strip, sql.split(";")):
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version = {number}")
                    self._conn.execute("COMMIT")
                except Exception:
                    self._conn.execute("ROLLBACK")
                    raise

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """One statement on its own (autocommit); read rows from the cursor."""
        return self._conn.execute(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Statements that land together or not at all, one writer at a time."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def create_session(
        self, user_id: str | None = None, session_id: str | None = None, key_id: str | None = None
    ) -> str:
        """A new session; `key_id` is the API key that owns it (None outside the API)."""
        sid = session_id or uuid.uuid4().hex
        now = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT INTO sessions (id, user_id, created_at, updated_at, key_id) "
                "VALUES (?, ?, ?, ?, ?)",
                (sid, user_id, now, now, key_id),
            )
        return sid

    def session_exists(self, session_id: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None

    def session_owned_by(self, session_id: str, key_id: str) -> bool:
        """Whether the session exists and the API key `key_id` created it."""
        row = self._conn.execute(
            "SELECT 1 FROM sessions WHERE id = ? AND key_id = ?", (session_id, key_id)
        ).fetchone()
        return row is not None

    def load_state(self, session_id: str) -> dict[str, Any]:
        row = self._conn.execute(
            "SELECT state_json FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
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
        with self.transaction() as conn:
            for m in messages:
                conn.execute(
                    "INSERT INTO messages (session_id, role, content, items_json, meta_json, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        session_id,
                        m.role,
                        m.content,
                        json.dumps(m.items),
                        json.dumps(m.meta),
                        m.created_at,
                    ),
                )
            conn.execute(
                "UPDATE sessions SET state_json = ?, updated_at = ? WHERE id = ?",
                (json.dumps(state), time.time(), session_id),
            )

    def history(self, session_id: str) -> list[StoredMessage]:
        rows = self._conn.execute(
            "SELECT role, content, items_json, meta_json, created_at FROM messages WHERE session_id = ? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [StoredMessage(r[0], r[1], json.loads(r[2]), json.loads(r[3]), r[4]) for r in rows]

    def close(self) -> None:
        self._conn.close()
