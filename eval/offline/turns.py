"""`recochat eval turns` (and its ReDial alias `eval redial`): the standard
recommendation-turn protocol on any catalog and turns file.

At every recommendation turn the whole catalog is ranked and each gold item is
one sample (CRSLab / UniCRS / iEvaLM convention); Recall@1/10/50, NDCG and MRR
under the protocols of eval/offline/protocols.py.

What the ranker sees at a turn: the context's text, all of it (dense channel,
"said", similar requests), the items it mentions, linked by title (content,
shared facets, co-mention, dialogue EASE, MovieLens co-interaction, EASE and
SASRec channels), the facet values it names (the catalog's categorical facets:
genres and people on ReDial, also writers and languages on OpenDialKG), and
popularity. Nothing from ReDial's `redial_mentions` field is used (the preset
drops it): it counts mentions in the test dialogues.

Learned from the other folds' dialogues: co-mentions (item-kNN over
dialogues) and EASE over the same dialogues ("dialogue_cf"), mention
popularity, how often each movie was a recommender's pick ("recommended"),
what was picked after a movie was named ("picked_after") or when a facet value
or a word was in the request ("asked_for", "said", cf.Transitions), and the
picks for the most similar requests ("similar_requests", cf.RequestKNN over the
request embeddings). The fusion is LightGBM LambdaRank over all these signals
plus per-list rank features (features.FeatureConfig.rank_features);
`Options.learner = "listwise"` gives the linear softmax fusion instead.

Measured on the dev turns (R@10/50, mentioned excluded; one sample SE of R@10
≈ .0065): the whole context instead of its last 3 utterances lifts
similar_requests alone from .105/.220 to .116/.249 and "said" from .092/.192 to
.099/.221 (fused .189/.379 → .192/.381); dialogue EASE alone .118/.230 against
co-mention item-kNN .098/.232 (fused .192/.387 with it, .193/.382 without).
Tried and left out, each within noise of the fusion without it: training lists
from the top 200 per channel instead of 50 (.192/.386); a TF-IDF request kNN
(.098/.208 alone; fused .191/.383 with it); a request kNN voting for the picks
of the neighbours' whole dialogues (.124/.252 alone; fused .197/.387 with it);
session-kNN over the mentioned movies (.091/.205 alone, like picked_after);
query-level columns (mention/facet/word counts: .193/.383 vs .192/.381); rank
features down to rank 200 (.184/.381); channel scores scaled by their maximum
(`--scaling max`, .187/.386); `--recency 0.5` (.194/.388). Dislike cues
("didn't like", "hated", "not a fan") name only 32 of 1,998 seeker mentions, so
likes are not told from dislikes. Of the gold movies outside the pool (pool
recall .80), 70 % were never named in the training folds' dialogues.

Everything learned from the turns (dialogue co-mentions, popularity, fusion
weights) follows the split plan of eval/offline/splits.py: fold f is scored by
models that never saw its dialogues, and the fusion weights for fold f are
learned on the other folds' turns, each featurised by models that excluded
both f and that turn's own fold (nested), so no training example's features
leak its own answer; held-out test turns reach no model at all. MovieLens
models use no dialogue data.

Ranking is the product's two-stage pipeline: every channel recalls its top
`--pool` items, the union is fused, and the rest of the catalog follows by
popularity. "pool recall" says how many gold items the union held at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from chat import FEATURES, TREES
from eval.offline.repeats import RepeatOdds
from eval.offline.splits import TEST, Split
from retrieval import (
    CatalogIndex,
    Channel,
    DialogueConfig,
    DialogueModels,
    Example,
    FacetMatcher,
    FeatureBuilder,
    PastPick,
    Pipeline,
    PopularChannel,
    Query,
    TitleLinker,
    categorical_fields,
    dialogue_channels,
    learn_fusion,
    learn_tree_fusion,
)

TRAIN_POOL = 50  # per channel, for fusion training lists


@dataclass
class Turn:
    dialog: str
    fold: int  # a hash fold of the dialog id, or splits.TEST
    text: str
    mentioned: list[int]  # catalog positions, in order of mention
    gold: list[list[int]]  # per gold title: its catalog positions (a few titles repeat)
    facets: dict[str, list[str]]
    vector: np.ndarray | None = None
    recent: list[int] = field(default_factory=list)  # mentioned, most recently named first


@dataclass
class Featurised:
    positions: np.ndarray
    matrix: np.ndarray  # (rows, features) float32
    chosen: list[int] = field(default_factory=list)


class TurnReader:
    """Turns files (JSONL: dialog_id, context, rec) linked to one catalog: the
    context's items by title, its facet values, the gold titles by exact title."""

    def __init__(self, index: CatalogIndex):
        self.index = index
        self.linker = TitleLinker(
            {i: m["title"] for i, m in zip(index.ids, index.metas, strict=True)}
        )
        self.fields = categorical_fields(index.metas)
        self.facets = FacetMatcher(index.metas, self.fields)
        self.by_title: dict[str, list[int]] = {}
        for p, meta in enumerate(index.metas):
            self.by_title.setdefault(meta["title"].lower(), []).append(p)

    def read(
        self, path: Path, fold: Callable[[str], int], limit_dialogs: int | None = None
    ) -> tuple[list[Turn], dict]:
        rows = read_rows(path)
        if limit_dialogs:
            keep = set(sorted({str(r["dialog_id"]) for r in rows})[:limit_dialogs])
            rows = [r for r in rows if str(r["dialog_id"]) in keep]
        turns, unknown_gold = [], 0
        for r in rows:
            context = [u for u in r["context"] if u.strip()]
            mentioned = [self.index.pos[i] for i in self.linker.link(" \n ".join(context))]
            gold = []
            for title in r["rec"]:
                found = self.by_title.get(title.lower())
                if found:
                    gold.append(found)
                else:
                    unknown_gold += 1
            if not gold:
                continue
            dialog = str(r["dialog_id"])
            text = " ".join(context)
            turns.append(
                Turn(
                    dialog,
                    fold(dialog),
                    text,
                    mentioned,
                    gold,
                    self.facets.match(text),
                    recent=self.most_recent_first(context, mentioned),
                )
            )
        stats = {
            "turns": len(turns),
            "dialogs": len({t.dialog for t in turns}),
            "samples": sum(len(t.gold) for t in turns),
            "gold_not_in_catalog": unknown_gold,
            "mentions_linked": sum(len(t.mentioned) for t in turns),
        }
        return turns, stats

    def most_recent_first(self, context: list[str], mentioned: list[int]) -> list[int]:
        """The mentioned items ordered by the last utterance that names them."""
        last = {p: -1 for p in mentioned}
        for n, utterance in enumerate(context):
            for i in self.linker.link(utterance):
                if self.index.pos[i] in last:
                    last[self.index.pos[i]] = n
        order = {p: k for k, p in enumerate(mentioned)}
        return sorted(mentioned, key=lambda p: (-last[p], -order[p]))


