"""Subcommands contributed by the eval package (registered by entry point)."""

from __future__ import annotations


def register(sub) -> None:
    _register_dialogues(sub)
    register_api(sub)
    p = sub.add_parser("bench", help="measure ingest, recall+rank and LLM speed; print a table")
    p.add_argument(
        "--catalog",
        help="catalog for the ingest/recall figures (default: ../shared/data ReDial movies)",
    )
    p.add_argument(
        "--models", default="smollm2-135m,qwen2.5-coder-0.5b", help="comma-separated LLM names"
    )
    p.add_argument(
        "--engines",
        default="transformers,openvino",
        help="comma-separated local engines to run each model on, side by side",
    )
    p.add_argument(
        "--concurrent", type=int, default=4, help="turns started at once on the openvino engine"
    )
    p.add_argument("--queries", type=int, default=200)
    p.add_argument(
        "--repeats", type=int, default=3, help="timed replies per model and prompt (the median)"
    )
    p.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    p.set_defaults(func=_bench)
    register_learning(sub)
    register_simulate(sub)


def _bench(args) -> int:
    from eval.perf.bench import run_bench

    return run_bench(args)


# --- `recochat eval …`: a group other eval commands can join ---------------------------


def eval_group(sub):
    """The subcommands of `recochat eval`, created once and shared by every eval command
    (so another module can add `recochat eval redial` next to `dialogues`)."""
    parser = sub.choices.get("eval")
    if parser is None:
        parser = sub.add_parser("eval", help="run evaluations (scripted dialogues, datasets)")
        parser.set_defaults(func=lambda args: parser.print_help() or 2)
        parser.recochat_group = parser.add_subparsers(dest="eval_command", metavar="EVALUATION")
    return parser.recochat_group


def _register_dialogues(sub) -> None:
    from eval.scripted import CATALOGS

    p = eval_group(sub).add_parser(
        "dialogues",
        help="run scripted dialogue suites (YAML) and report pass rates per assertion",
    )
    p.add_argument("dir", help="a directory of YAML suites (e.g. eval/dialogues)")
    p.add_argument("--model", help="LLM name (default from settings); e.g. smollm2-135m")
    p.add_argument(
        "--catalog",
        choices=CATALOGS,
        help="run only the suites for this catalog (default: every catalog the suites use)",
    )
    p.add_argument("--embedder", default="minilm", help="embedder for the item store")
    p.add_argument(
        "--home",
        help="data directory to ingest into and reuse (default: a fresh temporary one)",
    )
    p.add_argument("--out", default="dialogue-report", help="directory for report.json/report.md")
    p.add_argument(
        "--threshold",
        type=float,
        default=0.9,
        help="exit non-zero when the share of passed assertions is below this (default 0.9)",
    )
    p.add_argument("--only", help="run only dialogues whose name contains this text")
    p.set_defaults(func=_dialogues)


def _dialogues(args) -> int:
    from eval.scripted.runner import run_command

    return run_command(args)


def register_api(sub) -> None:
    p = sub.add_parser(
        "bench-api",
        help="measure `recochat serve`: first SSE event/token per model, search req/s, load run",
    )
    p.add_argument(
        "--models", default="smollm2-135m,qwen2.5-coder-0.5b", help="comma-separated LLM names"
    )
    p.add_argument("--turns", type=int, default=12, help="timed turns per model")
    p.add_argument("--max-tokens", type=int, default=48, help="reply length cap for the models")
    p.add_argument("--search-requests", type=int, default=400)
    p.add_argument("--clients", type=int, default=4, help="concurrent clients for search")
    p.add_argument(
        "--load-model",
        default="scripted",
        help="LLM of the concurrency run (scripted: no generation, hash embedder)",
    )
    p.add_argument("--load-sessions", type=int, default=20, help="sessions at once in the load run")
    p.add_argument("--load-turns", type=int, default=10, help="turns per session in the load run")
    p.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    p.set_defaults(func=_bench_api)


