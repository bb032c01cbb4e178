"""Fusion: one score per candidate as a weighted sum of its features, keeping
each feature's contribution (weight × value) so the "why" is the real math.

Weights come from config (`FusionModel.default()`), or are learned with
`learn_fusion` from examples (a candidate list and the items that were chosen:
liked in a chat, the next item a user watched, the movie a ReDial recommender
named). The learner is a listwise softmax (ListNet-style, top-1): it maximises
the probability of the chosen item among all candidates, which is what
Recall@k rewards. Pairwise logistic regression on random negatives was tried
first and did worse on ReDial (R@10 .058 vs .138 cross-validated): easy random
negatives teach it to separate the chosen item from junk, not from the near
misses at the top.

`learn_tree_fusion` learns gradient-boosted trees (LightGBM LambdaRank) on the
same lists instead: on ReDial, with ~2k training lists, small regularised trees
beat the linear fusion (R@10/50 .189/.380 vs .184/.367); a default-sized forest
(31 leaves, all negatives) did worse than linear on the earlier feature set
(.160/.343 vs .174/.350). Its contributions are TreeSHAP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from retrieval.lean_imports import import_lean
from retrieval.ranking.features import as_cold

if TYPE_CHECKING:
    import lightgbm

DEFAULT_WEIGHTS = {
    "semantic": 0.6,
    "facet_match": 0.2,
    "negative": -0.4,
    "popularity": 0.08,
    "catalog_popularity": 0.0,
    "rating": 0.08,
    "price_fit": 0.04,
    "novelty": 0.0,
    "freshness": 0.0,
    "content": 0.25,
    "co_interaction": 0.3,
    "cf": 0.3,
    "sequence": 0.2,
    "popular": 0.0,
}


class Fusion(Protocol):
    """Scores a candidate list from its feature columns and says why: per-feature
    contributions that add up to each score. Linear weights and trees both are one."""

    info: dict[str, Any]

    def score(
        self,
        cols: dict[str, np.ndarray],
        scale: dict[str, float] | None = None,
        limit: int | None = None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]: ...


@dataclass
class FusionModel:
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    info: dict[str, Any] = field(default_factory=dict)  # how it was learned: samples, loss, folds

    @classmethod
    def default(cls) -> FusionModel:
        return cls(dict(DEFAULT_WEIGHTS), {"source": "config"})

    def score(
        self,
        cols: dict[str, np.ndarray],
        scale: dict[str, float] | None = None,
        limit: int | None = None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Scores and per-feature contributions. `scale` multiplies some weights
        (the online bandit's arm) without changing the stored model; `limit` is
        for the tree fusion (a weighted sum's contributions cost nothing)."""
        n = len(next(iter(cols.values()))) if cols else 0
        total = np.zeros(n)
        contributions = {}
        for name, values in cols.items():
            w = self.weights.get(name, 0.0) * (scale or {}).get(name, 1.0)
            if w:
                contributions[name] = w * values
                total = total + contributions[name]
        return total, contributions


@dataclass
class Example:
    """One ranking decision: candidate features (rows) and which rows were chosen."""

    features: np.ndarray  # (candidates, features)
    chosen: list[int]


def learn_fusion(
    examples: list[Example],
    names: list[str],
    l2: float = 1e-3,
    max_iter: int = 200,
    free: tuple[str, ...] = (),
) -> FusionModel:
    """Listwise softmax regression: maximise log P(chosen | candidates).

    `free` names features the L2 penalty leaves alone: with few examples and a
    strong l2 the fusion then stays close to those (e.g. the best single
    channel) and only moves the others where the data insists."""
    from scipy.optimize import minimize  # here: a serving process never learns (~27 MB)

    examples = [e for e in examples if e.chosen and len(e.features)]
    if not examples:
        raise ValueError("no examples with a chosen item to learn fusion weights from")
    lists = _ListBlock.build(examples, len(names))
    penalty = np.array([0.0 if n in free else l2 for n in names])
    res = minimize(
        lambda w: lists.loss_grad(w, penalty),
        np.zeros(len(names)),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter},
    )
    w = res.x / lists.sd  # back to raw feature units; the offset (mu) is rank-invariant
    weights = {name: round(float(v), 6) for name, v in zip(names, w, strict=True)}
    info = {
        "source": "learned",
        "examples": len(examples),
        "chosen": int(len(lists.ex_idx)),
        "loss": round(float(res.fun), 5),
        "l2": l2,
        "learned_features": [n for n, v in zip(names, lists.varied, strict=True) if v],
    }
    return FusionModel(weights, info)


