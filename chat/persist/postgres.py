"""PostgreSQL, for several workers sharing one database (RECOCHAT_DATABASE_URL=
postgresql://…). psycopg 3 with a small connection pool; the queries are the
shared ones of database.py (`?` becomes psycopg's `%s`).

Migrations run in one transaction under an advisory lock, so workers starting
together upgrade the schema once; `recochat_schema` records how many ran. A
session's turns are serialised across workers with a session-level advisory lock
held for the length of the turn on a connection of a second pool, so turns waiting
for or holding locks never starve the queries of the pool they need to finish.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from chat.errors import ChatError
from chat.persist.database import MIGRATIONS, Database, Rows, postgres_sql, statements

MIGRATION_LOCK = 7_211_001  # the advisory lock id taken while migrating
POOL_SIZE = 8  # connections for queries, per process
LOCK_POOL_SIZE = 32  # connections holding session locks (at most one per running turn)
CONNECT_TIMEOUT_S = 10.0


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def _lock_id(session_id: str) -> int:
    """A signed 64-bit advisory lock id for a session."""
    return int.from_bytes(
        hashlib.blake2b(session_id.encode(), digest_size=8).digest(), "big", signed=True
    )


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"postgresql://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _unusable(verb: str, url: str, reason: str) -> ChatError:
    return ChatError(
        f"Cannot {verb} the PostgreSQL database at {url} ({reason}). "
        "Check RECOCHAT_DATABASE_URL and that the server is running."
    )


class _PgTransaction:
    def __init__(self, conn: Any):
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        cur = self.conn.execute(_pg(sql), params)
        return Rows(cur.fetchall() if cur.description else [], cur.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        with self.conn.cursor() as cur:
            cur.executemany(_pg(sql), rows)
            return cur.rowcount


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str):
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = _safe_url(url)
        try:  # one plain connection first: a fast, one-line answer when it cannot work
            psycopg.connect(url, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
        except psycopg.Error as e:
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise _unusable("connect to", self.url, reason) from None
        self.full_url = url  # for another handle on the same database (tests, tools)
        pool = partial(ConnectionPool, url, kwargs={"autocommit": True})
        self._pool = pool(min_size=1, max_size=POOL_SIZE, open=False, name="recochat")
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
            self._migrate()
            # opened empty: only used without Redis (chat/frontends/api/session_locks.py)
            self._lock_pool = pool(
                min_size=0, max_size=LOCK_POOL_SIZE, open=True, name="recochat-locks"
            )
        except Exception as e:  # psycopg's errors, or a ChatError from the migration
            self._pool.close()
            if isinstance(e, ChatError):
                raise
            raise _unusable("use", self.url, str(e).strip() or type(e).__name__) from None

    def _migrate(self) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS recochat_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM recochat_schema").fetchone()
            version = (row[0] if row else None) or 0
            if version > len(MIGRATIONS):
                raise ChatError(
                    f"The database at {self.url} was written by a newer recochat (schema "
                    f"{version}, this one knows {len(MIGRATIONS)}). Upgrade recochat."
                )
            for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in statements(postgres_sql(sql)):
                    conn.execute(statement)
                conn.execute("INSERT INTO recochat_schema (version) VALUES (%s)", (number,))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        with self._pool.connection() as conn:
            cur = conn.execute(_pg(sql), params)
            return Rows(cur.fetchall() if cur.description else [], cur.rowcount)

    def execute_named(self, sql: str, params: Sequence[Any]) -> tuple[list[tuple], list[str]]:
        with self._pool.connection() as conn:
            cur = conn.execute(_pg(sql), params)
            return cur.fetchall(), [d.name for d in cur.description or []]

    @contextmanager
    def transaction(self) -> Iterator[_PgTransaction]:
        with self._pool.connection() as conn, conn.transaction():
            yield _PgTransaction(conn)

    @property
    def schema_version(self) -> int:
        row = self.execute("SELECT max(version) FROM recochat_schema").fetchone()
        return int(row[0] or 0) if row else 0

    @contextmanager
    def session_lock(self, session_id: str) -> Iterator[None]:
        """pg_advisory_lock on a pooled connection for the turn's length; released
        (and the connection returned) whatever the turn does."""
        key = _lock_id(session_id)
        with self._lock_pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        self._lock_pool.close()
        self._pool.close()
