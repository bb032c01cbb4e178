"""The data directory: one place for the item store, the SQLite database and
learned artifacts, with a lock so only one process writes to it at a time."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from chat.errors import DataDirInUse


class DataDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock_file: IO[str] | None = None

    @property
    def chroma(self) -> Path:
        return self.path / "chroma"

    @property
    def database(self) -> Path:
        return self.path / "recochat.sqlite3"

    @property
    def artifacts(self) -> Path:
        return self.path / "artifacts"

    def acquire(self) -> DataDir:
        """Take the writer lock, or explain who holds it. Released when the process ends."""
        self.path.mkdir(parents=True, exist_ok=True)
        lock_path = self.path / "writer.lock"
        f = open(lock_path, "a+")  # noqa: SIM115 - held open for the life of the process
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise DataDirInUse(
                f"The data directory {self.path} is in use by {holder}. Stop that process, "
                "or point RECOCHAT_HOME at another directory."
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()}")
        f.flush()
        self._lock_file = f
        return self

    def release(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None
