"""`recochat bench`: how fast is each part of a turn on this machine?

Four figures, printed as a table (and written as JSON with --json):

1. ingest: the ReDial movie catalog embedded with MiniLM into a fresh persistent
   Chroma, embed and write timed apart, then a re-ingest of the unchanged file;
2. recall + rank: a first chat turn's own steps through the recommender the chat
   uses (state tracker → multi-channel recall + fusion → rerank + cards, with the
   online learners of a fresh session, from an empty artifacts folder as after a
   fresh install) over real user utterances from ReDial dev turns, as p50/p95 per
   stage;
3. each LLM in its own processes: a cold load from GGUF into an empty cache
   (assembling chunks, checking the sha256 and converting, as a first start
   does), a warm load from that cache, then time to first token and tokens/s
   for a real recommendation prompt, and each process's peak RSS;
4. the peak RSS of the bench process itself (MiniLM + Chroma + catalog).

Models run in subprocesses (`python -m eval.perf.bench --model-worker` reading a JSON
job on stdin) so that every load starts from nothing and memory is per model.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REDIAL = REPO.parent / "shared" / "data" / "redial"
SHORTLIST_K, RECOMMEND_K = 50, 3  # the session's defaults (chat.TurnSettings)
MAX_NEW_TOKENS, WARMUP_QUERIES = 96, 10
EXIT_USER_ERROR = 2


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux carries ru_maxrss over fork and
    exec, so a worker started by a 1.4 GB bench would report at least 1.4 GB;
    VmHWM belongs to the process's own address space and starts afresh at exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # KiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def load_avg() -> float:
    """1-minute load average: above our own threads' share, someone else is busy."""
    return round(os.getloadavg()[0], 2)


def percentiles(values: list[float]) -> dict[str, float]:
    import numpy as np

    p50, p95 = np.percentile(values, [50, 95])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2)}


class TimedEmbedder:
    """Wraps an embedder and adds up the time spent in `embed`, so the store's
    own calls can be split into embedding and everything else."""

    def __init__(self, inner):
        self.inner, self.spec, self.dim = inner, inner.spec, inner.dim
        self.seconds = 0.0

    def embed(self, texts):
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started


# --- 1. ingest -------------------------------------------------------------------


def bench_ingest(items, chroma_dir: str, embedder: TimedEmbedder) -> tuple[dict, object]:
    from retrieval import ItemStore

    store = ItemStore.persistent(chroma_dir, embedder)
    started = time.perf_counter()
    report = store.upsert(items)
    total = time.perf_counter() - started
    embed = embedder.seconds
    # A new store object on the same directory, as a second `recochat ingest` would see it.
    again = ItemStore.persistent(chroma_dir, embedder)
    started = time.perf_counter()
    second = again.upsert(items)
    reingest = time.perf_counter() - started
    figures = {
        "items": len(items),
        "embedded": report.embedded,
        "embed_s": round(embed, 2),
        "write_s": round(total - embed, 2),  # Chroma upserts + facet discovery
        "total_s": round(total, 2),
        "embed_items_per_s": round(report.embedded / embed, 1),
        "items_per_s": round(len(items) / total, 1),
        "reingest_s": round(reingest, 2),
        "reingest_embedded": second.embedded,
    }
    return figures, again


# --- 2. recall + rank --------------------------------------------------------------


def load_queries(path: Path, n: int) -> list[str]:
    """The seeker's last utterance before each recommendation: what a user typed."""
    queries = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["context"][-1].strip()
            if text:
                queries.append(text)
            if len(queries) == n:
                break
    return queries


def run_turn(text, tracker, recommender, key):
    """One turn's retrieval half, as chat.session.Session runs it (key: its session id)."""
    from chat import DialogueState, ranked_cards, shortlist

    laps = [time.perf_counter()]
    state = tracker.update(DialogueState(), text)
    laps.append(time.perf_counter())
    recalled = shortlist(recommender, state, RECOMMEND_K, limit=SHORTLIST_K, key=key)
    laps.append(time.perf_counter())
    found = ranked_cards(recommender, recalled, state, RECOMMEND_K)
    laps.append(time.perf_counter())
    return state, found, laps


