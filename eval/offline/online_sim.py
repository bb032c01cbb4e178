"""`recochat eval online`: does learning from feedback inside a chat lift the
hit rate over the static ranker? A simulated feedback run on MovieLens.

Simulated users are MovieLens users held out from every trained model. Each
starts a chat with a vague request naming their most-rated genre, then sees
`--k` movies per round for `--rounds` rounds (never the same movie twice). A
shown movie the user rated 4 or more is a like, anything else a dislike. The
hit rate is the share of shown movies liked.

Arms compared, all on the same pipeline and users:
  static     feedback ignored (only shown items are not repeated)
  rocchio    the request vector moves towards likes and away from dislikes
  + seeds    likes also seed the item-to-item and collaborative channels
  + bandit   and Thompson sampling over fusion-weight arms, shared across users
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.offline.data import Ratings, file_digest, load_index, load_ratings
from eval.offline.ml_models import popularity_counts, train_models
from eval.offline.report import plot_curves, table, write_json
from retrieval import (
    ContentChannel,
    DenseChannel,
    FusionBandit,
    ModelChannel,
    OnlineState,
    Pipeline,
    PipelineConfig,
    PopularChannel,
    Query,
    make_embedder,
)

VARIANTS = ("static", "rocchio", "+ seeds", "+ bandit")


def split_users(ratings: Ratings, n_sim: int, seed: int) -> tuple[Ratings, list[str]]:
    per_user = Counter(ratings.users)
    eligible = sorted(u for u, n in per_user.items() if n >= 30)
    rng = np.random.default_rng(seed)
    sim = sorted(rng.permutation(eligible)[:n_sim].tolist())
    held = set(sim)
    keep = [n for n, u in enumerate(ratings.users) if u not in held]
    pick = lambda xs: [xs[n] for n in keep]  # noqa: E731
    return Ratings(
        pick(ratings.users), pick(ratings.items), pick(ratings.values), pick(ratings.times), 0
    ), sim


def run_session(
    pipe, index, liked: set[int], genre: str, variant: str, rounds: int, k: int, bandit, rng
):
    shown: list[str] = []
    online = OnlineState(bandit=bandit if variant == "+ bandit" else FusionBandit(exploration=0))
    seeds: list[str] = []
    bad: list[str] = []
    hits = []
    for _ in range(rounds):
        query = Query(text=f"a good {genre} movie", facets={"genres": [genre]})
        query.filter.exclude_ids = set(shown)
        if variant in ("+ seeds", "+ bandit"):
            query.liked, query.disliked = list(seeds), list(bad[-20:])
        use_online = variant != "static"
        items = pipe.recommend(query, k, online=online if use_online else None, rng=rng)
        got = 0
        for it in items:
            shown.append(it.id)
            positive = index.pos[it.id] in liked
            got += positive
            if use_online:
                online.profile.feedback(it.id, positive)
            (seeds if positive else bad).append(it.id)
        if variant == "+ bandit" and online.last_arm:
            online.bandit.update(online.last_arm, got / max(1, len(items)))
        hits.append(got / max(1, len(items)))
    return hits


def run_online(args) -> int:
    started = time.perf_counter()
    index = load_index(Path(args.catalog), args.embedder)
    ratings = load_ratings(Path(args.ratings), index)
    train, sim_users = split_users(ratings, args.users, args.seed)
    key = f"online-{file_digest(Path(args.ratings))}-{args.users}-{args.seed}"
    models = train_models(train, index, key, which=("item_knn", "ease"))
    index.set_popularity(popularity_counts(train, index))
    pipe = _pipeline(index, models, args.embedder)
    liked_by, genre_of = _tastes(ratings, index, sim_users)
    curves: dict[str, list[list[float]]] = {v: [] for v in VARIANTS}
    bandit = FusionBandit(exploration=args.exploration)  # shared: it learns across users
    rng = np.random.default_rng(args.seed)
    for u in tqdm(sim_users, desc="simulated users", disable=None, leave=False):
        for variant in VARIANTS:
            curves[variant].append(
                run_session(
                    pipe,
                    index,
                    liked_by.get(u, set()),
                    genre_of[u],
                    variant,
                    args.rounds,
                    args.k,
                    bandit,
                    rng,
                )
            )
    rows, per_round = _summary(curves)
    print(
        table(
            rows,
            ["variant", "hit rate", "first round", "last round", "lift"],
            f"Simulated feedback: {len(sim_users)} held-out MovieLens users, {args.rounds} rounds of {args.k}",
        )
    )
    arms = {
        a: {"wins": round(bandit.wins[a], 2), "losses": round(bandit.losses[a], 2)}
        for a in bandit.wins
    }
    print(f"bandit posteriors after the run: {arms}")
    report = {
        "users": len(sim_users),
        "rounds": args.rounds,
        "k": args.k,
        "exploration": args.exploration,
        "variants": {r["variant"]: r for r in rows},
        "per_round": per_round,
        "bandit": arms,
        "seconds": round(time.perf_counter() - started, 1),
    }
    _write(Path(args.out), report, per_round, args.rounds)
    return 0


def _pipeline(index, models, embedder_spec: str) -> Pipeline:
    """The serving channels minus the sequence model, without reranking."""
    embedder = make_embedder(embedder_spec)
    memo: dict[str, np.ndarray] = {}

    def embed(texts: list[str]) -> np.ndarray:
        # a handful of distinct requests ("a good comedy movie"): embed each once
        for t in texts:
            if t not in memo:
                memo[t] = embedder.embed([t])[0]
        return np.stack([memo[t] for t in texts])

    return Pipeline(
        index,
        [
            DenseChannel(index, embed),
            ContentChannel(index),
            ModelChannel(index, models["item_knn"], "co_interaction"),
            ModelChannel(index, models["ease"], "cf"),
            PopularChannel(index),
        ],
        config=PipelineConfig(channel_k=100, rerank=False),
    )


def _tastes(
    ratings: Ratings, index, sim_users: list[str]
) -> tuple[dict[str, set[int]], dict[str, str]]:
    """Per simulated user: the catalog positions they rated 4+ (their likes), and
    the genre their request names (the first genre of most of their films)."""
    liked_by: dict[str, set[int]] = {}
    genre_of: dict[str, str] = {}
    sim_set = set(sim_users)
    for u, i, v in zip(ratings.users, ratings.items, ratings.values, strict=True):
        if u in sim_set:
            if v >= 4.0:
                liked_by.setdefault(u, set()).add(index.pos[i])
    for u in sim_users:
        counts = Counter(
            g
            for uu, i in zip(ratings.users, ratings.items, strict=True)
            if uu == u
            for g in (index.metas[index.pos[i]].get("genres") or [])[:1]
        )
        genre_of[u] = counts.most_common(1)[0][0] if counts else "drama"
    return liked_by, genre_of


def _summary(curves: dict[str, list[list[float]]]) -> tuple[list[dict], dict[str, list[float]]]:
    """A table row per variant (lift over static) and its mean hit rate per round."""
    rows, per_round = [], {}
    static = float(np.mean(curves["static"]))
    for variant in VARIANTS:
        arr = np.array(curves[variant])
        per_round[variant] = arr.mean(axis=0).round(4).tolist()
        mean = float(arr.mean())
        rows.append(
            {
                "variant": variant,
                "hit rate": mean,
                "first round": float(arr[:, 0].mean()),
                "last round": float(arr[:, -1].mean()),
                "lift": mean / static if static else None,
            }
        )
    return rows, per_round


def _write(out: Path, report: dict, per_round: dict[str, list[float]], rounds: int) -> None:
    print(f"wrote {write_json(out / 'online.json', report)}")
    xs = list(range(1, rounds + 1))
    png = plot_curves(
        out / "online_hit_rate.png",
        {v: (xs, per_round[v]) for v in VARIANTS},
        "round",
        "hit rate",
        "Online learning from feedback",
    )
    if png:
        print(f"wrote {png}")