def read_rows(path: Path) -> list[dict]:
    """The turns file's rows; a bad line stops with its line number and what to fix."""
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise EvalInputError(f"Cannot read the turns file {path}: {e}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ok = (
                isinstance(row, dict)
                and isinstance(row.get("context"), list)
                and isinstance(row.get("rec"), list)
                and "dialog_id" in row
            )
        except json.JSONDecodeError:
            ok = False
        if not ok:
            raise EvalInputError(
                f"{path}:{n}: not a turn; each line must be a JSON object with dialog_id, "
                'context (a list of utterances) and rec (a list of titles), e.g. {"dialog_id": '
                '"1", "context": ["Hi, a horror movie?"], "rec": ["The Shining"]}'
            )
        row["context"] = [str(u) for u in row["context"]]
        row["rec"] = [str(t) for t in row["rec"]]
        rows.append(row)
    return rows


class EvalInputError(Exception):
    """A file given to an evaluation command cannot be used; the message says why."""


def fold_models(turns: list[Turn], index: CatalogIndex, excluded: frozenset[int]) -> DialogueModels:
    """What is learned from the dialogues outside a set of folds: the dialogue
    models `recochat train --dialogues` serves (retrieval/models/dialogue.py).
    Cold items (OPTIONS.cold) were added after these dialogues: never learned."""
    config = DialogueConfig(shrink=OPTIONS.shrink, recency=OPTIONS.recency)
    cold = OPTIONS.cold
    decisions = [
        PastPick(
            t.dialog,
            t.text,
            [index.ids[p] for p in t.mentioned if p not in cold],
            chosen,
            t.facets,
            t.vector,
        )
        for t in turns
        if t.fold not in excluded
        and (chosen := [index.ids[g[0]] for g in t.gold if g[0] not in cold])
    ]
    return DialogueModels(index.ids, config).fit(decisions)


