"""Collaborative filtering over the interaction matrix: item-kNN and EASE.

Both answer one question: given the items a user has touched (or liked in this
chat), how strongly does every other item go with them? Measured on MovieLens
(`recochat eval movielens`): EASE ranks best at catalog sizes where its dense
item×item matrix fits (≤ MAX_EASE_ITEMS); item-kNN keeps only the top neighbours
per item, so it scales to 100k items and also gives "people who liked X also
liked Y" neighbours for the item-to-item channel.

Models are plain numpy/scipy and round-trip through `to_arrays`/`from_arrays`
so artifacts.py can version them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from retrieval.models.array_model import require_arrays, require_items

MAX_EASE_ITEMS = 20_000  # 20k² float32 = 1.6 GB while training; beyond that use item-kNN


@dataclass
class InteractionMatrix:
    """users × items, one weight per (user, item); item ids are catalog ids."""

    matrix: sp.csr_matrix
    user_ids: list[str]
    item_ids: list[str]

    @classmethod
    def build(
        cls,
        users: list[str],
        items: list[str],
        weights: list[float] | None = None,
        item_ids: list[str] | None = None,
    ) -> InteractionMatrix:
        """Repeated (user, item) pairs keep their largest weight, not the sum: a user
        who rated a film twice did not like it twice as much."""
        item_ids = list(item_ids) if item_ids is not None else sorted(set(items))
        item_pos = {i: n for n, i in enumerate(item_ids)}
        user_ids = sorted(set(users))
        user_pos = {u: n for n, u in enumerate(user_ids)}
        keep = [n for n, i in enumerate(items) if i in item_pos]
        rows = np.array([user_pos[users[n]] for n in keep], dtype=np.int64)
        cols = np.array([item_pos[items[n]] for n in keep], dtype=np.int64)
        vals = (
            np.ones(len(keep), np.float32)
            if weights is None
            else np.array([weights[n] for n in keep], np.float32)
        )
        shape = (len(user_ids), len(item_ids))
        # max over duplicates: sort by value so the last write per cell is the largest
        order = np.lexsort((vals, cols, rows))
        dense_key = rows[order] * shape[1] + cols[order]
        last = np.r_[dense_key[1:] != dense_key[:-1], True][: len(dense_key)]  # none if empty
        coo = sp.coo_matrix(
            (vals[order][last], (rows[order][last], cols[order][last])), shape=shape
        )
        return cls(coo.tocsr(), user_ids, item_ids)

    @property
    def counts(self) -> np.ndarray:
        """Users per item: the popularity prior."""
        return np.asarray((self.matrix > 0).sum(axis=0)).ravel().astype(np.float64)


class ItemKNN:
    """Cosine similarity between item columns, top `neighbours` kept per item.
    A shrinkage term keeps pairs seen by only one or two users from looking perfect."""

    kind: ClassVar[str] = "item_knn"

    def __init__(self, neighbours: int = 100, shrink: float = 10.0) -> None:
        self.neighbours = neighbours
        self.shrink = shrink
        self.sim: sp.csr_matrix | None = None
        self.item_ids: list[str] = []

    def fit(self, data: InteractionMatrix) -> ItemKNN:
        x = data.matrix.copy().astype(np.float32)
        x.data[:] = 1.0  # co-occurrence counts, not weighted by rating scale
        co = (x.T @ x).tocsr().astype(np.float32)
        norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
        co.setdiag(0)
        co.eliminate_zeros()
        coo = co.tocoo()
        denom = norms[coo.row] * norms[coo.col] + self.shrink
        sim = sp.csr_matrix((coo.data / denom, (coo.row, coo.col)), shape=co.shape)
        self.sim = _keep_top(sim, self.neighbours)
        self.item_ids = list(data.item_ids)
        return self

    def score(self, positions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of the neighbour rows of the given items (weighted)."""
        n = len(self.item_ids)
        if len(positions) == 0:
            return np.zeros(n, dtype=np.float32)
        w = np.ones(len(positions), np.float32) if weights is None else weights.astype(np.float32)
        rows = self._fitted()[positions]
        return np.asarray(rows.T @ w).ravel()

    def _fitted(self) -> sp.csr_matrix:
        if self.sim is None:
            raise RuntimeError("ItemKNN is not fitted yet: call fit() or from_arrays() first.")
        return self.sim

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {**_csr_arrays(self._fitted()), "params": np.array([self.neighbours, self.shrink])}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], item_ids: list[str]) -> ItemKNN:
        require_arrays(arrays, cls.kind, _SPARSE_KEYS)
        require_items(cls.kind, int(arrays["shape"][0]), item_ids)
        model = cls(int(arrays["params"][0]), float(arrays["params"][1]))
        model.sim = _csr(arrays)
        model.item_ids = list(item_ids)
        return model


