"""The embedded database: one SQLite file in the data directory (WAL mode, so
`recochat keys` and a running server can share it). `PRAGMA user_version`
counts the migrations that ran."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chat.errors import ChatError
from chat.persist.database import MIGRATIONS, Database, Rows, statements


class _SqliteTransaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        cur = self.conn.execute(sql, params)
        return Rows(cur.fetchall(), cur.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        return self.conn.executemany(sql, rows).rowcount


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.url = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=10
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            version = self.schema_version
            if version > len(MIGRATIONS):
                raise ChatError(
                    f"{self.path} was written by a newer recochat (schema {version}, this one knows "
                    f"{len(MIGRATIONS)}). Upgrade recochat or use another RECOCHAT_HOME."
                )
            for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    if self.schema_version < number:  # another process may have just run it
                        for statement in statements(sql):
                            self._conn.execute(statement)
                        self._conn.execute(f"PRAGMA user_version = {number}")
                    self._conn.execute("COMMIT")
                except Exception:
                    self._conn.execute("ROLLBACK")
                    raise

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        with self._lock:
            cur = self._conn.execute(sql, params)
            return Rows(cur.fetchall(), cur.rowcount)

    def execute_named(self, sql: str, params: Sequence[Any]) -> tuple[list[tuple], list[str]]:
        with self._lock:
            cur = self._conn.execute(sql, params)
            return cur.fetchall(), [d[0] for d in cur.description]

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTransaction]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTransaction(self._conn)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self._conn.close()
