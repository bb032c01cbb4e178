"""Running the turns protocol (eval/offline/turns.py) on any catalog and turns
file: cross-validated, or learned from one split and measured on another, with
the protocol rows of eval/offline/protocols.py for the fusion and the two
baselines, cold-start rows, single-signal rows and an ablation row per signal
group; prints the tables, writes report.json, report.md and a Recall@k plot."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from chat import fold_of
from eval.offline.data import file_digest, load_index, load_ratings
from eval.offline.metrics import beyond_accuracy, rank_metrics
from eval.offline.ml_models import train_models
from eval.offline.protocols import (
    PROTOCOLS,
    bootstrap,
    per_sample,
    protocol_rows,
    repeat_ranks,
    samples_of,
)
from eval.offline.report import beyond_table, markdown_rows, plot_curves, write_json
from eval.offline.splits import TEST, Split, cold_items, plan
from eval.offline.turns import (
    OPTIONS,
    TREES,
    EvalInputError,
    Turn,
    TurnReader,
    TurnScores,
    embed_texts,
    evaluate,
    fit_and_rank,
    popularity_ranks,
    single_signal_ranks,
)
from retrieval import (
    CatalogIndex,
    Channel,
    ContentChannel,
    DenseChannel,
    ModelChannel,
    Query,
    SharedFacetsChannel,
    categorical_fields,
    make_embedder,
)

SIGNAL_COLUMNS = ["ranker", "R@1", "R@10", "R@50", "NDCG@10", "MRR", "samples"]
# feature groups removed together in the ablation rows
GROUPS = {
    "dense (semantic)": ["semantic", "in_dense", "rr_semantic"],
    "content": ["content", "in_content", "rr_content"],
    "shared_facets (knowledge-graph paths)": [
        "shared_facets",
        "in_shared_facets",
        "rr_shared_facets",
    ],
    "co_mention": ["co_mention", "in_co_mention", "rr_co_mention"],
    "picked_after (dialogues)": ["picked_after", "in_picked_after", "rr_picked_after"],
    "asked_for (facets → picks)": ["asked_for", "in_asked_for", "rr_asked_for"],
    "said (words → picks)": ["said", "in_said", "rr_said"],
    "similar_requests (kNN)": ["similar_requests", "in_similar_requests", "rr_similar_requests"],
    "dialogue_cf (EASE)": ["dialogue_cf", "in_dialogue_cf", "rr_dialogue_cf"],
    "recommended (picks prior)": ["recommended", "in_recommended", "rr_recommended"],
    "co_interaction (ML kNN)": ["co_interaction", "in_co_interaction", "rr_co_interaction"],
    "cf (ML EASE)": ["cf", "in_cf", "rr_cf"],
    "sequence (SASRec)": ["sequence", "in_sequence", "rr_sequence"],
    "popularity": ["popularity", "novelty", "popular", "in_popular", "rr_popular"],
    "facet_match": ["facet_match", "rr_facet_match"],
    "item priors (ML popularity, rating, year)": ["catalog_popularity", "rating", "freshness"],
    "rank features (rr_*)": [
        "rr_semantic",
        "rr_facet_match",
        "rr_content",
        "rr_shared_facets",
        "rr_co_interaction",
        "rr_cf",
        "rr_sequence",
        "rr_co_mention",
        "rr_popular",
        "rr_recommended",
        "rr_picked_after",
        "rr_asked_for",
        "rr_said",
        "rr_similar_requests",
        "rr_dialogue_cf",
    ],
}
SINGLE = [
    "semantic",
    "content",
    "shared_facets",
    "co_mention",
    "picked_after",
    "asked_for",
    "said",
    "similar_requests",
    "dialogue_cf",
    "recommended",
    "co_interaction",
    "cf",
    "sequence",
    "facet_match",
]


def bar(iterable, desc: str, **kw):
    return tqdm(iterable, desc=desc, disable=None, leave=False, **kw)


def build_fixed_channels(index, embedder: str, ratings_path: str | None, notes: list[str]):
    fixed = [
        TurnScores(index, "dense", DenseChannel(index, make_embedder(embedder).embed), -np.inf),
        TurnScores(index, "content", ContentChannel(index), 0.0),
        TurnScores(
            index,
            "shared_facets",
            SharedFacetsChannel(index, categorical_fields(index.metas), recency=OPTIONS.recency),
            0.0,
        ),
    ]
    if ratings_path is None:
        notes.append("MovieLens channels left out (no --ratings, or --no-movielens)")
        return fixed
    if not Path(ratings_path).is_file():
        notes.append(f"no MovieLens ratings at {ratings_path}: ML channels left out")
        return fixed
    ratings = load_ratings(Path(ratings_path), index)
    if not ratings.items:
        notes.append("no MovieLens rating maps to this catalog (ml_movieId): ML channels left out")
        return fixed
    notes.append(
        f"MovieLens: {len(ratings.items):,} ratings mapped to the catalog, "
        f"{ratings.skipped_unknown:,} skipped (movie not in the catalog)"
    )
    models = train_models(
        ratings,
        index,
        file_digest(Path(ratings_path)),
        progress=lambda it, total: bar(it, "training SASRec", total=total),
    )
    fixed += [
        TurnScores(
            index,
            "co_interaction",
            _unseen(index, ModelChannel(index, models["item_knn"], "x", recency=OPTIONS.recency)),
            0.0,
        ),
        TurnScores(
            index,
            "cf",
            _unseen(index, ModelChannel(index, models["ease"], "x", recency=OPTIONS.recency)),
            0.0,
        ),
        TurnScores(
            index,
            "sequence",
            _unseen(index, ModelChannel(index, models["sasrec"], "x", use_history_order=True)),
            0.0,
        ),
    ]
    return fixed


def _unseen(index: CatalogIndex, channel: Channel) -> Channel:
    """An interaction channel without the cold items (content channels keep them)."""
    return Unseen(index, channel, OPTIONS.cold) if OPTIONS.cold else channel


class Unseen(Channel):
    """An interaction channel that never saw the cold items: they neither seed
    its query nor score (0 is below its min_score, so they are never recalled).
    The models were trained with them; masking stands in for retraining."""

    def __init__(self, index: CatalogIndex, inner: Channel, cold: frozenset[int]):
        super().__init__(index)
        self.name, self.inner, self.min_score = inner.name, inner, inner.min_score
        self.cold, self.cold_ids = np.fromiter(cold, np.int64), {index.ids[p] for p in cold}

    def scores(self, query: Query) -> np.ndarray | None:
        liked = [i for i in query.liked if i not in self.cold_ids]
        s = self.inner.scores(replace(query, liked=liked, cache={}))
        if s is None:
            return None
        s = s.copy()
        s[self.cold] = 0.0
        return s


def run_turns(args) -> int:
    started = time.perf_counter()
    notes: list[str] = []
    OPTIONS.recency, OPTIONS.scaling = args.recency, args.scaling
    try:
        turns, split, stats, index = _read(args, notes)
    except EvalInputError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    vectors = embed_texts([t.text for t in turns], args.embedder)
    for t, v in zip(turns, vectors, strict=True):
        t.vector = v
    ratings = None if args.no_movielens else args.ratings
    fixed = build_fixed_channels(index, args.embedder, ratings, notes)
    data = evaluate(turns, index, fixed, split, args.pool, progress=bar)

    fused = fit_and_rank(turns, data, split, set(), learner=OPTIONS.learner)
    baselines = _baselines(turns, index, data)
    rankers = {
        "popularity": baselines["popularity"],
        "repeat the context": baselines["repeat"],
        "fused": {"excl": fused["excl"], "incl": fused["incl"]},
        "fused, the context's items merged by their odds": {
            "excl": fused["excl"],
            "incl": fused["repeats"],
        },
    }
    scope_folds = {
        "cross-validated": list(split.cv_folds),
        "held-out": [TEST] if split.test else [],
    }
    ranked_by_scope = {
        scope: ranked
        for scope, folds in scope_folds.items()
        if (ranked := [n for n, t in enumerate(turns) if t.fold in folds])
    }
    scopes = {s: _scope_rows(turns, ranked, rankers) for s, ranked in ranked_by_scope.items()}
    signals = _signal_rows(args, turns, data, split, ranked_by_scope, fused)
    lists = [fused["lists"][n] for n in sorted(fused["lists"])]
    beyond = _beyond_accuracy(index, lists, baselines["popularity_lists"])
    pool_hits = sum(
        any(p in set(data["test"][n].positions.tolist()) for p in g)
        for n in data["test"]
        for g in turns[n].gold
    )
    ranked_samples = sum(len(turns[n].gold) for n in data["test"])
    stats.update(
        {
            "folds": args.folds,
            "cv_folds": list(split.cv_folds),
            "held_out": split.test,
            "cold_items": len(OPTIONS.cold),
            "pool_k": args.pool,
            "pool_recall": round(pool_hits / max(1, ranked_samples), 4),
            "seconds": round(time.perf_counter() - started, 1),
            "featurise_s": round(data["featurise_s"], 1),
            "learner": OPTIONS.learner,
            "learner_settings": TREES if OPTIONS.learner == "trees" else {"l2": 1e-3},
        }
    )
    report = {
        "stats": stats,
        "protocols": PROTOCOLS,
        "scopes": scopes,
        "signals_mentioned_excluded": signals,
        "weights_by_fold": fused["weights"],
        "beyond_accuracy": beyond,
        "notes": notes,
    }
    md = _markdown(args, report)
    print(md)
    out = Path(args.out)
    print(f"wrote {write_json(out / 'report.json', report)}")
    (out / "report.md").write_text(md + "\n", encoding="utf-8")
    print(f"wrote {out / 'report.md'}")
    _plot_recall(
        out,
        args,
        {
            "popularity": _flat(baselines["popularity"]["excl"]),
            "fused": _flat(fused["excl"]),
        },
    )
    return 0


def _read(args, notes: list[str]) -> tuple[list[Turn], Split, dict, CatalogIndex]:
    """The catalog (cold items' interaction priors blanked) and the turns, with
    their folds: a hash fold of the dialog id, or TEST for the turns to measure on."""
    for path in (args.catalog, args.turns, args.train):
        if path is not None and not Path(path).is_file():
            raise EvalInputError(f"{path} is not a file; give the path to a JSONL file.")
    if args.train and args.holdout_fold is not None:
        raise EvalInputError("--holdout-fold splits one turns file; leave it out with --train.")
    if args.holdout_fold is not None and not 0 <= args.holdout_fold < args.folds:
        raise EvalInputError(f"--holdout-fold must be between 0 and {args.folds - 1}.")
    index = load_index(Path(args.catalog), args.embedder, args.preset)
    OPTIONS.cold = cold_items(index.ids, args.cold_items)
    for p in OPTIONS.cold:  # "added after training": no ratings, no rating counts yet
        index.metas[p] = {
            k: v for k, v in index.metas[p].items() if k not in ("rating", "rating_count")
        }
    reader = TurnReader(index)
    split = plan(args.folds, bool(args.train), args.holdout_fold)

    def fold(dialog: str) -> int:
        f = fold_of(dialog, args.folds)
        return TEST if f == args.holdout_fold else f

    if args.train:
        turns, stats = reader.read(Path(args.train), fold, args.limit_dialogs)
        test, test_stats = reader.read(Path(args.turns), lambda d: TEST, args.limit_dialogs)
        for t in test:
            t.dialog = f"test:{t.dialog}"
        turns += test
        stats = {"train": stats, "test": test_stats}
    else:
        turns, stats = reader.read(Path(args.turns), fold, args.limit_dialogs)
    # a fold no dialogue hashes to is neither ranked nor learned from
    present = {t.fold for t in turns}
    split = Split(tuple(f for f in split.cv_folds if f in present), split.test)
    if not split.cv_folds:
        raise EvalInputError(f"no usable training turns in {args.train or args.turns}.")
    if split.test and TEST not in present:
        raise EvalInputError(
            f"fold {args.holdout_fold} of {args.turns} holds no dialogue; "
            f"pick one of {sorted(present)} for --holdout-fold."
        )
    notes.append(f"facets read from requests: {', '.join(reader.fields)}")
    return turns, split, stats, index


def _flat(by_turn: dict[int, list[int]]) -> list[int]:
    return [r for n in sorted(by_turn) for r in by_turn[n]]


def _baselines(turns: list[Turn], index: CatalogIndex, data: dict) -> dict:
    """Each ranked turn's popularity ranks (its fold's mention counts, ties by the
    catalog's rating counts) and repeat-the-context ranks, and the popularity top 10s."""
    tie = np.nan_to_num(index.number("rating_count"), nan=0.0)
    pop = {"excl": {}, "incl": {}}
    repeat = {"excl": {}, "incl": {}}
    lists = []
    for n in sorted(data["test"]):
        t = turns[n]
        counts = data["fold_popularity"][t.fold]
        pop["excl"][n] = popularity_ranks(counts, tie, t, True)
        pop["incl"][n] = popularity_ranks(counts, tie, t, False)
        repeat["excl"][n] = repeat_ranks(t, True, len(index))
        repeat["incl"][n] = repeat_ranks(t, False, len(index))
        s = counts + 1e-6 * tie
        s = np.where(np.isin(np.arange(len(s)), t.mentioned), -np.inf, s)
        lists.append(np.lexsort((np.arange(len(s)), -s))[:10].tolist())
    return {"popularity": pop, "repeat": repeat, "popularity_lists": lists}


def _scope_rows(turns: list[Turn], ranked: list[int], rankers: dict) -> dict[str, list[dict]]:
    """Protocol rows over all samples of the ranked turns and over the cold-start subsets."""
    samples = samples_of(turns, ranked, OPTIONS.cold)
    flat = {
        label: {k: [r for n in ranked for r in by[k][n]] for k in ("excl", "incl")}
        for label, by in rankers.items()
    }
    subsets = {
        "all": lambda s: True,
        "users with no history (no item named yet)": lambda s: s.no_history,
    }
    if OPTIONS.cold:
        subsets["cold items (held out of training)"] = lambda s: s.cold
        subsets["warm items"] = lambda s: not s.cold
    return {name: protocol_rows(samples, flat, keep) for name, keep in subsets.items()}


def _signal_rows(args, turns, data, split: Split, scopes: dict, fused: dict) -> dict:
    """Mentioned excluded, per scope: each signal alone, the fusion, and the fusion
    without each signal group (all with --ablations, or those --ablate names), with
    its paired difference to the fusion and that difference's 95 % interval."""
    names = set(data["names"])
    rankers = {f"only {n}": single_signal_ranks(turns, data, n) for n in SINGLE if n in names}
    rankers["fused (all signals)"] = fused["excl"]
    ablated = []
    for label, group in GROUPS.items() if args.ablations else ():
        wanted = not args.ablate or any(a in label for a in args.ablate)
        if wanted and names & set(group):
            ablated.append(f"  - {label}")
            res = fit_and_rank(turns, data, split, set(group), learner=OPTIONS.learner)
            rankers[ablated[-1]] = res["excl"]
    out = {}
    for scope, ranked in scopes.items():
        clusters = [f"{turns[n].fold}:{turns[n].dialog}" for n in ranked for _ in turns[n].gold]
        base = per_sample(np.array([r for n in ranked for r in fused["excl"][n]]))
        rows = []
        for label, by_turn in rankers.items():
            ranks = [r for n in ranked for r in by_turn[n]]
            row = {"ranker": label, **rank_metrics(ranks)}
            if label in ablated:
                diff = bootstrap(per_sample(np.array(ranks)) - base, clusters)
                row["diff_vs_fused"] = {k: diff[k] for k in ("R@10", "R@50")}
            rows.append(row)
        out[scope] = rows
    return out


def _cell(f: dict) -> str:
    return f"{f['value']:.3f} ({f['low']:.3f}–{f['high']:.3f})"


def _number(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _markdown(args, report: dict) -> str:
    stats = report["stats"]
    lines = [
        f"# {Path(args.turns).name}: recommendation turns, catalog {Path(args.catalog).name}",
        "",
        f"Ranked against the whole catalog, one sample per gold item; 95 % bootstrap interval "
        f"over dialogues in brackets. {stats['pool_recall']:.3f} of the ranked samples' gold "
        f"items were in the recalled pool; {stats['seconds']} s.",
    ]
    titles = {
        "cross-validated": f"Cross-validated by dialog_id over folds {stats['cv_folds']}",
        "held-out": "Learned from every training fold, measured on the held-out turns",
    }
    for scope, subsets in report["scopes"].items():
        for subset, rows in subsets.items():
            lines += ["", f"## {titles[scope]}: {subset}", ""]
            lines += markdown_rows(
                ["protocol", "ranker", "samples", "R@1", "R@10", "R@50", "NDCG@10", "MRR"],
                [
                    [r["protocol"], r["ranker"], str(r["samples"])]
                    + [_cell(r["figures"][k]) for k in ("R@1", "R@10", "R@50", "NDCG@10", "MRR")]
                    for r in rows
                ],
            )
    for scope, rows in report["signals_mentioned_excluded"].items():
        lines += ["", f"## Signals, mentioned excluded: {titles[scope]}", ""]
        lines += markdown_rows(
            [*SIGNAL_COLUMNS, "ΔR@10 vs fused", "ΔR@50 vs fused"],
            [
                [str(r["ranker"])]
                + [_number(r.get(c)) for c in SIGNAL_COLUMNS[1:]]
                + [_cell(d) for d in r.get("diff_vs_fused", {}).values()]
                + [""] * (2 - len(r.get("diff_vs_fused", {})))
                for r in rows
            ],
        )
    lines += ["", "## Protocols", ""] + [f"- {k}: {v}" for k, v in report["protocols"].items()]
    lines += ["", "## Run", ""] + [f"- {k}: {v}" for k, v in stats.items()]
    lines += [f"- note: {n}" for n in report["notes"]]
    return "\n".join(lines)


def _beyond_accuracy(index, fused_lists: list[list[int]], pop_lists: list[list[int]]) -> dict:
    genres = [(m.get("genres") or [None])[0] for m in index.metas]
    ml_pop = np.nan_to_num(index.number("rating_count"), nan=0.0)
    beyond = {
        "fused": beyond_accuracy(fused_lists, len(index), ml_pop, index.vectors, genres),
        "popularity": beyond_accuracy(pop_lists, len(index), ml_pop, index.vectors, genres),
    }
    print()
    print(
        beyond_table(
            beyond,
            "Beyond accuracy of the top-10 lists (long tail = below the 80th percentile of MovieLens ratings)",
        )
    )
    return beyond


def _plot_recall(out: Path, args, ranks_by_label: dict[str, list[int]]) -> None:
    ks = list(range(1, 51))
    curves = {}
    for label, ranks in ranks_by_label.items():
        r = np.asarray(ranks)
        curves[label] = (ks, [float(np.mean(r < k)) for k in ks])
    png = plot_curves(
        out / "recall.png", curves, "k", "Recall@k", f"{Path(args.turns).name}, mentioned excluded"
    )
    if png:
        print(f"wrote {png}")
