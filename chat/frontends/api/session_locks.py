"""One turn of a session at a time across worker processes.

Inside one process the TurnRunner already chains a session's turns in arrival
order. With several workers, two messages to one session can reach two
processes; each turn then holds the session's lock while it reads the state,
runs and stores, so turns never interleave and each one starts from the state
the previous one stored. The lock is in Redis when RECOCHAT_REDIS_URL is set
(it expires by itself if a worker dies mid-turn), else a PostgreSQL advisory
lock (released when its connection closes), else none (one process, SQLite).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from chat import ChatError

if TYPE_CHECKING:
    from chat import Database

LOCK_SECONDS = 600  # a Redis lock expires after this, should its holder die
WAIT_SECONDS = 600  # how long a turn waits for the one before it


class SessionLocks:
    def __init__(self, db: Database, redis_url: str | None = None):
        self.db = db
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=10)
            try:
                self._redis.ping()
            except redis.RedisError as e:
                raise ChatError(
                    f"Cannot reach Redis at RECOCHAT_REDIS_URL ({redis_url.split('@')[-1]}) for "
                    f"the session locks ({e}). Start it, fix the URL, or unset it."
                ) from None

    @property
    def where(self) -> str:
        if self._redis is not None:
            return "redis"
        return "database" if self.db.dialect != "sqlite" else "process"

    @contextmanager
    def hold(self, session_id: str) -> Iterator[None]:
        if self._redis is None:
            with self.db.session_lock(session_id):
                yield
            return
        lock = self._redis.lock(
            f"recochat:session:{session_id}", timeout=LOCK_SECONDS, blocking_timeout=WAIT_SECONDS
        )
        if not lock.acquire():
            raise TimeoutError(f"session {session_id} stayed locked for {WAIT_SECONDS} s")
        try:
            yield
        finally:
            try:
                lock.release()
            except Exception:  # expired meanwhile: nothing left to release
                pass

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
