"""`recochat eval scale-out`: several workers on shared engines, measured.

It starts throw-away PostgreSQL, Redis and Chroma servers (eval/perf/services.py),
ingests the small shop catalog into the Chroma server, runs `recochat serve
--workers N` over them (scripted LLM, hash embedder: no model, so the figures
are the platform's), then drives S sessions x T turns from C clients at once,
each request on a new connection so the kernel spreads them over the workers.
It prints turns/s, latency p50/p95, the 5xx count, how the turns spread over the
workers, and checks what was stored: every turn and reply, in each session's
order. The same driver runs in tests/e2e/test_scale_out.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECOCHAT = str(Path(sys.executable).parent / "recochat")
QUERIES = [
    "a quiet coffee grinder",
    "something cheaper",
    "a waterproof tent for two",
    "running shoes for beginners",
    "a desk lamp for reading",
]
ADMIN = "scale-out-admin-key"


@dataclass
class Load:
    """What the clients saw and what the server stored."""

    sessions: dict[str, list[str]] = field(default_factory=dict)  # id → messages sent, in order
    statuses: Counter = field(default_factory=Counter)
    workers: Counter = field(default_factory=Counter)  # X-Recochat-Worker → turns served
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stored_in_order: int = 0  # sessions whose history is exactly what was sent, each answered
    turns_stored: int = 0
    replies_stored: int = 0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def figures(self) -> dict[str, Any]:
        lat = sorted(self.latencies) or [0.0]
        turns = sum(len(v) for v in self.sessions.values())
        return {
            "sessions": len(self.sessions),
            "turns": turns,
            "seconds": round(self.seconds, 1),
            "turns_per_s": round(turns / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(1000 * lat[len(lat) // 2]),
            "p95_ms": round(1000 * lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]),
            "statuses": dict(self.statuses),
            "5xx": self.server_errors,
            "workers": dict(self.workers),
            "turns_stored": self.turns_stored,
            "replies_stored": self.replies_stored,
            "sessions_in_order": self.stored_in_order,
        }


def drive(urls: list[str], key: str, sessions: int, turns: int, clients: int = 8) -> Load:
    """S sessions x T turns, a session's turns one after another (as a person types),
    sessions side by side; then read back every history. With several URLs (one per
    worker process) a session's turns go round them; with one (`serve --workers N`),
    each request is a new connection that any worker may accept."""
    import httpx

    load = Load()
    headers = {"Authorization": f"Bearer {key}"}

    def fresh(url: str) -> httpx.Client:  # no keep-alive: each request may reach another worker
        return httpx.Client(
            base_url=url,
            headers=headers,
            timeout=120,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def converse(n: int) -> None:
        with fresh(urls[n % len(urls)]) as http:
            r = http.post("/v1/sessions", json={"user_id": f"load-user-{n}"})
        load.statuses[r.status_code] += 1
        if r.status_code != 201:
            return
        sid = r.json()["session_id"]
        sent = load.sessions.setdefault(sid, [])
        for t in range(turns):
            url = urls[(n + t) % len(urls)]
            text = f"{QUERIES[(n + t) % len(QUERIES)]} (session {n}, turn {t})"
            started = time.perf_counter()
            with fresh(url) as http:
                r = http.post(f"/v1/sessions/{sid}/messages", json={"message": text})
            load.latencies.append(time.perf_counter() - started)
            load.statuses[r.status_code] += 1
            load.workers[r.headers.get("x-recochat-worker", url)] += 1
            sent.append(text)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(converse, range(sessions)))
    load.seconds = time.perf_counter() - started

    with fresh(urls[-1]) as http:
        for sid, sent in load.sessions.items():
            messages = http.get(f"/v1/sessions/{sid}").json()["messages"]
            users = [m["content"] for m in messages if m["role"] == "user"]
            replies = [m for m in messages if m["role"] == "assistant" and m["content"]]
            load.turns_stored += len(users)
            load.replies_stored += len(replies)
            roles = [m["role"] for m in messages]
            if users == sent and roles == ["user", "assistant"] * len(sent):
                load.stored_in_order += 1
    return load


def scale_out_env(
    home: Path, database_url: str, redis_url: str, chroma_port: int
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOCHAT_")}
    env.update(
        RECOCHAT_HOME=str(home),
        RECOCHAT_EMBEDDER="hash",
        RECOCHAT_LLM="scripted",
        RECOCHAT_DATABASE_URL=database_url,
        RECOCHAT_REDIS_URL=redis_url,
        RECOCHAT_CHROMA_HOST="127.0.0.1",
        RECOCHAT_CHROMA_PORT=str(chroma_port),
        RECOCHAT_ADMIN_KEY=ADMIN,
        RECOCHAT_RATE_LIMIT="100000/minute",
        RECOCHAT_CATALOG_POLL_SECONDS="1",
        ANONYMIZED_TELEMETRY="False",
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
    )
    return env


def run(args) -> int:
    import httpx

    from eval.perf.services import ChromaServer, Postgres, Redis, ServiceMissing, free_port

    started: list[Any] = []
    try:
        for kind in (Postgres, Redis, ChromaServer):
            started.append(kind())
    except ServiceMissing as e:
        for service in started:
            service.stop()
        print(e, file=sys.stderr)
        return 2
    pg, rd, chroma = started
    catalog = Path(__file__).parents[2] / "tests" / "fixtures" / "shop_small.jsonl"
    server = None
    try:
        with tempfile.TemporaryDirectory(prefix="recochat-scale-") as tmp:
            env = scale_out_env(Path(tmp) / "home", pg.url, rd.url, chroma.port)
            ingest = [RECOCHAT, "ingest", str(catalog) if catalog.is_file() else "--demo"]
            subprocess.run(ingest, env=env, check=True, capture_output=True)
            key = subprocess.run(
                [RECOCHAT, "keys", "create", "load"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = open(Path(tmp) / "serve.log", "w")  # noqa: SIM115 - closed below
            server = subprocess.Popen(
                [RECOCHAT, "serve", "--workers", str(args.workers), "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None:
                    break
                time.sleep(0.3)
            else:
                server.kill()
            if server.poll() is not None:
                log.close()
                print("the server did not become ready:", file=sys.stderr)
                print((Path(tmp) / "serve.log").read_text()[-3000:], file=sys.stderr)
                return 1
            load = drive([url], key, args.sessions, args.turns, args.clients)
            figures = {**load.figures(), "load_avg": os.getloadavg()[0]}
            print(
                f"{args.sessions} sessions x {args.turns} turns over {args.workers} workers "
                f"(PostgreSQL + Redis + Chroma server, scripted LLM, {args.clients} clients): "
                f"{figures['turns']} turns in {figures['seconds']} s = {figures['turns_per_s']} "
                f"turns/s, p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms; "
                f"{figures['5xx']} x 5xx; turns per worker {sorted(load.workers.values())}; "
                f"stored {figures['turns_stored']} turns and {figures['replies_stored']} "
                f"replies; {figures['sessions_in_order']}/{len(load.sessions)} sessions in "
                f"order; load average {figures['load_avg']:.2f}"
            )
            print(json.dumps(figures))
            log.close()
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(60)
        for service in started:
            service.stop()
    return 0