class TurnScores(Channel):
    """A channel whose scores were computed once per turn (fold-independent
    channels: dense, MovieLens models), replayed for every fold variant."""

    def __init__(self, index: CatalogIndex, name: str, inner: Channel, min_score: float):
        super().__init__(index)
        self.name, self.inner, self.min_score = name, inner, min_score
        self._last: tuple[int, np.ndarray | None] | None = None

    def scores(self, query: Query) -> np.ndarray | None:
        # a turn is featurised for all its fold variants in a row: remember one
        if self._last is None or self._last[0] != id(query):
            self._last = (id(query), self.inner.scores(query))
        return self._last[1]


def make_query(turn: Turn, index: CatalogIndex) -> Query:
    return Query(
        text=turn.text,
        liked=[index.ids[p] for p in turn.mentioned],
        facets=turn.facets,
        vector=turn.vector,
    )


def recall(pipeline: Pipeline, query: Query, k: int):
    """Pipeline.recall without its shared dense+content product (the fixed channels
    replay per-turn scores, so that product would be computed and thrown away)."""
    allowed = pipeline.index.mask(query.filter)
    scores, recalled = {}, {}
    for ch in pipeline.channels:
        scores[ch.name] = s = ch.scores(query)
        recalled[ch.name] = ch.top(s, k, query, allowed).tolist()
    return recalled, scores


def featurise(pipeline: Pipeline, query: Query, turn: Turn, k: int, with_gold: bool) -> Featurised:
    recalled, scores = recall(pipeline, query, k)
    pool = dict.fromkeys(p for s in recalled.values() for p in s)
    pool.update(dict.fromkeys(turn.mentioned))
    # Gold items count as chosen only when the channels recalled them: adding them
    # to the list by hand would teach the fusion that "recalled by no channel"
    # marks the answer (the in_<channel> flags would learn negative weights).
    chosen_pos = (
        [
            p
            for g in turn.gold
            for p in g[:1]
            if p in pool and p not in turn.mentioned and p not in OPTIONS.cold
        ]
        if with_gold
        else []
    )
    positions = np.fromiter(pool, np.int64, len(pool))
    cols = pipeline.features.build(query, positions, scores, pipeline.flags(recalled))
    names = pipeline.feature_names()
    matrix = np.stack([cols[n] for n in names], axis=1).astype(np.float32)
    where = {p: r for r, p in enumerate(positions.tolist())}
    chosen = [where[p] for p in chosen_pos]
    if with_gold:  # mentioned items are never recommended again in training lists,
        # and cold items were added after these dialogues: not in their lists at all
        keep = ~np.isin(positions, np.fromiter(OPTIONS.cold, np.int64, len(OPTIONS.cold)))
        keep[[where[p] for p in turn.mentioned]] = False
        remap = np.cumsum(keep) - 1
        return Featurised(positions[keep], matrix[keep], [int(remap[c]) for c in chosen])
    return Featurised(positions, matrix, chosen)


@dataclass
class Options:
    recency: float = 1.0  # weight of older mentions in the item-to-item channels
    scaling: str = "max"  # FeatureConfig.channel_scaling
    # "trees" (LightGBM LambdaRank) beat the listwise linear fusion on the dev
    # turns: R@10/50 .189/.380 vs .184/.367 (mentioned excluded), same features
    learner: str = "trees"
    shrink: float = 5.0  # of the "picked after" / "asked for" frequencies
    cold: frozenset[int] = frozenset()  # items added after training (splits.cold_items)


OPTIONS = Options()


