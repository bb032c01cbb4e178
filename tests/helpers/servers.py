"""Real servers on loopback for the end-to-end tests: the CLI in a subprocess,
`recochat serve` on a free port, SSE frame parsing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures"
RECOCHAT = str(Path(sys.executable).parent / "recochat")
ADMIN = "e2e-admin-key"
START_TIMEOUT = 240  # a real model may convert its GGUF on first start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(home: Path, **settings: str) -> dict[str, str]:
    from conftest import MODEL_CACHE

    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOCHAT_")}
    env.update(
        RECOCHAT_HOME=str(home),
        RECOCHAT_CACHE_DIR=str(MODEL_CACHE),
        RECOCHAT_EMBEDDER="hash",
        RECOCHAT_LLM="scripted:0.005",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
    )
    env.update({f"RECOCHAT_{k.upper()}": v for k, v in settings.items()})
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([RECOCHAT, *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"recochat {' '.join(args)}: {done.stderr[-3000:]}"
    return done


def new_key(env: dict[str, str], name: str, *options: str) -> str:
    return run_cli(env, "keys", "create", name, *options).stdout.strip()


class ApiServer:
    """`recochat serve` on a free port; stopped with SIGTERM like a service manager."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen(
                [RECOCHAT, "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait(self, ready=lambda r: r.status_code == 200, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"recochat serve exited ({self.process.returncode}):\n{self.log()}")
            try:
                if ready(httpx.get(self.url + "/readyz", timeout=2)):
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"recochat serve was not ready in {timeout} s:\n{self.log()}")
            time.sleep(0.3)

    def log(self) -> str:
        return self.log_path.read_text()[-4000:]

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, as a service manager stops it; SIGKILL if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sse_frames(text: str) -> list[tuple[str, str]]:
    out = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        event, data = "message", []
        for line in frame.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            out.append((event, "\n".join(data)))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
