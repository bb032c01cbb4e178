"""Running the ReDial protocol (eval/offline/redial.py) with every channel, the
popularity baseline, single-signal rows and an ablation row per signal group;
prints the table, writes JSON and a Recall@k plot."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.offline.data import DEFAULT_RATINGS, file_digest, load_index, load_ratings
from eval.offline.metrics import beyond_accuracy, rank_metrics
from eval.offline.ml_models import train_models
from eval.offline.redial import (
    OPTIONS,
    TREES,
    TurnScores,
    embed_texts,
    evaluate,
    fit_and_rank,
    popularity_ranks,
    read_turns,
    single_signal_ranks,
)
from eval.offline.report import beyond_table, plot_curves, table, write_json
from retrieval import ContentChannel, DenseChannel, ModelChannel, make_embedder

COLUMNS = ["ranker", "R@1", "R@10", "R@50", "NDCG@10", "NDCG@50", "MRR", "samples"]
# feature groups removed together in the ablation rows
GROUPS = {
    "dense (semantic)": ["semantic", "in_dense", "rr_semantic"],
    "content": ["content", "in_content", "rr_content"],
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


def build_fixed_channels(index, embedder: str, ratings_path: Path | None, notes: list[str]):
    fixed = [
        TurnScores(index, "dense", DenseChannel(index, make_embedder(embedder).embed), -np.inf),
        TurnScores(index, "content", ContentChannel(index), 0.0),
    ]
    if ratings_path is None or not Path(ratings_path).is_file():
        notes.append(f"no MovieLens ratings at {ratings_path}: ML channels left out")
        return fixed
    ratings = load_ratings(Path(ratings_path), index)
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
            ModelChannel(index, models["item_knn"], "x", recency=OPTIONS.recency),
            0.0,
        ),
        TurnScores(
            index, "cf", ModelChannel(index, models["ease"], "x", recency=OPTIONS.recency), 0.0
        ),
        TurnScores(
            index,
            "sequence",
            ModelChannel(index, models["sasrec"], "x", use_history_order=True),
            0.0,
        ),
    ]
    return fixed


def run_redial(args) -> int:
    started = time.perf_counter()
    notes: list[str] = []
    OPTIONS.recency, OPTIONS.scaling = args.recency, args.scaling
    index = load_index(Path(args.catalog), args.embedder)
    turns, stats = read_turns(Path(args.turns), index, args.folds, args.limit_dialogs)
    vectors = embed_texts([t.text for t in turns], args.embedder)
    for t, v in zip(turns, vectors, strict=True):
        t.vector = v
    ratings = None if args.no_movielens else Path(args.ratings or DEFAULT_RATINGS)
    fixed = build_fixed_channels(index, args.embedder, ratings, notes)
    data = evaluate(turns, index, fixed, args.folds, args.pool, progress=bar)

    pop_ex, pop_in, pop_lists = _popularity_baseline(turns, index, data)
    rows, results, fused = _rankers(args, turns, index, data, pop_ex)
    pool_hits = sum(
        any(p in set(data["test"][n].positions.tolist()) for p in g)
        for n, t in enumerate(turns)
        for g in t.gold
    )
    print(table(rows, COLUMNS, "ReDial, mentioned movies excluded (cross-validated by dialog_id)"))
    incl_rows, fresh_rows = _other_protocols(index, pop_ex, pop_in, fused)
    beyond = _beyond_accuracy(index, fused["lists"], pop_lists)
    stats.update(
        {
            "folds": args.folds,
            "pool_k": args.pool,
            "pool_recall": round(pool_hits / max(1, stats["samples"]), 4),
            "seconds": round(time.perf_counter() - started, 1),
            "featurise_s": round(data["featurise_s"], 1),
            "learner": OPTIONS.learner,
            "learner_settings": TREES if OPTIONS.learner == "trees" else {"l2": 1e-3},
        }
    )
    print(f"\n{stats}")
    for note in notes:
        print(f"note: {note}")
    out = Path(args.out)
    report = {
        "stats": stats,
        "excluding_mentioned": results,
        "including_mentioned": {r["ranker"]: r for r in incl_rows},
        "excluding_mentioned_dropping_repeats": {r["ranker"]: r for r in fresh_rows},
        "beyond_accuracy": beyond,
        "notes": notes,
    }
    print(f"wrote {write_json(out / 'redial.json', report)}")
    _plot_recall(out, {"popularity": pop_ex, "fused": fused["ranks"]["excl"]})
    return 0


def _popularity_baseline(turns, index, data) -> tuple[list[int], list[int], list[list[int]]]:
    """Each fold's popularity (ties by MovieLens rating count): its ranks with the
    mentioned movies excluded and not, and its top-10 lists."""
    tie = np.nan_to_num(index.number("rating_count"), nan=0.0)
    pop_ex, pop_in, pop_lists = [], [], []
    for t in turns:
        pop = data["fold_popularity"][t.fold]
        pop_ex += popularity_ranks(pop, tie, t, True)
        pop_in += popularity_ranks(pop, tie, t, False)
        s = pop + 1e-6 * tie
        s = np.where(np.isin(np.arange(len(s)), t.mentioned), -np.inf, s)
        pop_lists.append(np.lexsort((np.arange(len(s)), -s))[:10].tolist())
    return pop_ex, pop_in, pop_lists


def _rankers(args, turns, index, data, pop_ex: list[int]) -> tuple[list[dict], dict, dict]:
    """The main table: popularity, each signal alone, the fusion of all of them and
    (with --ablations) the fusion without each signal group. Returns its rows, the
    results by label, and the fused ranking."""
    names = set(data["names"])
    rows, results = [], {}

    def add(label: str, ranks: list[int], extra: dict | None = None) -> None:
        m = rank_metrics(ranks)
        rows.append({"ranker": label, **m})
        results[label] = {**m, **(extra or {})}

    add("popularity (baseline)", pop_ex)
    for name in SINGLE:
        if name in names:
            add(f"only {name}", single_signal_ranks(turns, index, data, name))
    fused = fit_and_rank(
        turns, index, data, args.folds, set(), exclude_both=True, learner=OPTIONS.learner
    )
    add("fused (all signals)", fused["ranks"]["excl"], {"weights_by_fold": fused["weights"]})
    for label, group in GROUPS.items() if args.ablations else ():
        if not names & set(group):
            continue
        res = fit_and_rank(
            turns, index, data, args.folds, set(group), False, learner=OPTIONS.learner
        )
        add(f"  - {label}", res["ranks"]["excl"])
    return rows, results, fused


def _other_protocols(
    index, pop_ex: list[int], pop_in: list[int], fused: dict
) -> tuple[list[dict], list[dict]]:
    """The same rankings under the two other protocols in the literature, printed."""
    incl_rows = [
        {"ranker": "popularity (baseline)", **rank_metrics(pop_in)},
        {"ranker": "fused (all signals)", **rank_metrics(fused["ranks"]["incl"])},
    ]
    print()
    print(table(incl_rows, COLUMNS, "ReDial, mentioned movies not excluded"))
    # He et al. (CIKM 2023): a gold movie the context already named is a repeat,
    # not a recommendation; with mentioned movies excluded it can never be hit
    # (rank = catalog size above), so this protocol drops those samples
    fresh_rows = [
        {"ranker": label, **rank_metrics([r for r in ranks if r < len(index)])}
        for label, ranks in (
            ("popularity (baseline)", pop_ex),
            ("fused (all signals)", fused["ranks"]["excl"]),
        )
    ]
    print()
    print(
        table(
            fresh_rows,
            COLUMNS,
            "ReDial, mentioned movies excluded and gold movies already mentioned dropped "
            "(He et al. 2023)",
        )
    )
    return incl_rows, fresh_rows


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


def _plot_recall(out: Path, ranks_by_label: dict[str, list[int]]) -> None:
    ks = list(range(1, 51))
    curves = {}
    for label, ranks in ranks_by_label.items():
        r = np.asarray(ranks)
        curves[label] = (ks, [float(np.mean(r < k)) for k in ks])
    png = plot_curves(
        out / "redial_recall.png", curves, "k", "Recall@k", "ReDial dev, cross-validated"
    )
    if png:
        print(f"wrote {png}")
