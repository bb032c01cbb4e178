"""The protocols the field reports recommendation turns under, with an interval
per figure, and the two baselines every report carries.

A sample is one (turn, gold item) pair, ranked against the whole catalog:

    standard   mentioned items not excluded (CRSLab / UniCRS / iEvaLM)
    excluded   mentioned items excluded: a gold item the context already named
               is a miss
    dropped    mentioned items excluded and samples whose gold item was already
               mentioned dropped (He et al. 2023; the SIGIR 2026 reproducibility study)

Intervals: a bootstrap over dialogues (turns of one dialogue share a seeker, so
they are resampled together), 1,000 draws with a fixed seed; the 2.5 and 97.5
percentiles and the standard error (the draws' standard deviation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROTOCOLS = {
    "standard": "mentioned not excluded",
    "excluded": "mentioned excluded (a repeated gold item is a miss)",
    "dropped": "mentioned excluded, gold items already mentioned dropped",
}
FIGURES = ("R@1", "R@10", "R@50", "NDCG@10", "MRR")
DRAWS = 1000


@dataclass(frozen=True)
class Sample:
    turn: int  # index into the turns list
    dialog: str
    repeat: bool  # the gold item was already mentioned in the context
    cold: bool  # the gold item is one of the items added after training
    no_history: bool  # the context mentions no item


def samples_of(turns, ranked: list[int], cold: frozenset[int]) -> list[Sample]:
    """The samples of the ranked turns, in turn then gold order (the order of the
    rank lists the rankers return)."""
    out = []
    for n in ranked:
        t = turns[n]
        mentioned = set(t.mentioned)
        for g in t.gold:
            out.append(
                Sample(
                    n,
                    f"{t.fold}:{t.dialog}",
                    any(p in mentioned for p in g),
                    g[0] in cold,
                    not t.mentioned,
                )
            )
    return out


def repeat_ranks(turn, exclude: bool, n_items: int) -> list[int]:
    """The baseline that repeats the context's items, most recently named first;
    anything else is a miss (rank = catalog size). With mentioned items excluded
    it recommends nothing."""
    order = {p: r for r, p in enumerate(turn.recent)}
    out = []
    for g in turn.gold:
        hits = [order[p] for p in g if p in order]
        out.append(n_items if exclude or not hits else min(hits))
    return out


def per_sample(ranks: np.ndarray) -> np.ndarray:
    """(samples, figures) matrix of each sample's contribution to every figure."""
    r = ranks.astype(np.float64)
    return np.stack(
        [r < 1, r < 10, r < 50, np.where(r < 10, 1.0 / np.log2(r + 2), 0.0), 1.0 / (r + 1)],
        axis=1,
    )


def bootstrap(values: np.ndarray, clusters: list[str], seed: int = 0) -> dict[str, dict]:
    """Each figure's value, 95 % interval and standard error, resampling clusters."""
    keys = {c: k for k, c in enumerate(dict.fromkeys(clusters))}
    idx = np.array([keys[c] for c in clusters])
    sums = np.zeros((len(keys), values.shape[1]))
    np.add.at(sums, idx, values)
    counts = np.bincount(idx, minlength=len(keys)).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(keys), np.full(len(keys), 1.0 / len(keys)), size=DRAWS)
    means = (draws @ sums) / (draws @ counts)[:, None]
    out = {}
    for j, name in enumerate(FIGURES):
        low, high = np.percentile(means[:, j], [2.5, 97.5])
        out[name] = {
            "value": round(float(values[:, j].mean()), 4),
            "low": round(float(low), 4),
            "high": round(float(high), 4),
            "se": round(float(means[:, j].std()), 4),
        }
    return out


def protocol_rows(
    samples: list[Sample],
    rankers: dict[str, dict[str, list[int]]],
    keep=lambda s: True,
) -> list[dict]:
    """One row per (protocol, ranker) over the kept samples. rankers: label →
    {"excl": ranks, "incl": ranks}, aligned with `samples`."""
    rows = []
    for protocol in PROTOCOLS:
        chosen = [
            k for k, s in enumerate(samples) if keep(s) and not (protocol == "dropped" and s.repeat)
        ]
        if not chosen:
            continue
        clusters = [samples[k].dialog for k in chosen]
        for label, ranks in rankers.items():
            r = np.asarray(ranks["incl" if protocol == "standard" else "excl"])[chosen]
            rows.append(
                {
                    "protocol": protocol,
                    "ranker": label,
                    "samples": len(chosen),
                    "figures": bootstrap(per_sample(r), clusters),
                }
            )
    return rows