def bench_recall(queries, tracker, recommender, embedder: TimedEmbedder) -> dict:
    for n, text in enumerate(queries[:WARMUP_QUERIES]):  # first calls pay for lazy setup
        run_turn(text, tracker, recommender, f"warm-up-{n}")
    stages: dict[str, list[float]] = {k: [] for k in ("state", "recall", "embed", "rank", "total")}
    for n, text in enumerate(queries):
        embedded_before = embedder.seconds
        _, _, laps = run_turn(text, tracker, recommender, f"bench-{n}")  # a new session each
        ms = [1000 * (b - a) for a, b in zip(laps, laps[1:], strict=False)]
        for name, value in zip(("state", "recall", "rank"), ms, strict=True):
            stages[name].append(value)
        stages["embed"].append(1000 * (embedder.seconds - embedded_before))
        stages["total"].append(1000 * (laps[-1] - laps[0]))
    return {"queries": len(queries), **{k: percentiles(v) for k, v in stages.items()}}


def recommendation_prompt(queries, tracker, recommender) -> list[dict[str, str]]:
    """The prompt a real turn sends: the first query that yields a full set of cards."""
    from chat import CopyWriter, ScriptedLLM

    for n, text in enumerate(queries):
        state, found, _ = run_turn(text, tracker, recommender, f"prompt-{n}")
        if len(found.cards) == RECOMMEND_K:
            writer = CopyWriter(ScriptedLLM())  # prompt() only renders; it never calls the model
            return writer.prompt(text, found.cards, [i.meta for i in found.items], state.language)
    raise RuntimeError("no query produced a full set of recommendations")


def fresh_recommender(store, db, artifacts: Path):
    """The recommender as chat.app.App builds it, with the default `learning` settings,
    on an empty database and an empty artifacts folder (nothing trained yet)."""
    from chat import InteractionStore
    from retrieval import LearningConfig, Recommender

    artifacts.mkdir(parents=True, exist_ok=True)
    return Recommender.build(store, InteractionStore(db), artifacts, LearningConfig())


# --- 3. LLMs, one process per load -----------------------------------------------


def _marked(messages, where: int, mark: str) -> list[dict[str, str]]:
    """A copy of `messages` with `mark` put at the start of message `where`: from
    there on no prompt seen before matches, so a prefix cache cannot help."""
    out = [dict(m) for m in messages]
    out[where]["content"] = f"{mark}\n{out[where]['content']}"
    return out


def _timed_run(llm, messages) -> dict:
    generation = llm.stream(messages, max_tokens=MAX_NEW_TOKENS)  # no stop strings
    "".join(generation)
    u = generation.usage
    return {
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "first_token_s": u.first_token_s,
        "total_s": u.total_s,
        # decode speed leaves out the first token, which is the prompt's forward pass
        "gen_tok_per_s": (u.completion_tokens - 1) / (u.total_s - u.first_token_s),
    }


def _concurrent(llm, messages, n: int) -> float:
    """Wall time of n different turns (same fixed prefix) started at once. A turn
    that fails fails the run: a wall time of failed turns would flatter the engine."""
    from concurrent.futures import ThreadPoolExecutor

    turns = [_marked(messages, -1, f"Turn {i}.") for i in range(n)]
    started = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda turn: _timed_run(llm, turn), turns))  # re-raises a failure
    return time.perf_counter() - started


