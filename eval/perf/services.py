"""Throw-away PostgreSQL, Redis and Chroma servers, each started on a free
loopback port from the installed packages (Debian's postgresql and redis-server,
chromadb's `chroma run`) and stopped afterwards: for the scale-out benchmark and
the tests (tests/helpers/services.py).

PostgreSQL refuses to run as root, so as root (here and in CI) its cluster
belongs to the `nobody` user and runs through `runuser`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

START_TIMEOUT = 60


class ServiceMissing(RuntimeError):
    """A server's package is not installed."""


def missing(what: str, install: str) -> None:
    raise ServiceMissing(f"{what} is not installed; run `{install}` (or `make services`)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(ready: Callable[[], bool], proc: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}): {log.read_text()[-2000:]}")
        if ready():
            return
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{what} did not start in {START_TIMEOUT} s: {log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Postgres:
    """A cluster in a temporary directory; `url` for RECOCHAT_DATABASE_URL."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            missing("PostgreSQL", "apt-get install postgresql")
        self.bin = Path(found[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="recochat-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.as_user = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "nobody")
        data, log = self.dir / "data", self.dir / "postgres.log"
        subprocess.run(
            [*self.as_user, str(self.bin / "initdb"), "-D", str(data), "-U", "postgres"]
            + ["--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
            check=True,
            capture_output=True,
        )
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [*self.as_user, str(self.bin / "postgres"), "-D", str(data)]
                + ["-p", str(self.port), "-k", str(self.dir), "-c", "listen_addresses=127.0.0.1"]
                + ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait(self._ready, self.proc, "postgres", log)

    def _ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    def fresh_database(self, name: str) -> str:
        """A new empty database in the cluster (one per test that needs a clean schema)."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        _stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """`redis-server` without persistence; `port` starts it again where one was stopped."""

    def __init__(self, port: int | None = None) -> None:
        server = shutil.which("redis-server")
        if server is None:
            missing("Redis", "apt-get install redis-server")
        self.dir = Path(tempfile.mkdtemp(prefix="recochat-redis-"))
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = self.dir / "redis.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(server), "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait(self._ready, self.proc, "redis-server", self.log)

    def _ready(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        _stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class ChromaServer:
    """`chroma run` from the installed chromadb, on a fresh directory, or on `keep`
    (made if missing, reused if not, and left in place by stop())."""

    def __init__(self, keep: Path | None = None) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        if not chroma.exists():
            missing("chroma (from chromadb)", "pip install chromadb")
        self.keep = keep is not None
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
        self.dir = keep or Path(tempfile.mkdtemp(prefix="recochat-chroma-"))
        self.port = free_port()
        self.host = "127.0.0.1"
        self.log = self.dir / "chroma.log"
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(chroma), "run", "--path", str(self.dir / "data")]
                + ["--host", self.host, "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        _wait(self._ready, self.proc, "chroma run", self.log)

    def _ready(self) -> bool:
        import httpx

        try:
            return httpx.get(
                f"http://{self.host}:{self.port}/api/v2/heartbeat", timeout=1
            ).is_success
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        _stop(self.proc)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
