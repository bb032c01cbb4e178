"""Which database to open: the one place that reads a database URL."""

from __future__ import annotations

from pathlib import Path

from chat.errors import ChatError
from chat.persist.database import Database


def open_database(url: str | None, sqlite_path: str | Path) -> Database:
    """RECOCHAT_DATABASE_URL when set (postgresql://…, or sqlite:///path), else the
    SQLite file of the data directory."""
    if not url:
        from chat.persist.sqlite import SqliteDatabase

        return SqliteDatabase(sqlite_path)
    if url.startswith(("postgresql://", "postgres://")):
        from chat.persist.postgres import PostgresDatabase

        return PostgresDatabase(url)
    if url.startswith("sqlite:///"):
        from chat.persist.sqlite import SqliteDatabase

        return SqliteDatabase(url.removeprefix("sqlite:///"))
    raise ChatError(
        f"RECOCHAT_DATABASE_URL must start with postgresql:// or sqlite:///, not {url[:20]!r}. "
        "Leave it unset for the SQLite file in the data directory."
    )


def is_shared(url: str | None) -> bool:
    """A database several worker processes can share (a server, not a file)."""
    return url is not None and url.startswith(("postgresql://", "postgres://"))