def _bench_api(args) -> int:
    from eval.perf.bench_api import run_bench_api

    return run_bench_api(args)


def register_learning(sub) -> None:
    """`recochat eval redial|movielens|online|latency` (issue 4)."""
    from eval.offline.data import DEFAULT_CATALOG, DEFAULT_RATINGS, DEFAULT_TURNS

    evsub = eval_group(sub)

    def common(p, out: str):
        p.add_argument("--catalog", default=str(DEFAULT_CATALOG), help="ReDial-format catalog")
        p.add_argument("--embedder", default="minilm")
        p.add_argument("--out", default=out, help="folder for the JSON report and plots")

    _turns_parser(
        evsub.add_parser(
            "turns",
            help="recommendation turns of any dataset: cross-validated, or --train FILE "
            "learned from one split and measured on another",
        ),
        catalog=None,
        turns=None,
        preset="shop",
        ratings=None,
        out="reports/turns",
    )
    _turns_parser(
        evsub.add_parser("redial", help="`eval turns` on the ReDial files in ../shared/data"),
        catalog=str(DEFAULT_CATALOG),
        turns=str(DEFAULT_TURNS),
        preset="redial",
        ratings=str(DEFAULT_RATINGS),
        out="reports/redial",
    )

    p = evsub.add_parser("movielens", help="MovieLens leave-one-out next-item ranking")
    common(p, "reports/movielens")
    p.add_argument("--ratings", default=str(DEFAULT_RATINGS), help="MovieLens ratings.csv")
    p.add_argument("--epochs", type=int, default=60, help="SASRec training epochs")
    p.add_argument("--scaling", choices=["max", "raw"], default="max", help="channel scores")
    p.set_defaults(func=_movielens)

    p = evsub.add_parser("online", help="simulated feedback run: online learning vs static")
    common(p, "reports/online")
    p.add_argument("--ratings", default=str(DEFAULT_RATINGS), help="MovieLens ratings.csv")
    p.add_argument("--users", type=int, default=100, help="simulated (held-out) users")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--k", type=int, default=5, help="items shown per round")
    p.add_argument("--exploration", type=float, default=1.0, help="bandit temperature")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_online)

    p = evsub.add_parser("latency", help="per-stage p50/p95 at catalog size and at 100k items")
    common(p, "reports/latency")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--synthetic", type=int, default=100_000, help="items in the synthetic catalog")
    p.set_defaults(func=_latency)

    p = evsub.add_parser(
        "scale-out",
        help="sessions x turns over several workers on PostgreSQL + Redis + a Chroma server",
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--turns", type=int, default=10)
    p.add_argument("--clients", type=int, default=8, help="sessions driven at once")
    p.add_argument(
        "--model",
        help="a real LLM (e.g. qwen2.5-coder-0.5b) and the default embedder in every worker, "
        "over the demo catalog, instead of the scripted LLM and the hash embedder",
    )
    p.set_defaults(func=_scale_out)
    _crash_parser(evsub)


def _crash_parser(sub) -> None:
    from eval import intents
    from eval.perf import big_catalog, crash

    crash.add_parser(sub)
    big_catalog.add_parser(sub)
    intents.add_parser(sub)


def _scale_out(args) -> int:
    from eval.perf.scale_out import run

    return run(args)


def _online(args) -> int:
    from eval.offline.online_sim import run_online

    return run_online(args)


def _latency(args) -> int:
    from eval.perf.latency import run_latency

    return run_latency(args)


def _movielens(args) -> int:
    from eval.offline.movielens import run_movielens

    return run_movielens(args)


def _turns_parser(p, catalog, turns, preset: str, ratings, out: str) -> None:
    """`recochat eval turns` and its ReDial alias: one command, two sets of defaults."""
    from retrieval import PRESETS

    p.add_argument("--catalog", default=catalog, required=catalog is None, help="catalog file")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=preset,
        help=f"the catalog's field map, as for `recochat ingest` (default {preset})",
    )
    p.add_argument(
        "--turns",
        default=turns,
        required=turns is None,
        help="turns to rank (JSONL: dialog_id, context, rec); cross-validated by dialog_id "
        "unless --train is given",
    )
    p.add_argument("--train", help="learn everything from these turns and rank --turns")
    p.add_argument(
        "--holdout-fold",
        type=int,
        help="hold this dialog_id fold of --turns out of all learning and measure on it, "
        "next to the cross-validation of the other folds (nested split)",
    )
    p.add_argument(
        "--cold-items",
        type=float,
        default=0.0,
        help="share of catalog items treated as added after training (no interactions, no "
        "dialogue mentions), reported as cold-start rows, e.g. 0.1",
    )
    p.add_argument("--embedder", default="minilm")
    p.add_argument("--out", default=out, help="folder for report.json, report.md and the plot")
    p.add_argument(
        "--ratings", default=ratings, help="MovieLens ratings.csv (linked by ml_movieId)"
    )
    p.add_argument("--no-movielens", action="store_true", help="leave the MovieLens channels out")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--pool", type=int, default=200, help="items each channel recalls")
    p.add_argument(
        "--limit-dialogs", type=int, help="only the first N dialogs (by id) of each file"
    )
    p.add_argument(
        "--recency", type=float, default=0.7, help="weight decay of older mentions (1: none)"
    )
    p.add_argument("--scaling", choices=["max", "raw"], default="raw", help="channel scores")
    p.add_argument(
        "--no-ablations", dest="ablations", action="store_false", help="skip the ablation rows"
    )
    p.add_argument(
        "--ablate",
        action="append",
        help="only the ablation rows whose signal group contains this text (repeatable)",
    )
    p.set_defaults(func=_turns)


