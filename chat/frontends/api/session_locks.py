"""One turn of a session at a time across worker processes.

Inside one process the TurnRunner already chains a session's turns in arrival
order. With several workers, two messages to one session can reach two
processes; each turn then holds the session's lock while it reads the state,
runs and stores, so turns never interleave and each one starts from the state
the previous one stored. The lock is in Redis when RECOCHAT_REDIS_URL is set
(it expires LOCK_SECONDS after a worker dies mid-turn: the holder renews it
while the turn runs, so a long turn keeps it), else a PostgreSQL advisory lock
(released when its connection closes), else none (one process, SQLite). Redis
out of reach is a 503 that says so, and the next turn works once it is back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chat import ChatError
from chat.frontends.api.errors import ApiError

if TYPE_CHECKING:
    from chat import Database

LOCK_SECONDS = 20  # a Redis lock expires this long after its holder died
RENEW_SECONDS = 5  # how often a running turn renews its lock
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
        import redis

        lock = self._redis.lock(
            f"recochat:session:{session_id}",
            timeout=LOCK_SECONDS,
            blocking_timeout=WAIT_SECONDS,
            thread_local=False,  # renewed from another thread (_renew)
        )
        try:
            acquired = lock.acquire()
        except redis.RedisError as e:
            raise ApiError(
                503,
                "session_lock_unavailable",
                f"The session lock store (Redis) is unreachable ({type(e).__name__}); "
                "retry shortly.",
                headers={"Retry-After": "5"},
            ) from None
        if not acquired:
            raise ApiError(
                503,
                "session_busy",
                f"The session's previous turn held it for {WAIT_SECONDS} s; retry shortly.",
                headers={"Retry-After": "5"},
            )
        done = threading.Event()
        renewer = threading.Thread(target=_renew, args=(lock, done), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()
            try:
                lock.release()
            except Exception:  # expired, or Redis went away: nothing left to release
                pass

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()


def _renew(lock: Any, done: threading.Event) -> None:
    """Keep a held lock from expiring while its turn runs; stop at the first failure
    (Redis gone: the turn finishes, the lock lapses by itself)."""
    while not done.wait(RENEW_SECONDS):
        try:
            lock.reacquire()
        except Exception:
            return
