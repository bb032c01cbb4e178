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
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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
    """What the clients saw and what the server stored. The client threads record
    each answer under `changed` (a lock with a condition), so a thread beside the
    traffic reads whole figures and can wait for one without polling."""

    sessions: dict[str, list[str]] = field(default_factory=dict)  # id → messages sent, in order
    acknowledged: dict[str, list[str]] = field(default_factory=dict)  # … that got their reply
    last_worker: str = ""  # the worker that answered the latest turn
    retried: int = 0  # requests sent again after no complete reply (with `retries`)
    lost: int = 0  # acknowledged turns not stored, or not with their reply, in order
    unanswered_stored: int = 0  # user messages stored without a reply after them
    statuses: Counter = field(default_factory=Counter)
    workers: Counter = field(default_factory=Counter)  # X-Recochat-Worker → turns served
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stored_in_order: int = 0  # sessions whose history is exactly what was sent, each answered
    turns_stored: int = 0
    replies_stored: int = 0
    finished: bool = False  # every client is done: nothing more will be acknowledged
    changed: threading.Condition = field(
        default_factory=threading.Condition, repr=False, compare=False
    )

    def count(self, status: int, *, retry: bool = False) -> None:
        """One request's outcome (0: the connection was lost)."""
        with self.changed:
            self.statuses[status] += 1
            self.retried += retry

    def turn(self, sid: str, text: str, latency: float, worker: str | None, ok: bool) -> None:
        """A turn sent, answered by `worker` (None: no answer after every retry);
        `ok`: a 200 with its reply, an acknowledged turn."""
        with self.changed:
            self.sessions[sid].append(text)
            self.latencies.append(latency)
            if worker is not None:
                self.workers[worker] += 1
                self.last_worker = worker
            if ok:
                self.acknowledged[sid].append(text)
                self.changed.notify_all()

    def finish(self) -> None:
        """Every client is done: wake whoever waits for more acknowledged turns."""
        with self.changed:
            self.finished = True
            self.changed.notify_all()

    def wait_acknowledged(self, turns: int, timeout: float = 600) -> tuple[str, set[str]]:
        """Block until `turns` turns are acknowledged; then the worker that answered
        the latest turn and every worker that has answered. RuntimeError when the
        traffic ends (or `timeout` passes) first."""
        with self.changed:
            reached = self.changed.wait_for(
                lambda: self.finished or sum(map(len, self.acknowledged.values())) >= turns,
                timeout,
            )
            if not reached or sum(map(len, self.acknowledged.values())) < turns:
                raise RuntimeError(f"{turns} turns were not acknowledged before the traffic ended")
            return self.last_worker, set(self.workers)

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
            "acknowledged": sum(map(len, self.acknowledged.values())),
            "lost": self.lost,
            "retried": self.retried,
            "unanswered_stored": self.unanswered_stored,
        }


def drive(
    urls: list[str],
    key: str,
    sessions: int,
    turns: int,
    clients: int = 8,
    *,
    retries: int = 0,
    during: Callable[[Load], None] | None = None,
) -> Load:
    """S sessions x T turns, a session's turns one after another (as a person types),
    sessions side by side; then read back every history. With several URLs (one per
    worker process) a session's turns go round them; with one (`serve --workers N`),
    each request is a new connection that any worker may accept. A turn without a
    complete reply (connection lost, 5xx) is sent again up to `retries` times, as a
    widget would; `during(load)` runs in a thread alongside the traffic."""
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

    def post(url: str, path: str, body: dict[str, Any]) -> httpx.Response | None:
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(0.2)
            try:
                with fresh(url) as http:
                    r = http.post(path, json=body)
            except httpx.TransportError:
                load.count(0, retry=attempt > 0)
                continue
            load.count(r.status_code, retry=attempt > 0)
            if r.status_code < 500:
                return r
        return None

    def converse(n: int) -> None:
        r = post(urls[n % len(urls)], "/v1/sessions", {"user_id": f"load-user-{n}"})
        if r is None or r.status_code != 201:
            return
        sid = r.json()["session_id"]
        with load.changed:
            load.sessions[sid], load.acknowledged[sid] = [], []
        for t in range(turns):
            url = urls[(n + t) % len(urls)]
            text = f"{QUERIES[(n + t) % len(QUERIES)]} (session {n}, turn {t})"
            started = time.perf_counter()
            r = post(url, f"/v1/sessions/{sid}/messages", {"message": text})
            worker = None if r is None else r.headers.get("x-recochat-worker", url)
            ok = r is not None and r.status_code == 200 and bool(r.json().get("reply"))
            load.turn(sid, text, time.perf_counter() - started, worker, ok)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients + 1) as pool:
        side = pool.submit(during, load) if during else None
        try:
            list(pool.map(converse, range(sessions)))
        finally:
            load.finish()
        if side is not None:
            side.result()
    load.seconds = time.perf_counter() - started

    with fresh(urls[-1]) as http:
        for sid, sent in load.sessions.items():
            messages = http.get(f"/v1/sessions/{sid}").json()["messages"]
            check_history(load, messages, sent, load.acknowledged[sid])
    return load