@dataclass
class _ListBlock:
    """The candidate lists padded to one (examples, rows, features) block, so the
    loss is one vectorised expression; padded rows score -inf."""

    Z: np.ndarray  # standardised features, 0 on padding
    pad: np.ndarray  # (examples, rows) True where a row is padding
    ex_idx: np.ndarray  # one entry per chosen item: its example ...
    row_idx: np.ndarray  # ... and its row
    sd: np.ndarray  # the scale each column was divided by
    varied: np.ndarray  # False for constant columns, which teach nothing

    @classmethod
    def build(cls, examples: list[Example], n_features: int) -> _ListBlock:
        rows = max(len(e.features) for e in examples)
        X = np.zeros((len(examples), rows, n_features))
        pad = np.ones((len(examples), rows), dtype=bool)
        ex_idx, row_idx = [], []
        for n, e in enumerate(examples):
            X[n, : len(e.features)] = e.features
            pad[n, : len(e.features)] = False
            for r in e.chosen:
                ex_idx.append(n)
                row_idx.append(r)
        # features on different scales (counts vs shares): standardise for the optimiser
        valid = X[~pad]
        mu, sd = valid.mean(axis=0), valid.std(axis=0)
        varied = sd >= 1e-9  # a constant column (no text in a click log) teaches nothing
        sd[~varied] = 1.0
        Z = (X - mu) / sd
        Z[pad] = 0.0
        return cls(Z, pad, np.array(ex_idx), np.array(row_idx), sd, varied)

    def loss_grad(self, w: np.ndarray, penalty: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean -log P(chosen) plus the L2 penalty, and its gradient."""
        Z, ex_idx, row_idx = self.Z, self.ex_idx, self.row_idx
        s = Z @ w
        s[self.pad] = -np.inf
        top = s.max(axis=1, keepdims=True)
        e = np.exp(s - top)
        e[self.pad] = 0.0
        denom = e.sum(axis=1, keepdims=True)
        p = e / denom
        lse = (np.log(denom) + top).ravel()
        picked = s[ex_idx, row_idx]
        loss = np.mean(lse[ex_idx] - picked) + w @ (penalty * w)
        # d/dw: E_p[z] - z_chosen, averaged over chosen items
        expect = np.einsum("er,erf->ef", p, Z)
        grad = np.mean(expect[ex_idx] - Z[ex_idx, row_idx], axis=0) + 2 * penalty * w
        return loss, grad


TREE_PARAMS = {
    "objective": "lambdarank",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambdarank_truncation_level": 50,
    "num_threads": 1,
    "seed": 0,
    "deterministic": True,
    "verbose": -1,
}


@dataclass
class TreeFusion:
    """Gradient-boosted trees over the same feature columns (LightGBM
    LambdaRank): they learn what a weighted sum cannot, e.g. that content
    similarity matters when the user named a movie and popularity when not.
    Each item's "why" is the trees' exact per-feature attribution (TreeSHAP),
    which adds up to the score like the linear contributions do."""

    names: list[str]
    model: str  # LightGBM's text dump
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._booster: lightgbm.Booster | None = None

    @property
    def booster(self) -> lightgbm.Booster:
        if self._booster is None:
            lgb = _lightgbm()
            self._booster = lgb.Booster(model_str=self.model)
        return self._booster

    def predict(self, matrix: np.ndarray, contributions: bool = False) -> np.ndarray:
        """Scores, or with `contributions` the (rows, features + 1) TreeSHAP matrix."""
        # LightGBM types its result as any of its output kinds; dense input gives an array
        return np.asarray(self.booster.predict(matrix, pred_contrib=contributions, num_threads=1))

    def importance(self) -> list[float]:
        """Total gain per feature, as shares (what the report shows for weights)."""
        gain = self.booster.feature_importance(importance_type="gain")
        total = float(gain.sum()) or 1.0
        return [round(float(g) / total, 4) for g in gain]

    def score(
        self,
        cols: dict[str, np.ndarray],
        scale: dict[str, float] | None = None,
        limit: int | None = None,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Scores and per-feature contributions (TreeSHAP), which add up to the
        score. `scale` (the online bandit's arm) multiplies features'
        contributions: the trees' interactions cannot be re-weighted inside,
        their attributions can. With `limit` and no scaling, contributions are
        computed only for the best `limit` rows (0 elsewhere): TreeSHAP costs
        ~100× a prediction, and only the shown items need their "why"."""
        n = len(next(iter(cols.values()))) if cols else 0
        matrix = np.stack([cols.get(f, np.zeros(n)) for f in self.names], axis=1)
        scale = {k: v for k, v in (scale or {}).items() if v != 1.0}
        if scale or limit is None or limit >= n:
            contrib = self.predict(matrix, contributions=True)
            parts = {
                f: contrib[:, i] * scale.get(_signal(f), 1.0) for i, f in enumerate(self.names)
            }
            # the last column is the trees' expected value, the same for every item:
            # left out, so the score is exactly the sum of the features' contributions
            return np.sum(list(parts.values()), axis=0), parts
        raw = self.predict(matrix)
        best = np.lexsort((np.arange(n), -raw))[:limit]
        contrib = self.predict(matrix[best], contributions=True)
        parts = {}
        for i, f in enumerate(self.names):
            parts[f] = np.zeros(n)
            parts[f][best] = contrib[:, i]
        return raw - (contrib[0, -1] if len(best) else 0.0), parts


def _signal(feature: str) -> str:
    """The signal a derived column belongs to: rr_content, in_content → content."""
    base = feature[3:] if feature.startswith(("rr_", "in_")) else feature
    return "semantic" if base == "dense" else base


def learn_tree_fusion(
    examples: list[Example],
    names: list[str],
    rounds: int = 200,
    params: dict | None = None,
    negatives: int | None = None,
    seed: int = 0,
    cold_share: float = 0.0,
) -> TreeFusion:
    """LambdaRank over the candidate lists: chosen rows are relevant (1), the
    rest not (0); lists without a chosen row teach nothing and are skipped.
    `negatives`: keep that many random unchosen rows per list (all if None).
    `cold_share`: that share of the rows, chosen and unchosen alike, is shown to
    the trees as items added after training (features.as_cold). Without it
    every chosen item in the lists had been mentioned or rated before, the trees
    learn "no interactions → never picked", and a new item is never ranked near
    the top whatever its text; with it they learn to rank such rows by content,
    and being cold says nothing about being chosen."""
    lgb = _lightgbm()
    examples = [e for e in examples if e.chosen and len(e.features)]
    if not examples:
        raise ValueError("no examples with a chosen item to learn fusion trees from")
    if negatives:
        rng = np.random.default_rng(seed)
        sampled = []
        for e in examples:
            others = np.setdiff1d(np.arange(len(e.features)), e.chosen)
            if len(others) > negatives:
                others = rng.choice(others, negatives, replace=False)
            rows = np.r_[np.asarray(e.chosen), np.sort(others)]
            sampled.append(Example(e.features[rows], list(range(len(e.chosen)))))
        examples = sampled
    if cold_share > 0:
        rng = np.random.default_rng(seed + 1)
        examples = [
            Example(as_cold(e.features, names, rng.random(len(e.features)) < cold_share), e.chosen)
            for e in examples
        ]
    X = np.concatenate([e.features for e in examples]).astype(np.float32)
    y = np.zeros(len(X))
    start = 0
    for e in examples:
        y[start + np.asarray(e.chosen)] = 1.0
        start += len(e.features)
    p = {**TREE_PARAMS, **(params or {})}
    data = lgb.Dataset(X, y, group=[len(e.features) for e in examples], feature_name=names)
    booster = lgb.train(p, data, rounds)
    info = {
        "source": "learned",
        "learner": "lightgbm",
        "examples": len(examples),
        "rows": len(X),
        "rounds": rounds,
        "cold_share": cold_share,
        "params": p,
    }
    return TreeFusion(list(names), booster.model_to_string(), info)


def _lightgbm() -> ModuleType:
    try:
        (lightgbm,) = import_lean(
            ["lightgbm"], refused=("sklearn", "pandas"), by=("lightgbm",), why="unused here"
        )
    except ImportError as e:  # pragma: no cover - a pinned dependency
        raise ImportError("tree fusion needs LightGBM: pip install lightgbm==4.7.0") from e
    return lightgbm


def merge_learned(base: FusionModel, learned: FusionModel) -> FusionModel:
    """Learned weights for the features the examples could teach, configured ones
    for the rest (e.g. `semantic` when the examples had no request text). The
    learned block is rescaled to the configured block's total weight, so the
    balance between the two stays what the configuration says."""
    names = learned.info.get("learned_features", list(learned.weights))
    base_mass = sum(abs(base.weights.get(n, 0.0)) for n in names)
    learned_mass = sum(abs(learned.weights.get(n, 0.0)) for n in names)
    factor = base_mass / learned_mass if base_mass > 0 and learned_mass > 0 else 1.0
    weights = dict(base.weights)
    weights.update({n: round(learned.weights[n] * factor, 6) for n in names})
    return FusionModel(weights, {**learned.info, "rescaled_by": round(factor, 6)})