def build_pipeline(index: CatalogIndex, fixed: list[Channel], fold: DialogueModels) -> Pipeline:
    """The product's pipeline (chat/learn/dialogue_training.py: channels in the serving
    order, its feature columns) with this fold variant's dialogue models. The
    catalog's popularity prior is the fold's: call `use_fold` before using it."""
    use_fold(index, fold)
    channels = [*fixed, *dialogue_channels(fold, index), PopularChannel(index)]
    config = replace(FEATURES, channel_scaling=OPTIONS.scaling)
    return Pipeline(index, channels, features=FeatureBuilder(index, config))


def use_fold(index: CatalogIndex, fold: DialogueModels) -> None:
    index.set_popularity(fold.popularity_on(index))


def rank_pool(
    f: Featurised, scores: np.ndarray, turn: Turn, exclude: bool, popularity: np.ndarray
) -> list[int]:
    """0-based rank of each gold title: pool items by fused score, then the rest
    of the catalog by popularity; mentioned items removed when `exclude`."""
    s = scores.astype(np.float64).copy()
    banned = np.asarray(turn.mentioned if exclude else [], dtype=np.int64)
    if exclude:
        s[np.isin(f.positions, banned)] = -np.inf
    order = np.lexsort((f.positions, -s))
    ranked = f.positions[order][np.isfinite(s[order])]
    rank_of = {int(p): r for r, p in enumerate(ranked)}
    # the rest: catalog order by popularity, minus what the pool and the ban took
    pop_order = np.lexsort((np.arange(len(popularity)), -popularity))
    pop_rank = np.empty(len(popularity), np.int64)
    pop_rank[pop_order] = np.arange(len(popularity))
    taken = np.sort(pop_rank[np.union1d(f.positions, banned)])
    ranks = []
    for g in turn.gold:
        best = min((rank_of[p] for p in g if p in rank_of), default=None)
        if best is None:
            free = [p for p in g if p not in set(banned.tolist())]
            if not free:
                ranks.append(len(popularity))  # excluded as already mentioned: a miss
                continue
            best = len(ranked) + min(
                int(pop_rank[p] - np.searchsorted(taken, pop_rank[p])) for p in free
            )
        ranks.append(best)
    return ranks


def popularity_ranks(
    popularity: np.ndarray, tie: np.ndarray, turn: Turn, exclude: bool
) -> list[int]:
    """The baseline: the fold's mention counts, ties by the catalog's rating counts."""
    s = popularity + 1e-6 * tie
    if exclude:
        s = s.copy()
        s[turn.mentioned] = -np.inf
    out = []
    for g in turn.gold:
        out.append(min(int(np.sum(s > s[p]) + np.sum(s[:p] == s[p])) for p in g))
    return [r if np.isfinite(s[g[0]]) else len(s) for r, g in zip(out, turn.gold, strict=True)]


def embed_texts(texts: list[str], embedder: str) -> np.ndarray:
    from eval.offline.data import cache_dir, digest
    from retrieval import make_embedder

    path = cache_dir() / f"texts-{digest(texts, embedder)}.npy"
    if path.is_file():
        return np.load(path)
    model = make_embedder(embedder)
    vectors = np.concatenate([model.embed(texts[i : i + 128]) for i in range(0, len(texts), 128)])
    np.save(path, vectors)
    return vectors


def evaluate(
    turns: list[Turn],
    index: CatalogIndex,
    fixed: list[Channel],
    split: Split,
    pool_k: int,
    progress=lambda it, **kw: it,
) -> dict:
    """Featurise every ranked turn with the models of its fold and (nested) every
    training turn for the fusion of each other ranked fold; returns everything
    the report needs."""
    fold_data = {ex: fold_models(turns, index, ex) for ex in split.variants()}
    pipes = {ex: build_pipeline(index, fixed, fd) for ex, fd in fold_data.items()}
    test: dict[int, Featurised] = {}
    train: dict[tuple[int, int], Featurised] = {}  # (ranked fold, turn) → example
    names = next(iter(pipes.values())).feature_names()
    # kept alive for the whole loop: TurnScores knows a query by its id()
    queries = [make_query(t, index) for t in turns]
    started = time.perf_counter()
    for n, t in enumerate(progress(turns, desc="featurising turns")):
        q = queries[n]
        if t.fold in split.scored:
            ex = split.ranking(t.fold)
            use_fold(index, fold_data[ex])
            test[n] = featurise(pipes[ex], q, t, pool_k, with_gold=False)
        for f in split.scored:
            if split.teaches(f, t.fold):
                ex = split.training(f, t.fold)
                use_fold(index, fold_data[ex])
                train[(f, n)] = featurise(pipes[ex], q, t, TRAIN_POOL, with_gold=True)
    return {
        "names": names,
        "test": test,
        "train": train,
        "fold_popularity": {
            f: fold_data[split.ranking(f)].popularity_on(index) for f in split.scored
        },
        "featurise_s": time.perf_counter() - started,
    }