def model_worker(job: dict) -> dict:
    """Runs inside the subprocess: load, optionally generate, report."""
    from chat import ModelError, make_llm

    llm = make_llm(job["model"], cache_dir=job["cache_dir"], greedy=True, engine=job["engine"])
    try:
        llm = llm.load()
    except ModelError as e:
        return {"error": str(e)}
    out = {"load_s": llm.load_seconds, "loaded_from": llm.loaded_from, "engine": llm.engine}
    messages = job.get("messages")
    if messages:
        llm.complete(messages, max_tokens=4)  # pays one-off setup; caches the fixed prefix
        # cold: a new first message, so the whole prompt is computed (prefill speed);
        # warm: the fixed start as every turn sends it, a new request after it.
        repeats = job["repeats"]
        cold = [_timed_run(llm, _marked(messages, 0, f"Run {i}.")) for i in range(repeats)]
        warm = [_timed_run(llm, _marked(messages, -1, f"Run {i}.")) for i in range(repeats)]
        median = statistics.median
        out.update(
            prompt_tokens=cold[0]["prompt_tokens"],
            completion_tokens=median(r["completion_tokens"] for r in warm),
            first_token_s=median(r["first_token_s"] for r in cold),
            prompt_tok_per_s=median(r["prompt_tokens"] / r["first_token_s"] for r in cold),
            warm_first_token_s=median(r["first_token_s"] for r in warm),
            reply_s=median(r["total_s"] for r in warm),
            gen_tok_per_s=median(r["gen_tok_per_s"] for r in cold + warm),
        )
        if n := job.get("concurrent"):
            out.update(
                concurrent_s=_concurrent(llm, messages, n),
                sequential_s=statistics.mean(r["total_s"] for r in warm) * n,
            )
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_worker(job: dict) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "eval.perf.bench", "--model-worker"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": f"worker exited with {proc.returncode}: {tail[0]}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])  # libraries may print above
    result["process_s"] = time.perf_counter() - started  # includes imports
    return result


def bench_model(name: str, engine: str, messages, concurrent: int = 0, repeats: int = 3) -> dict:
    with tempfile.TemporaryDirectory(prefix="recochat-bench-models-") as cache:
        job = {"model": name, "cache_dir": cache, "engine": engine}
        cold = run_worker(job)
        if "error" in cold:
            return cold
        warm = run_worker(
            {**job, "messages": messages, "concurrent": concurrent, "repeats": repeats}
        )
    if "error" in warm:
        return warm
    if cold["loaded_from"] != "gguf" or warm["loaded_from"] != "cache":
        # Not an error, but the cold/warm labels would not mean what they say.
        warm["note"] = f"loaded from {cold['loaded_from']} then {warm['loaded_from']}"
    figures = {k: v for k, v in warm.items() if k not in ("load_s", "loaded_from")}
    figures.update(
        cold_load_s=cold["load_s"],
        cold_peak_rss_mb=cold["peak_rss_mb"],
        warm_load_s=warm["load_s"],
        warm_process_s=warm["process_s"],
    )
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}


RATIOS = {  # figure: True when more is better
    "prompt_tok_per_s": True,
    "gen_tok_per_s": True,
    "first_token_s": False,
    "peak_rss_mb": False,
}


def ratios(new: dict, old: dict) -> dict:
    """How many times better `new` is than `old` on each figure (> 1: better)."""
    if "error" in new or "error" in old:
        return {}
    return {k: round(new[k] / old[k] if more else old[k] / new[k], 2) for k, more in RATIOS.items()}


# --- the command -------------------------------------------------------------------


def machine() -> dict:
    import torch

    return {
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "torch_threads": torch.get_num_threads(),
        "load_avg_start": load_avg(),
    }


def bench_models(args, messages) -> dict:
    """Every model on every engine, the same prompt; the engines' ratios side by side."""
    out: dict = {}
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    print_llm_header(messages, args.repeats)
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        runs = out[name] = {}
        for engine in engines:
            concurrent = args.concurrent if engine == "openvino" else 0
            runs[engine] = {
                **bench_model(name, engine, messages, concurrent, args.repeats),
                "load_avg": load_avg(),
            }
            print_llm_row(name, engine, runs[engine])
        if {"openvino", "transformers"} <= set(runs):
            runs["ratios"] = ratios(runs["openvino"], runs["transformers"])
            print_ratios(runs["ratios"])
        if "concurrent_s" in runs.get("openvino", {}):
            print_concurrency(args.concurrent, runs["openvino"])
    return out