def check_history(
    load: Load, messages: list[dict[str, Any]], sent: list[str], acked: list[str]
) -> None:
    """Count one session's stored turns and replies; whether it is exactly what was sent,
    each answered; the acknowledged turns missing from it (each must be stored with its
    reply, in order); user messages stored with no reply (a turn killed mid-way)."""
    users = [m["content"] for m in messages if m["role"] == "user"]
    replies = [m for m in messages if m["role"] == "assistant" and m["content"]]
    load.turns_stored += len(users)
    load.replies_stored += len(replies)
    roles = [m["role"] for m in messages]
    if users == sent and roles == ["user", "assistant"] * len(sent):
        load.stored_in_order += 1
    answered = [
        m["content"]
        for m, after in zip(messages, messages[1:] + [{}], strict=True)
        if m["role"] == "user" and after.get("role") == "assistant" and after.get("content")
    ]
    load.unanswered_stored += len(users) - len(answered)
    position = 0
    for text in acked:
        try:
            position = answered.index(text, position) + 1
        except ValueError:
            load.lost += 1


def scale_out_env(
    home: Path, database_url: str, redis_url: str, chroma_port: int, model: str | None = None
) -> dict[str, str]:
    """Settings of the workers and the CLI: scripted LLM and hash embedder (the
    platform's own figures), or with `model` that LLM and the default embedder."""
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
    if model:
        env["RECOCHAT_LLM"] = model
        del env["RECOCHAT_EMBEDDER"]
    return env


@contextmanager
def services() -> Iterator[tuple[Any, Any, Any]]:
    """Throw-away PostgreSQL, Redis and Chroma servers (ServiceMissing if one is not
    installed), stopped on the way out."""
    from eval.perf.services import ChromaServer, Postgres, Redis

    started: list[Any] = []
    try:
        for kind in (Postgres, Redis, ChromaServer):
            started.append(kind())
        yield started[0], started[1], started[2]
    finally:
        for service in started:
            service.stop()


class Serve:
    """`recochat serve --workers N` on a free port, its output in `log_path`."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int):
        from eval.perf.services import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen(
                [RECOCHAT, "serve", "--workers", str(workers), "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait(self, timeout: float) -> None:
        """Until /readyz answers 200; RuntimeError with the log's tail if it never does."""
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the server did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text()[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def prepare(env: dict[str, str], catalog: str | None = None) -> str:
    """Ingest the catalog (the small shop fixture, or `--demo`) and return a new key."""
    fixture = Path(__file__).parents[2] / "tests" / "fixtures" / "shop_small.jsonl"
    source = catalog or (str(fixture) if fixture.is_file() else "--demo")
    subprocess.run([RECOCHAT, "ingest", source], env=env, check=True, capture_output=True)
    return subprocess.run(
        [RECOCHAT, "keys", "create", "load"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def run(args) -> int:
    from eval.perf.services import ServiceMissing

    model = getattr(args, "model", None)
    try:
        with (
            services() as (pg, rd, chroma),
            tempfile.TemporaryDirectory(prefix="recochat-scale-") as tmp,
        ):
            env = scale_out_env(Path(tmp) / "home", pg.url, rd.url, chroma.port, model)
            key = prepare(env, "--demo" if model else None)
            server = Serve(env, Path(tmp) / "serve.log", args.workers)
            try:
                server.wait(900 if model else 300)
                load = drive([server.url], key, args.sessions, args.turns, args.clients)
            finally:
                server.stop()
    except ServiceMissing as e:
        print(e, file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    figures = {**load.figures(), "load_avg": os.getloadavg()[0]}
    llm = f"{model} + MiniLM" if model else "scripted LLM"
    print(
        f"{args.sessions} sessions x {args.turns} turns over {args.workers} workers "
        f"(PostgreSQL + Redis + Chroma server, {llm}, {args.clients} clients): "
        f"{figures['turns']} turns in {figures['seconds']} s = {figures['turns_per_s']} "
        f"turns/s, p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms; "
        f"{figures['5xx']} x 5xx; turns per worker {sorted(load.workers.values())}; "
        f"stored {figures['turns_stored']} turns and {figures['replies_stored']} "
        f"replies; {figures['sessions_in_order']}/{len(load.sessions)} sessions in "
        f"order; load average {figures['load_avg']:.2f}"
    )
    print(json.dumps(figures))
    return 0
