"""API keys: created and revoked with `recochat keys …`, stored only as hashes.

A key is a random 256-bit token ("rc_…"). We keep its SHA-256, not the key, so a
copy of the database does not leak working keys; a slow password hash is not
needed for random tokens of this length, and SHA-256 keeps the per-request check
to one indexed lookup. The key is shown once, when it is created.

Roles, each including the ones before it:
  chat   the widget and the chat APIs: sessions, messages, feedback, search, items
  llm    also the raw model through /v1/chat/completions (for other recochat servers)
  admin  also catalog changes (upsert, delete, ingest)

The store reads the database on every check, so `recochat keys` works while a
server runs (on SQLite's WAL file or a shared PostgreSQL), and a revoked key stops
working on the next request, in every worker.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from chat import ChatError, Database

ROLES = ("chat", "llm", "admin")
KEY_PREFIX = "rc_"
LAST_USED_EVERY_S = 60.0  # write last_used_at at most this often per key


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: str
    rate_limit: str | None = None
    created_at: float = 0.0
    last_used_at: float | None = None
    revoked_at: float | None = None

    def allows(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


ADMIN_SETTING = ApiKey("admin-setting", "RECOCHAT_ADMIN_KEY", "admin")


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "backslashreplace")).hexdigest()


class KeyStore:
    def __init__(self, db: Database, *, admin_key: str | None = None, owns_db: bool = False):
        self.db = db
        self._owns_db = owns_db
        self._admin_key = admin_key or None
        self._last_used: dict[str, float] = {}

    def create(
        self, name: str, role: str = "chat", rate_limit: str | None = None
    ) -> tuple[ApiKey, str]:
        """Make a key; returns it and its secret, which is not stored and cannot be shown again."""
        if role not in ROLES:
            raise ChatError(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}.")
        name = name.strip()
        if not name:
            raise ChatError("Give the key a name, e.g. `recochat keys create shop-widget`.")
        if rate_limit is not None:
            check_rate_limit(rate_limit)
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey("key_" + secrets.token_hex(4), name, role, rate_limit, time.time())
        self.db.execute(
            "INSERT INTO api_keys (id, name, secret_hash, role, rate_limit, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key.id, key.name, hash_key(secret), key.role, key.rate_limit, key.created_at),
        )
        return key, secret

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        sql = (
            "SELECT id, name, role, rate_limit, created_at, last_used_at, revoked_at FROM api_keys"
        )
        if not include_revoked:
            sql += " WHERE revoked_at IS NULL"
        rows = self.db.execute(sql + " ORDER BY created_at").fetchall()
        return [ApiKey(*r) for r in rows]

    def revoke(self, id_or_name: str) -> builtins.list[ApiKey]:  # `list` is a method here
        """Revoke the key with this id, or every live key with this name."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT id FROM api_keys WHERE revoked_at IS NULL AND (id = ? OR name = ?)",
                (id_or_name, id_or_name),
            ).fetchall()
            ids = [r[0] for r in rows]
            tx.executemany(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ?", [(time.time(), i) for i in ids]
            )
        if not ids:
            raise ChatError(
                f"No live key has the id or name {id_or_name!r}. See `recochat keys list`."
            )
        return [k for k in self.list(include_revoked=True) if k.id in ids]

    def verify(self, secret: str | None) -> ApiKey | None:
        """The live key this secret belongs to, or None."""
        if not secret:
            return None
        if self._admin_key and hmac.compare_digest(
            secret.encode("utf-8", "backslashreplace"),
            self._admin_key.encode("utf-8", "backslashreplace"),
        ):
            return ADMIN_SETTING
        if not secret.startswith(KEY_PREFIX):
            return None
        row = self.db.execute(
            "SELECT id, name, role, rate_limit, created_at, last_used_at, revoked_at "
            "FROM api_keys WHERE secret_hash = ? AND revoked_at IS NULL",
            (hash_key(secret),),
        ).fetchone()
        if row is None:
            return None
        key = ApiKey(*row)
        self._touch(key.id)
        return key

    def _touch(self, key_id: str) -> None:
        now = time.time()
        if now - self._last_used.get(key_id, 0.0) < LAST_USED_EVERY_S:
            return
        self._last_used[key_id] = now
        try:
            self.db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now, key_id))
        except Exception:  # busy: the timestamp is a courtesy, not a record
            pass

    def close(self) -> None:
        if self._owns_db:
            self.db.close()


def check_rate_limit(text: str) -> None:
    """Refuse a rate limit the `limits` library cannot read, naming the format."""
    from limits import parse_many

    try:
        if not parse_many(text):
            raise ValueError
    except ValueError:
        raise ChatError(
            f"Invalid rate limit {text!r}. Use e.g. '60/minute' or '10/second;1000/day'."
        ) from None
