"""`recochat eval crash`: kill -9 at the worst moments, then count what was lost.

`--kind worker`: `recochat serve --workers 2` on PostgreSQL + Redis + a Chroma
server (scripted LLM, hash embedder; eval/perf/scale_out.py) under traffic; in
each round one worker is killed with SIGKILL while turns run. Clients retry a
turn that got no complete reply (connection lost, 5xx), as a widget does. Every
acknowledged turn (a 200 with its reply) must be stored with its reply, in the
session's order; the supervisor must start a new worker.

`--kind ingest`: `recochat ingest` of a synthetic catalog (hash embedder, so
embedding is quick and the write phase long enough to hit) is killed after it
prints "Writing N items", at a random point of a write as long as a clean run's.
Then the store must reopen with whole rows only (each stored item's content hash
and vector those of its catalog row, each found by its own vector), and a
re-ingest must add exactly the rows that were not written, after which the ids
are exactly the catalog's. With `--server`, the items live in a Chroma server.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.perf.scale_out import (
    RECOCHAT,
    Load,
    Serve,
    drive,
    prepare,
    scale_out_env,
    services,
)

INGESTED = re.compile(r"(\d+) added, (\d+) updated, (\d+) unchanged")


# --- kill -9 of a worker ----------------------------------------------------------


@dataclass
class WorkerRound:
    killed: int  # the pid
    load: Load
    restarted: bool  # the supervisor logged the exit and a new worker answered

    def line(self) -> str:
        f = self.load.figures()
        return (
            f"killed worker {self.killed}: {f['acknowledged']}/{f['turns']} turns acknowledged, "
            f"{f['lost']} lost, {f['retried']} retried, {f['unanswered_stored']} stored "
            f"without reply (killed mid-turn); restarted: {self.restarted}"
        )


def kill_a_worker(server: Serve, url: str, key: str, n: int, sessions: int, turns: int):
    """One round: traffic from `sessions` clients, a SIGKILL to the worker that served
    the latest turn once a third of the turns are acknowledged."""
    killed: list[int] = []
    before: set[str] = set()  # the workers that answered before the kill
    total = sessions * turns

    def killer(load: Load) -> None:
        latest, answered = load.wait_acknowledged(total // 3)
        pid = int(latest)
        before.update(answered)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    load = drive([url], key, sessions, turns, clients=sessions, retries=20, during=killer)
    return WorkerRound(killed[0], load, restarted(server, killed[0], before))


def restarted(server: Serve, pid: int, known: set[str], timeout: float = 120) -> bool:
    """Whether the supervisor logged the worker's death and a new worker answers."""
    deadline = time.monotonic() + timeout
    said = f"worker {pid} exited (-9); starting another"
    while said not in server.log_path.read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return new_worker_answers(server.url, known, deadline - time.monotonic())