def run_bench(args) -> int:
    for flag, value in (("--queries", args.queries), ("--repeats", args.repeats)):
        if value < 1:
            print(f"Error: {flag} must be at least 1.", file=sys.stderr)
            return EXIT_USER_ERROR
    catalog = Path(args.catalog) if args.catalog else REDIAL / "catalog.jsonl"
    turns = REDIAL / "dev_turns.jsonl"
    for path, what in ((catalog, "catalog"), (turns, "ReDial dev turns")):
        if not path.is_file():
            print(
                f"Error: {what} not found: {path}. Put the ReDial data in "
                f"{REDIAL.parent} (see DESIGN.md), or pass --catalog FILE.",
                file=sys.stderr,
            )
            return EXIT_USER_ERROR

    from chat import StateTracker, open_database
    from retrieval import PRESETS, FieldMap, load_catalog, make_embedder, read_rows

    started = time.perf_counter()
    results: dict = {"machine": machine(), "catalog": str(catalog)}
    print_machine(results["machine"])
    # The ReDial layout gets its preset; any other catalog is read with the shop defaults.
    _, first_row = next(read_rows(catalog), (0, {}))
    fields = PRESETS["redial"] if "redial_id" in first_row else FieldMap()
    parse_started = time.perf_counter()
    items = load_catalog(catalog, fields).items
    parse_s = time.perf_counter() - parse_started

    embedder = TimedEmbedder(make_embedder("minilm"))
    embedder.embed(["warm up"])  # loading MiniLM is not part of ingest throughput
    embedder.seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="recochat-bench-", ignore_cleanup_errors=True) as tmp:
        ingest, store = bench_ingest(items, str(Path(tmp) / "chroma"), embedder)
        results["ingest"] = {"parse_s": round(parse_s, 2), **ingest, "load_avg": load_avg()}
        print_ingest(catalog, results["ingest"])

        # As the app builds them (chat.app.App): from the catalog as ingested.
        tracker = StateTracker(store.facets(), store.all_metas())
        db = open_database(None, Path(tmp) / "recochat.db")
        recommender = fresh_recommender(store, db, Path(tmp) / "artifacts")
        queries = load_queries(turns, args.queries)
        recall = bench_recall(queries, tracker, recommender, embedder)
        results["recall_rank"] = {**recall, "load_avg": load_avg()}
        print_recall(results["recall_rank"])
        messages = recommendation_prompt(queries, tracker, recommender)
        db.close()

    results["llm"] = bench_models(args, messages)
    results["memory"] = {"bench_peak_rss_mb": round(peak_rss_mb(), 1)}
    results["machine"]["load_avg_end"] = load_avg()
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(f"\nBench process peak RSS: {results['memory']['bench_peak_rss_mb']:,.0f} MB")
    print(
        f"Took {results['seconds']:.0f} s; load average {results['machine']['load_avg_end']} at end."
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    failed = {
        f"{n} ({e})": r["error"]
        for n, runs in results["llm"].items()
        for e, r in runs.items()
        if "error" in r
    }
    for name, error in failed.items():
        print(f"Error: model {name}: {error}", file=sys.stderr)
    return EXIT_USER_ERROR if failed else 0


# --- printing ----------------------------------------------------------------------


def print_machine(m: dict) -> None:
    print(
        f"recochat bench: {m['cpus']} CPUs ({m['usable_cpus']} usable), "
        f"torch threads {m['torch_threads']}, load average {m['load_avg_start']}"
    )
    # The bench itself keeps about one thread per CPU busy; a load well above that
    # means other work shared the CPUs, and the figures are slower than the machine.
    print(f"(a load average above ~{m['usable_cpus']} means other processes compete for the CPUs)")


def print_ingest(catalog: Path, r: dict) -> None:
    print(
        f"\nIngest {catalog.name}: {r['items']:,} items, parsed in {r['parse_s']:.1f} s"
        f"  [load average {r['load_avg']} after]"
    )
    print(f"  {'embed (MiniLM)':<26}{r['embed_s']:>8.1f} s  {r['embed_items_per_s']:>7.0f} items/s")
    print(f"  {'write (Chroma + facets)':<26}{r['write_s']:>8.1f} s")
    print(f"  {'total':<26}{r['total_s']:>8.1f} s  {r['items_per_s']:>7.0f} items/s")
    print(
        f"  {'re-ingest, unchanged':<26}{r['reingest_s']:>8.2f} s  {r['reingest_embedded']:>7} embedded"
    )


def print_recall(r: dict) -> None:
    print(f"\nRecall + rank, {r['queries']} ReDial queries  [load average {r['load_avg']} after]")
    print(f"  {'ms':<42}{'p50':>9}{'p95':>9}")
    labels = {
        "state": "state tracker",
        "recall": f"recall (k={SHORTLIST_K})",
        "embed": "  of which query embed",
        "rank": f"rank + cards (k={RECOMMEND_K})",
        "total": "total",
    }
    for key, label in labels.items():
        print(f"  {label:<42}{r[key]['p50']:>9.1f}{r[key]['p95']:>9.1f}")


def print_llm_header(messages, repeats: int) -> None:
    print(
        f"\nLLMs: greedy, at most {MAX_NEW_TOKENS} new tokens, median of {repeats}; "
        f"prompt of {sum(len(m['content']) for m in messages):,} characters. "
        "1st token: whole prompt computed; warm: its fixed start cached (prefix cache)"
    )
    print(
        f"  {'model / engine':<32}{'cold load':>10}{'warm load':>10}{'1st token':>10}"
        f"{'warm 1st':>9}{'reply':>7}{'prompt':>7}{'prompt/s':>9}{'gen/s':>7}{'tokens':>7}"
        f"{'RSS MB':>8}{'cold RSS':>9}{'load':>6}"
    )


def print_llm_row(name: str, engine: str, r: dict) -> None:
    label = f"{name} / {engine}"
    if "error" in r:
        print(f"  {label:<32}failed: {r['error']}")
        return
    print(
        f"  {label:<32}{r['cold_load_s']:>9.1f}s{r['warm_load_s']:>9.1f}s"
        f"{r['first_token_s']:>9.2f}s{r['warm_first_token_s']:>8.2f}s{r['reply_s']:>6.1f}s"
        f"{r['prompt_tokens']:>7}{r['prompt_tok_per_s']:>9.0f}"
        f"{r['gen_tok_per_s']:>7.1f}{r['completion_tokens']:>7.0f}"
        f"{r['peak_rss_mb']:>8.0f}{r['cold_peak_rss_mb']:>9.0f}{r['load_avg']:>6}"
        + (f"  ({r['note']})" if "note" in r else "")
    )


def print_ratios(r: dict) -> None:
    if r:
        print(
            f"  {'openvino vs transformers':<32}prefill {r['prompt_tok_per_s']:.1f}x, "
            f"generation {r['gen_tok_per_s']:.1f}x, first token {r['first_token_s']:.1f}x "
            f"sooner, {r['peak_rss_mb']:.1f}x less memory"
        )


def print_concurrency(n: int, r: dict) -> None:
    print(
        f"  {'openvino, ' + str(n) + ' turns at once':<32}{r['concurrent_s']:.1f} s wall "
        f"(one after another: {r['sequential_s']:.1f} s)"
    )


if __name__ == "__main__" and sys.argv[1:] == ["--model-worker"]:
    print(json.dumps(model_worker(json.loads(sys.stdin.read()))))