def _turns(args) -> int:
    from eval.offline.turns_run import run_turns

    return run_turns(args)


def register_simulate(sub) -> None:
    """`recochat eval simulate` (issue 15): simulated seekers against the real Session."""
    from eval.scripted import CATALOGS

    p = eval_group(sub).add_parser(
        "simulate",
        help="simulated seekers who know a gold item only by its attributes; success per turn",
    )
    p.add_argument("--catalog", choices=CATALOGS, default="redial", help="catalog to ingest")
    p.add_argument(
        "--turns",
        help="turns file whose 'rec' items are the targets (default: the catalog's dev_turns.jsonl)",
    )
    p.add_argument("--targets", type=int, default=200, help="simulated seekers (one target each)")
    p.add_argument("--seed", type=int, default=0, help="draws the targets and the phrasings")
    p.add_argument("--max-turns", type=int, default=5, help="seeker utterances per dialogue")
    p.add_argument("--list", type=int, default=10, help="items the bot lists per recommendation")
    p.add_argument(
        "--facts",
        default="genre,star,director,writer,era,plot",
        help="the kinds of fact the seekers know (e.g. genre,era,plot: no people)",
    )
    p.add_argument(
        "--tries",
        type=int,
        default=3,
        help="drafts of a leaking utterance before the dialogue is dropped",
    )
    p.add_argument(
        "--phrasing",
        choices=["agenda", "llm"],
        default="agenda",
        help="agenda: the template bank; llm: the local model rewords each utterance",
    )
    p.add_argument(
        "--phrasing-model", default="qwen2.5-coder-0.5b", help="model for --phrasing llm"
    )
    p.add_argument(
        "--model", help="the bot's LLM (copy and reading); default: no model, rules read, no copy"
    )
    p.add_argument("--embedder", default="minilm", help="embedder for the item store")
    p.add_argument(
        "--home", help="data directory to ingest into and reuse (default: a temporary one)"
    )
    p.add_argument(
        "--out", default="reports/simulate", help="folder for simulate.json and simulate.png"
    )
    p.set_defaults(func=_simulate)


def _simulate(args) -> int:
    from eval.simulate.runner import run_command

    return run_command(args)