def new_worker_answers(url: str, known: set[str], timeout: float = 120) -> bool:
    """Whether a worker never seen before answers (new connections reach every worker)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with httpx.Client(timeout=10) as http:
                pid = http.get(url + "/readyz").headers.get("x-recochat-worker")
            if pid is not None and pid not in known:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False


def worker_crashes(runs: int, sessions: int, turns: int) -> tuple[list[WorkerRound], bool]:
    with (
        services() as (pg, rd, chroma),
        tempfile.TemporaryDirectory(prefix="recochat-crash-") as tmp,
    ):
        env = scale_out_env(Path(tmp) / "home", pg.url, rd.url, chroma.port)
        key = prepare(env)
        server = Serve(env, Path(tmp) / "serve.log", 2)
        try:
            server.wait(300)
            rounds = []
            for n in range(runs):
                rounds.append(kill_a_worker(server, server.url, key, n, sessions, turns))
                print(f"round {n + 1}: {rounds[-1].line()}", flush=True)
            alive = server.process.poll() is None
        finally:
            server.stop()
    return rounds, alive


# --- kill -9 of an ingest while it writes -------------------------------------------


def synthetic_catalog(path: Path, items: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    words = "quiet compact sturdy light waterproof classic smart portable solar steel".split()
    kinds = "tent lamp grinder kettle backpack jacket chair stove bottle speaker".split()
    with open(path, "w") as out:
        for n in range(items):
            kind = kinds[n % len(kinds)]
            title = f"{rng.choice(words).title()} {kind.title()} {n}"
            row = {
                "id": f"syn-{n:07d}",
                "title": title,
                "description": f"A {rng.choice(words)} {kind}, model {n}, {rng.choice(words)}.",
                "category": kind,
                "brand": f"brand{n % 37}",
                "price": round(rng.uniform(5, 500), 2),
            }
            out.write(json.dumps(row) + "\n")


@dataclass
class IngestRound:
    written_at_kill: int  # whole rows in the store after the kill
    half_rows: int  # stored rows whose hash or vector is not their catalog row's
    not_found_by_own_vector: int
    added: int  # by the re-ingest
    updated: int
    ids_exact: bool
    second_embedded: int  # a third ingest: must embed nothing

    def lost(self, items: int) -> bool:
        return not (
            self.half_rows == 0
            and self.not_found_by_own_vector == 0
            and self.added == items - self.written_at_kill
            and self.updated == 0
            and self.ids_exact
            and self.second_embedded == 0
        )


def ingest(env: dict[str, str], catalog: Path) -> tuple[int, int, int]:
    done = subprocess.run(
        [RECOCHAT, "ingest", str(catalog)], env=env, capture_output=True, text=True, check=False
    )
    found = INGESTED.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"recochat ingest failed ({done.returncode}): {done.stderr[-2000:]}")
    added, updated, unchanged = map(int, found.groups())
    return added, updated, unchanged


def start_ingest(env: dict[str, str], catalog: Path) -> subprocess.Popen[str]:
    """`recochat ingest CATALOG` with its progress lines ("Embedding", "Writing") on a pipe."""
    return subprocess.Popen(
        [RECOCHAT, "ingest", str(catalog)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def timed_write(env: dict[str, str], catalog: Path) -> float:
    """A clean ingest: the seconds from "Writing" to the end."""
    proc = start_ingest(env, catalog)
    assert proc.stderr is not None
    writing = None
    for line in proc.stderr:
        if line.startswith("Writing"):
            writing = time.monotonic()
    proc.wait()
    if proc.returncode != 0 or writing is None:
        raise RuntimeError(f"the clean ingest failed ({proc.returncode})")
    return time.monotonic() - writing


def kill_while_writing(env: dict[str, str], catalog: Path, within: float) -> float:
    """Start an ingest; once it says "Writing", SIGKILL it after a random part of `within`."""
    proc = start_ingest(env, catalog)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("Writing"):
            delay = random.uniform(0.1, 0.9) * within
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if proc.returncode != -signal.SIGKILL:
                raise RuntimeError(f"the ingest ended ({proc.returncode}) before the kill")
            return delay
    proc.wait()
    raise RuntimeError(f"the ingest never said 'Writing' ({proc.returncode})")


def open_store(env: dict[str, str]):
    from retrieval import ItemStore, make_embedder

    embedder = make_embedder(env["RECOCHAT_EMBEDDER"])
    collection = env.get("RECOCHAT_COLLECTION", "items")
    if env.get("RECOCHAT_CHROMA_HOST"):
        port = int(env["RECOCHAT_CHROMA_PORT"])
        return ItemStore.http(env["RECOCHAT_CHROMA_HOST"], port, embedder, collection)
    return ItemStore.persistent(str(Path(env["RECOCHAT_HOME"]) / "chroma"), embedder, collection)


def whole_rows(env: dict[str, str], catalog: Path, probes: int = 30) -> tuple[int, int, int]:
    """(rows stored, rows that are not exactly their catalog row, sampled rows that
    their own vector does not find first)."""
    import numpy as np

    from retrieval import PRESETS, load_catalog

    rows = {it.id: it for it in load_catalog(catalog, PRESETS["shop"]).items}
    store = open_store(env)
    stored, half, pages = 0, 0, []
    offset = 0
    while True:
        page = store.collection.get(
            limit=5000, offset=offset, include=["metadatas", "embeddings", "documents"]
        )
        if not page["ids"]:
            break
        pages.append(page)
        offset += len(page["ids"])
    sample: list[tuple[str, Any]] = []
    for page in pages:
        for id_, meta, vec, doc in zip(
            page["ids"], page["metadatas"], page["embeddings"], page["documents"], strict=True
        ):
            stored += 1
            row = rows.get(id_)
            if row is None or meta.get("_hash") != row.content_hash or doc != row.text:
                half += 1
                continue
            if vec is None or not np.allclose(vec, store.embedder.embed([row.text])[0], atol=1e-5):
                half += 1
            elif len(sample) < probes:
                sample.append((id_, vec))
    missed = 0
    for id_, vec in sample:
        found = store.collection.query(query_embeddings=[list(vec)], n_results=1)["ids"][0]
        missed += found != [id_]
    return stored, half, missed


def ingest_crashes(
    runs: int, items: int, server: bool, within: float | None = None
) -> list[IngestRound]:
    """`runs` ingests killed while writing, each into a fresh store; the kill comes a
    random part of `within` seconds after "Writing" (default: a clean run's write)."""
    with tempfile.TemporaryDirectory(prefix="recochat-crash-ingest-") as tmp:
        catalog = Path(tmp) / "catalog.jsonl"
        synthetic_catalog(catalog, items)
        chroma = None
        try:
            if server:
                from eval.perf.services import ChromaServer

                chroma = ChromaServer()

            def env_for(n: int) -> dict[str, str]:
                env = {k: v for k, v in os.environ.items() if not k.startswith("RECOCHAT_")}
                env.update(
                    RECOCHAT_HOME=str(Path(tmp) / f"home{n}"),
                    RECOCHAT_EMBEDDER="hash",
                    RECOCHAT_LLM="scripted",
                    ANONYMIZED_TELEMETRY="False",
                    HF_HUB_OFFLINE="1",
                )
                if chroma is not None:
                    env.update(
                        RECOCHAT_CHROMA_HOST=chroma.host,
                        RECOCHAT_CHROMA_PORT=str(chroma.port),
                        RECOCHAT_COLLECTION=f"crash{n}",
                    )
                return env

            if within is None:
                within = timed_write(env_for(0), catalog)
                print(f"a clean ingest of {items} items writes for {within:.1f} s", flush=True)
            rounds = []
            for n in range(1, runs + 1):
                env = env_for(n)
                delay = kill_while_writing(env, catalog, within)
                stored, half, missed = whole_rows(env, catalog)
                added, updated, _ = ingest(env, catalog)
                ids_exact = set(open_store(env).all_metas()) == {
                    f"syn-{i:07d}" for i in range(items)
                }
                again = ingest(env, catalog)
                rounds.append(
                    IngestRound(
                        stored, half, missed, added, updated, ids_exact, again[0] + again[1]
                    )
                )
                r = rounds[-1]
                print(
                    f"round {n}: killed {delay:.2f} s into the write with {stored}/{items} rows "
                    f"stored, {half} half rows, {missed} not found by their own vector; "
                    f"re-ingest added {added} (expected {items - stored}), updated {updated}; "
                    f"ids exact: {ids_exact}; a third ingest embedded {r.second_embedded}",
                    flush=True,
                )
            return rounds
        finally:
            if chroma is not None:
                chroma.stop()


def run(args) -> int:
    from eval.perf.services import ServiceMissing

    failed = False
    try:
        if args.kind in ("worker", "both"):
            rounds, alive = worker_crashes(args.runs, args.sessions, args.turns)
            acked = sum(r.load.figures()["acknowledged"] for r in rounds)
            lost = sum(r.load.figures()["lost"] for r in rounds)
            restarted = sum(r.restarted for r in rounds)
            print(
                f"worker kill -9 x {len(rounds)} (2 workers, PostgreSQL + Redis + Chroma server, "
                f"scripted LLM): {acked} turns acknowledged, {lost} lost; restarted "
                f"{restarted}/{len(rounds)}; supervisor alive: {alive}; "
                f"load average {os.getloadavg()[0]:.2f}"
            )
            failed |= lost > 0 or restarted < len(rounds) or not alive
        if args.kind in ("ingest", "both"):
            where = "a Chroma server" if args.server else "embedded Chroma + SQLite"
            rounds_i = ingest_crashes(args.runs, args.items, args.server)
            bad = sum(r.lost(args.items) for r in rounds_i)
            landed = sum(0 < r.written_at_kill < args.items for r in rounds_i)
            print(
                f"ingest kill -9 while writing x {len(rounds_i)} ({args.items} items, {where}): "
                f"{landed} kills with part of the rows written, {bad} rounds with a half row, "
                f"a wrong id or a row embedded twice; load average {os.getloadavg()[0]:.2f}"
            )
            failed |= bad > 0
    except ServiceMissing as e:
        print(e, file=sys.stderr)
        return 2
    except RuntimeError as e:
        import traceback

        traceback.print_exc()
        print(e, file=sys.stderr)
        return 1
    return 1 if failed else 0


def add_parser(sub) -> None:
    p = sub.add_parser("crash", help="kill -9 of a serving worker or of an ingest; count losses")
    p.add_argument("--kind", choices=("worker", "ingest", "both"), default="both")
    p.add_argument("--runs", type=int, default=5, help="kills of each kind")
    p.add_argument("--sessions", type=int, default=8, help="worker rounds: sessions at once")
    p.add_argument("--turns", type=int, default=6, help="worker rounds: turns per session")
    p.add_argument("--items", type=int, default=20000, help="ingest rounds: catalog size")
    p.add_argument("--server", action="store_true", help="ingest into a Chroma server")
    p.set_defaults(func=run)
