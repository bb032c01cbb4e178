"""`recochat bench-api`: how fast is `recochat serve` on this machine?

Each figure comes from a real server in a subprocess on 127.0.0.1, driven over
HTTP the way the widget drives it:

1. per model (default smollm2-135m and qwen2.5-coder-0.5b; MiniLM embedder, the
   demo catalog): time from sending a message to the first SSE event (the item
   cards) and to the first text token, p50/p95 over a set of shop requests, one
   turn at a time, and the server's resident memory afterwards;
2. search-only calls (/v1/search, MiniLM): requests per second at a few clients;
3. the concurrency run: 20 sessions x 10 turns at once, by default with the scripted
   LLM (RECOCHAT_LLM=scripted, no generation) and the hash embedder; `--load-model M`
   runs it with a real model and MiniLM instead, as the widget would be used:
   turns/s, latency p50/p95, 5xx count, every turn persisted, server memory.

The 1-minute load average is printed with the figures: on a shared 2-core
machine other work slows everything down, and the number says how much.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

EXIT_USER_ERROR = 2
QUERIES = [
    "noise cancelling headphones for long flights",
    "a waterproof tent for two under $200",
    "a gift for a ten year old who likes building things",
    "a quiet coffee grinder",
    "running shoes for beginners",
    "a good mystery novel",
    "a moisturiser for dry skin",
    "an ergonomic office chair",
    "tools for a small vegetable garden",
    "a warm winter jacket",
    "a board game for the whole family",
    "a desk lamp for reading",
]
# the many-sessions run mixes in customers writing in other languages: a server
# then holds the multilingual reading too (chat/understand/foreign.py)
LOAD_QUERIES = [
    *QUERIES,
    "busco una mochila para viajar, no muy cara",
    "ich suche einen Wasserkocher aus Edelstahl",
    "je cherche une lampe de bureau",
]
RECOCHAT = str(Path(sys.executable).parent / "recochat")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"p50": round(at(0.5) * 1000), "p95": round(at(0.95) * 1000)}


def _mean_ms(metrics: str, histogram: str) -> float | None:
    """The mean of a Prometheus histogram in /metrics text, in milliseconds."""
    found = dict(
        line.rsplit(" ", 1)
        for line in metrics.splitlines()
        if line.startswith((f"{histogram}_sum ", f"{histogram}_count "))
    )
    count = float(found.get(f"{histogram}_count", 0))
    return round(1000 * float(found[f"{histogram}_sum"]) / count) if count else None


class Server:
    def __init__(self, env: dict[str, str], log: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "w") as f:
            self.process = subprocess.Popen(
                [RECOCHAT, "serve", "--no-gradio", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=f,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 600) -> float:
        import httpx

        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"the server was not ready in {timeout} s")

    def rss_mb(self) -> float:
        import psutil

        return round(psutil.Process(self.process.pid).memory_info().rss / 2**20)  # MiB

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()  # reaped, not left a zombie


def _rss(mib: float) -> str:
    """Resident memory in both units: the figure is MiB, a target may be in GB."""
    return f"{mib:,.0f} MiB ({mib * 2**20 / 1e9:.2f} GB)"


def _env(home: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECOCHAT_")}
    for key in ("RECOCHAT_CACHE_DIR", "RECOCHAT_THREADS"):  # where models are, how many threads
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(RECOCHAT_HOME=str(home), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    env.update({f"RECOCHAT_{k.upper()}": v for k, v in settings.items()})
    return env


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([RECOCHAT, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"recochat {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip()


class Turn(NamedTuple):
    first: float | None  # seconds to the first SSE event (the cards)
    first_text: float | None  # … to the first words of the reply
    total: float
    status: int
    timings: dict  # the server's own stage timings (from the `done` event)
    problem: str | None  # None when the turn ended with `done`: else the error or status
    copy: str | None  # who wrote the reply: "llm", "retry" or "template"


def timed_turn(client, sid: str, text: str) -> Turn:
    started = time.perf_counter()
    first = first_text = copy = None
    timings: dict = {}
    problem: str | None = "no done event"
    with client.stream(
        "POST", f"/v1/sessions/{sid}/messages", json={"message": text, "stream": True}
    ) as r:
        for line in r.iter_lines():
            if line.startswith("event:"):
                now = time.perf_counter() - started
                first = first or now
                if line.split(":", 1)[1].strip() == "text":
                    first_text = first_text or now
            elif line.startswith("data:") and '"type": "done"' in line:
                done = json.loads(line[5:])
                timings, problem = done.get("timings", {}), None
                copy = done.get("debug", {}).get("copy", {}).get("source")
            elif line.startswith("data:") and '"type": "error"' in line:
                problem = json.loads(line[5:]).get("message", "error event")
    if r.status_code != 200:
        problem = f"HTTP {r.status_code}"
    total = time.perf_counter() - started
    return Turn(first, first_text, total, r.status_code, timings, problem, copy)


def bench_model(home: Path, model: str, turns: int, max_tokens: int, logs: Path) -> dict:
    import httpx

    env = _env(home, llm=model, max_reply_tokens=str(max_tokens), rate_limit="100000/minute")
    key = _cli(env, "keys", "create", f"bench-{model}")
    server = Server(env, logs / f"serve-{model}.log")
    try:
        ready_s = server.wait_ready()
        headers = {"Authorization": f"Bearer {key}"}
        firsts, texts, totals, model_first = [], [], [], []
        with httpx.Client(base_url=server.url, headers=headers, timeout=600) as client:
            sid = client.post("/v1/sessions", json={}).json()["session_id"]
            timed_turn(client, sid, "hello")  # warm-up: first-call costs are not the figure
            for i in range(turns):
                sid = client.post("/v1/sessions", json={}).json()["session_id"]
                first, first_text, total, _, timings, _, _ = timed_turn(
                    client, sid, QUERIES[i % len(QUERIES)]
                )
                if "llm_first_token" in timings:  # the model's own first token, server side
                    model_first.append(timings.get("rank", 0) + timings["llm_first_token"])
                firsts.append(first)
                texts.append(first_text)
                totals.append(total)
        return {
            "ready_s": round(ready_s, 1),
            "turns": turns,
            "first_event_ms": _pct(firsts),
            "first_token_ms": _pct([t for t in texts if t is not None]),
            # From the end of recall to the model's first token, measured in the server: the
            # gap to first_token_ms is the copy check holding words back (and any retry).
            "model_first_token_ms": _pct(model_first) if model_first else None,
            "turn_ms": _pct(totals),
            "server_rss_mb": server.rss_mb(),
        }
    finally:
        server.stop()


def bench_search(home: Path, requests: int, clients: int, logs: Path) -> dict:
    import httpx

    env = _env(home, llm="scripted", rate_limit="1000000/minute")
    key = _cli(env, "keys", "create", "bench-search")
    server = Server(env, logs / "serve-search.log")
    try:
        server.wait_ready()
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:

            def one(i: int) -> int:
                body = {"query": QUERIES[i % len(QUERIES)], "k": 10}
                if i % 3 == 0:
                    body["filters"] = {"ranges": {"price": {"max": 100}}}
                return client.post("/v1/search", json=body).status_code

            for i in range(10):
                one(i)
            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                statuses = list(pool.map(one, range(requests)))
            wall = time.perf_counter() - started
        return {
            "requests": requests,
            "clients": clients,
            "requests_per_s": round(requests / wall, 1),
            "non_200": sum(s != 200 for s in statuses),
            "server_rss_mb": server.rss_mb(),
        }
    finally:
        server.stop()


def bench_concurrency(
    home: Path, sessions: int, turns: int, logs: Path, model: str = "scripted"
) -> dict:
    """`sessions` conversations of `turns` turns at once; a real `model` uses MiniLM's store."""
    import httpx

    if model == "scripted":
        env = _env(home, llm="scripted", embedder="hash", rate_limit="1000000/minute")
        _cli(env, "ingest", "--demo")
    else:
        env = _env(home, llm=model, embedder="minilm", rate_limit="1000000/minute")
    key = _cli(env, "keys", "create", "bench-load")
    server = Server(env, logs / "serve-load.log")
    try:
        ready_s = server.wait_ready()
        headers = {"Authorization": f"Bearer {key}"}
        results: list[Turn] = []
        with httpx.Client(
            base_url=server.url,
            headers=headers,
            timeout=600,
            limits=httpx.Limits(max_connections=sessions + 4),
        ) as client:

            def converse(n: int) -> str:
                sid = client.post("/v1/sessions", json={}).json()["session_id"]
                for t in range(turns):
                    results.append(
                        timed_turn(client, sid, LOAD_QUERIES[(n + t) % len(LOAD_QUERIES)])
                    )
                return sid

            started = time.perf_counter()
            with ThreadPoolExecutor(sessions) as pool:
                ids = list(pool.map(converse, range(sessions)))
            wall = time.perf_counter() - started
            persisted = sum(
                len(client.get(f"/v1/sessions/{sid}").json()["messages"]) for sid in ids
            )
            metrics = client.get("/metrics").text
        statuses = [r.status for r in results]
        return {
            "model": model,
            "sessions": sessions,
            "turns_each": turns,
            "turns": len(results),
            "wall_s": round(wall, 2),
            "turns_per_s": round(len(results) / wall, 1),
            "first_event_ms": _pct([r.first for r in results if r.first is not None]),
            "turn_ms": _pct([r.total for r in results]),
            "mean_turn_ms": round(1000 * statistics.mean(r.total for r in results)),
            "status_5xx": sum(s >= 500 for s in statuses),
            "turns_failed": sum(r.problem is not None for r in results),
            "failures": sorted({r.problem for r in results if r.problem is not None})[:5],
            "copy": dict(Counter(r.copy or "none" for r in results)),
            # mean wait in the server before a turn starts (behind the session's
            # earlier turns and for a free turn thread), from its /metrics
            "server_queue_ms_mean": _mean_ms(metrics, "recochat_turn_queue_seconds"),
            "server_stages_ms": {  # the server's own timings of each stage of a turn
                stage: _pct([r.timings[stage] for r in results if stage in r.timings])
                for stage in sorted({k for r in results for k in r.timings})
            },
            "ready_s": round(ready_s, 1),  # start to /readyz 200: model, catalog, languages
            "messages_persisted": persisted,
            "messages_expected": 2 * sessions * turns,
            "server_rss_mb": server.rss_mb(),
        }
    finally:
        server.stop()


