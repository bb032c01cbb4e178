"""The real services of the scale-out tests (PostgreSQL, Redis, a Chroma server),
started by eval/perf/services.py; a missing package skips locally and fails in
CI, which must install them (`make services`)."""

from __future__ import annotations

import os

import pytest

from eval.perf import services


def start(kind: type):
    try:
        return kind()
    except services.ServiceMissing as e:
        if os.environ.get("CI") == "true":
            pytest.fail(str(e))
        pytest.skip(str(e))


def postgres() -> services.Postgres:
    return start(services.Postgres)


def redis() -> services.Redis:
    return start(services.Redis)


def chroma() -> services.ChromaServer:
    return start(services.ChromaServer)