class EASE:
    """Embarrassingly Shallow Autoencoder (Steck 2019): a closed-form item×item
    weight matrix B = I - P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, zero diagonal."""

    kind: ClassVar[str] = "ease"

    def __init__(self, l2: float = 200.0) -> None:
        self.l2 = l2
        self.weights: np.ndarray | None = None
        self.item_ids: list[str] = []

    def fit(self, data: InteractionMatrix) -> EASE:
        n = len(data.item_ids)
        if n > MAX_EASE_ITEMS:
            raise ValueError(
                f"EASE needs a dense {n}×{n} matrix; use item-kNN above {MAX_EASE_ITEMS} items."
            )
        x = data.matrix.copy().astype(np.float64)
        x.data[:] = 1.0
        gram = (x.T @ x).toarray()
        gram[np.diag_indices(n)] += self.l2
        p = np.linalg.inv(gram)
        b = p / (-np.diag(p))
        b[np.diag_indices(n)] = 0.0
        self.weights = b.astype(np.float32)
        self.item_ids = list(data.item_ids)
        return self

    def score(self, positions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        if len(positions) == 0:
            return np.zeros(len(self.item_ids), dtype=np.float32)
        w = np.ones(len(positions), np.float32) if weights is None else weights.astype(np.float32)
        return w @ self._fitted()[positions]

    def _fitted(self) -> np.ndarray:
        if self.weights is None:
            raise RuntimeError("EASE is not fitted yet: call fit() or from_arrays() first.")
        return self.weights

    def to_arrays(self) -> dict[str, np.ndarray]:
        # float16 halves the file; ranking by these scores is unchanged in practice
        return {"weights": self._fitted().astype(np.float16), "params": np.array([self.l2])}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], item_ids: list[str]) -> EASE:
        require_arrays(arrays, cls.kind, ("weights", "params"))
        require_items(cls.kind, len(arrays["weights"]), item_ids)
        model = cls(float(arrays["params"][0]))
        model.weights = arrays["weights"].astype(np.float32)
        model.item_ids = list(item_ids)
        return model


# what a sparse model's arrays hold: its matrix in CSR parts, and its parameters
_SPARSE_KEYS = ("data", "indices", "indptr", "shape", "params")


def _csr_arrays(m: sp.csr_matrix) -> dict[str, np.ndarray]:
    """A sparse matrix as the arrays `_csr` reads back."""
    return {"data": m.data, "indices": m.indices, "indptr": m.indptr, "shape": np.array(m.shape)}


def _csr(arrays: Mapping[str, np.ndarray]) -> sp.csr_matrix:
    """A sparse matrix back from the parts `to_arrays` saved it as."""
    parts = (arrays["data"], arrays["indices"], arrays["indptr"])
    return sp.csr_matrix(parts, shape=tuple(arrays["shape"]))


def _keep_top(sim: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep each row's k largest entries (the neighbour lists)."""
    sim = sim.tocsr()
    data, indices, indptr = [], [], [0]
    for row in range(sim.shape[0]):
        lo, hi = sim.indptr[row], sim.indptr[row + 1]
        vals, cols = sim.data[lo:hi], sim.indices[lo:hi]
        if len(vals) > k:
            keep = np.argpartition(-vals, k - 1)[:k]
            vals, cols = vals[keep], cols[keep]
        data.append(vals)
        indices.append(cols)
        indptr.append(indptr[-1] + len(vals))
    return sp.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0, np.float32),
            np.concatenate(indices) if indices else np.zeros(0, np.int32),
            np.array(indptr),
        ),
        shape=sim.shape,
    )