def fit_and_rank(
    turns: list[Turn],
    data: dict,
    split: Split,
    drop: set[str],
    learner: str = "listwise",
) -> dict:
    """Learn each ranked fold's fusion on the other folds' (nested) training lists
    and rank that fold's turns. learner: "listwise" (linear softmax,
    fusion.learn_fusion) or "trees" (LightGBM LambdaRank, fusion.learn_tree_fusion).
    Returns per ranked turn its gold ranks with mentioned items excluded ("excl")
    and not ("incl"), not excluded with the context's items merged by their odds
    ("repeats", eval/offline/repeats.py), and its top 10 without the mentioned
    items ("lists")."""
    names = data["names"]
    keep = [i for i, n in enumerate(names) if n not in drop]
    kept_names = [names[i] for i in keep]
    excl: dict[int, list[int]] = {}
    incl: dict[int, list[int]] = {}
    lists: dict[int, list[int]] = {}
    fused_scores: dict[int, np.ndarray] = {}
    weights = {}
    for f in split.scored:
        examples = [
            Example(ex.matrix[:, keep], ex.chosen)
            for (tf, _), ex in data["train"].items()
            if tf == f and ex.chosen
        ]
        if learner == "trees":
            trees = learn_tree_fusion(examples, kept_names, **TREES)
            weights[f] = dict(zip(kept_names, trees.importance(), strict=True))
            score = trees.predict
        else:
            model = learn_fusion(examples, kept_names, max_iter=150)
            weights[f] = model.weights
            w = np.array([model.weights[n] for n in kept_names])
            score = lambda m, w=w: m @ w  # noqa: E731
        pop = data["fold_popularity"][f]
        for n, t in enumerate(turns):
            if t.fold != f:
                continue
            ft = data["test"][n]
            fused_scores[n] = s = score(ft.matrix[:, keep])
            excl[n] = rank_pool(ft, s, t, True, pop)
            incl[n] = rank_pool(ft, s, t, False, pop)
            s_ex = np.where(np.isin(ft.positions, t.mentioned), -np.inf, s)
            lists[n] = ft.positions[np.lexsort((ft.positions, -s_ex))[:10]].tolist()
    repeats = {}
    for f in split.scored:  # odds learned from the other cross-validated folds' ranks
        ranked = [n for n, t in enumerate(turns) if t.fold == f]
        odds = RepeatOdds.learn(turns, excl, [n for n in excl if turns[n].fold not in (f, TEST)])
        for n in ranked:
            ft, t = data["test"][n], turns[n]
            merged = odds.scores(ft.positions, fused_scores[n], t.recent)
            repeats[n] = rank_pool(ft, merged, t, False, data["fold_popularity"][f])
    return {"excl": excl, "incl": incl, "repeats": repeats, "lists": lists, "weights": weights}


def single_signal_ranks(turns: list[Turn], data: dict, name: str) -> dict[int, list[int]]:
    """Per ranked turn, the gold ranks by one feature column alone (mentioned excluded)."""
    col = data["names"].index(name)
    out = {}
    for n, ft in data["test"].items():
        t = turns[n]
        pop = data["fold_popularity"][t.fold]
        s = ft.matrix[:, col].astype(np.float64) + 1e-6 * np.log1p(pop[ft.positions])
        out[n] = rank_pool(ft, s, t, True, pop)
    return out