def run_bench_api(args) -> int:
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    work = Path(tempfile.mkdtemp(prefix="recochat-bench-api-"))
    logs = work / "logs"
    logs.mkdir()
    figures: dict = {"load_avg_1m_start": round(os.getloadavg()[0], 2), "cores": os.cpu_count()}
    try:
        minilm = work / "minilm"
        _cli(_env(minilm, embedder="minilm"), "ingest", "--demo")
        if models:
            figures["models"] = {}
        for model in models:
            print(f"model {model}: {args.turns} turns …", file=sys.stderr, flush=True)
            r = bench_model(minilm, model, args.turns, args.max_tokens, logs)
            figures["models"][model] = r
            print(
                f"  {model:<20} first event p50 {r['first_event_ms']['p50']} ms, p95 "
                f"{r['first_event_ms']['p95']} ms | first token p50 {r['first_token_ms']['p50']} "
                f"ms, p95 {r['first_token_ms']['p95']} ms (model's own first token p50 "
                f"{(r['model_first_token_ms'] or {}).get('p50')} ms) | turn p50 {r['turn_ms']['p50']} ms "
                f"| server RSS {_rss(r['server_rss_mb'])}"
            )
        print("search-only …", file=sys.stderr, flush=True)
        s = figures["search"] = bench_search(minilm, args.search_requests, args.clients, logs)
        print(
            f"  /v1/search (MiniLM, {s['clients']} clients): {s['requests_per_s']} requests/s "
            f"over {s['requests']} ({s['non_200']} not 200) | server RSS {_rss(s['server_rss_mb'])}"
        )
        print("concurrency run …", file=sys.stderr, flush=True)
        load_home = work / "hash" if args.load_model == "scripted" else minilm
        c = figures["concurrency"] = bench_concurrency(
            load_home, args.load_sessions, args.load_turns, logs, args.load_model
        )
        print(
            f"  {c['sessions']} sessions x {c['turns_each']} turns ({c['model']}): "
            f"{c['turns_per_s']} turns/s, turn p50 {c['turn_ms']['p50']} ms p95 "
            f"{c['turn_ms']['p95']} ms, first event p50 {c['first_event_ms']['p50']} ms, "
            f"{c['status_5xx']} 5xx, {c['turns_failed']} turns without a reply "
            f"{c['failures']}, replies by {c['copy']}, {c['messages_persisted']}/{c['messages_expected']} messages "
            f"persisted | server ready in {c['ready_s']} s, RSS {_rss(c['server_rss_mb'])}"
        )
    except RuntimeError as e:
        print(f"Error: {e}\n(logs in {logs})", file=sys.stderr)
        return EXIT_USER_ERROR
    figures["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    print(
        f"  load average (1 min) {figures['load_avg_1m_start']} at start, "
        f"{figures['load_avg_1m_end']} at end, on {figures['cores']} cores"
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return 0