class Transitions:
    """ "Chosen after": how often an item was the answer when an anchor (an item
    named earlier, or a facet value asked for) was in the context, as a shrunk
    conditional frequency count(anchor → item) / (count(anchor) + shrink).

    Unlike co-occurrence it is directed and learns from the decisions
    themselves (a ReDial recommender's picks, the item a shopper bought after
    looking at others), so it says "people who asked for X were given Y", not
    "X and Y were named together". Anchors are any strings; items are ids.
    """

    kind: ClassVar[str] = "transitions"

    def __init__(self, shrink: float = 5.0) -> None:
        self.shrink = shrink
        self.item_ids: list[str] = []
        self.anchors: dict[str, int] = {}
        self.matrix: sp.csr_matrix | None = None  # anchors × items, already normalised

    def fit(
        self,
        decisions: list[tuple[list[str], list[str]]],
        item_ids: list[str],
        anchor_weights: list[list[float]] | None = None,
    ) -> Transitions:
        """decisions: (anchors in the context, items chosen) per decision."""
        self.item_ids = list(item_ids)
        item_pos = {i: n for n, i in enumerate(self.item_ids)}
        rows, cols, vals = [], [], []
        seen: dict[int, float] = {}
        for n, (anchors, chosen) in enumerate(decisions):
            weights = anchor_weights[n] if anchor_weights else [1.0] * len(anchors)
            targets = [item_pos[i] for i in dict.fromkeys(chosen) if i in item_pos]
            for a, w in dict(zip(anchors, weights, strict=True)).items():
                row = self.anchors.setdefault(a, len(self.anchors))
                seen[row] = seen.get(row, 0.0) + w
                rows += [row] * len(targets)
                cols += targets
                vals += [w] * len(targets)
        shape = (len(self.anchors), len(self.item_ids))
        counts = sp.csr_matrix((vals, (rows, cols)), shape=shape, dtype=np.float64)
        norm = np.zeros(shape[0])
        for row, total in seen.items():
            norm[row] = 1.0 / (total + self.shrink)
        self.matrix = (sp.diags(norm) @ counts).tocsr().astype(np.float32)
        return self

    def score_anchors(self, anchors: list[str], weights: list[float] | None = None) -> np.ndarray:
        """Sum over the known anchors of P(item | anchor), weighted."""
        weights = weights or [1.0] * len(anchors)
        known = [(self.anchors[a], w) for a, w in zip(anchors, weights, strict=True) if a in self]
        if not known or self.matrix is None:
            return np.zeros(len(self.item_ids), dtype=np.float32)
        rows = np.array([r for r, _ in known])
        w = np.array([w for _, w in known], dtype=np.float32)
        return np.asarray(self.matrix[rows].T @ w).ravel()

    def score(self, positions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """The ModelChannel interface: anchors are items, by position in item_ids."""
        anchors = [self.item_ids[p] for p in positions]
        return self.score_anchors(anchors, None if weights is None else list(weights))

    def __contains__(self, anchor: str) -> bool:
        return anchor in self.anchors

    def to_arrays(self) -> dict[str, np.ndarray]:
        m = self.matrix if self.matrix is not None else sp.csr_matrix((0, len(self.item_ids)))
        return {
            "anchors": np.array(list(self.anchors), dtype=str),
            **_csr_arrays(m),
            "params": np.array([self.shrink]),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], item_ids: list[str]) -> Transitions:
        require_arrays(arrays, cls.kind, ("anchors", *_SPARSE_KEYS))
        require_items(cls.kind, int(arrays["shape"][1]), item_ids)
        model = cls(float(arrays["params"][0]))
        model.item_ids = list(item_ids)
        model.anchors = {str(a): n for n, a in enumerate(arrays["anchors"].tolist())}
        model.matrix = _csr(arrays)
        return model


class RequestKNN:
    """ "Chosen for similar requests": the k past decisions whose request vector is
    closest to this one vote for the items chosen there, each vote weighted by
    similarity**power. A session-kNN over request text instead of item sets."""

    kind: ClassVar[str] = "request_knn"

    def __init__(self, neighbours: int = 200, power: float = 3.0) -> None:
        self.neighbours, self.power = neighbours, power
        self.item_ids: list[str] = []
        self.vectors: np.ndarray | None = None  # (decisions, dim), unit length
        self.chosen: sp.csr_matrix | None = None  # decisions × items

    def fit(self, vectors: np.ndarray, chosen: list[list[int]], item_ids: list[str]) -> RequestKNN:
        """vectors: one request embedding per decision; chosen: item positions."""
        self.item_ids = list(item_ids)
        v = np.asarray(vectors, dtype=np.float32)
        self.vectors = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        rows = [n for n, items in enumerate(chosen) for _ in items]
        cols = [p for items in chosen for p in items]
        self.chosen = sp.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(v), len(self.item_ids))
        )
        return self

    def score_vector(self, vector: np.ndarray) -> np.ndarray:
        if self.vectors is None or self.chosen is None or len(self.vectors) == 0:
            return np.zeros(len(self.item_ids), dtype=np.float32)
        sim = self.vectors @ (vector / max(float(np.linalg.norm(vector)), 1e-9))
        k = min(self.neighbours, len(sim))
        top = np.argpartition(-sim, k - 1)[:k]
        w = np.maximum(sim[top], 0.0) ** self.power
        return np.asarray(self.chosen[top].T @ w).ravel().astype(np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Dense request vectors only (sentence embeddings, as the product uses)."""
        c = self.chosen if self.chosen is not None else sp.csr_matrix((0, len(self.item_ids)))
        return {
            "vectors": np.zeros((0, 1), np.float32) if self.vectors is None else self.vectors,
            **_csr_arrays(c),
            "params": np.array([self.neighbours, self.power]),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], item_ids: list[str]) -> RequestKNN:
        require_arrays(arrays, cls.kind, ("vectors", *_SPARSE_KEYS))
        require_items(cls.kind, int(arrays["shape"][1]), item_ids)
        model = cls(int(arrays["params"][0]), float(arrays["params"][1]))
        model.item_ids = list(item_ids)
        model.vectors = arrays["vectors"].astype(np.float32)
        model.chosen = _csr(arrays)
        return model
