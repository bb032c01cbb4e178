"""`recochat eval intents`: how well the learned intents (chat/understand/intent_model.py)
tell the labels apart, by stratified cross-validation of the example set, and on a
second labelled file written apart from it (`--check`).

For each penalty (`--l2`, several to choose from) it prints accuracy, macro F1 and,
per label the reader acts on (learned_intent.THRESHOLDS), the precision and the
share of that label's messages taken at its threshold: a label that overrides the
rules must be right when it does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from chat import INTENT_THRESHOLDS as THRESHOLDS
from chat import IntentModel, fit_intents, load_intent_examples, probabilities


def add_parser(sub) -> None:
    p = sub.add_parser("intents", help="cross-validate the learned intents on their examples")
    p.add_argument("--examples", help="labelled YAML (default: prompts/intents.yaml)")
    p.add_argument("--check", help="a second labelled YAML, scored by the model fitted on all")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--l2", default="0.01,0.03,0.1,0.3,1", help="comma-separated penalties")
    p.add_argument("--out", default="reports/intents", help="folder for report.json")
    p.set_defaults(func=run)


def run(args) -> int:
    examples = load_intent_examples(args.examples)
    labels = [label for label, messages in examples.items() if messages]
    texts = [m for label in labels for m in examples[label]]
    y = np.array([i for i, label in enumerate(labels) for _ in examples[label]])
    model = IntentModel(examples)
    x = model.embed(texts)
    check = None
    if args.check:
        held = load_intent_examples(args.check)
        check_texts = [m for label in labels for m in held[label]]
        check = (
            model.embed(check_texts),
            np.array([labels.index(lb) for lb in labels for _ in held[lb]]),
        )
    folds = _folds(y, args.folds)
    report = {
        "examples": len(y),
        "per_label": {lb: int((y == i).sum()) for i, lb in enumerate(labels)},
    }
    print(f"{len(y)} examples, {len(labels)} labels, {args.folds}-fold stratified CV")
    for l2 in (float(v) for v in args.l2.split(",")):
        probs = np.zeros((len(y), len(labels)))
        for fold in range(args.folds):
            test = folds == fold
            w = fit_intents(x[~test], y[~test], len(labels), l2=l2)
            probs[test] = probabilities(x[test], w)
        row = {"cv": _scores(probs, y, labels)}
        if check is not None:
            w = fit_intents(x, y, len(labels), l2=l2)
            row["check"] = _scores(probabilities(check[0], w), check[1], labels)
        report[f"l2={l2:g}"] = row
        for name, s in row.items():
            acted = "; ".join(
                f"{lb} p≥{THRESHOLDS[lb]:g}: prec {v['precision']:.3f} taken {v['taken']:.3f}"
                for lb, v in s["at_threshold"].items()
            )
            print(
                f"l2={l2:<5g} {name:5s} acc {s['accuracy']:.3f} macro-F1 {s['macro_f1']:.3f} | {acted}"
            )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"report: {out / 'report.json'}")
    return 0


def _folds(y: np.ndarray, k: int) -> np.ndarray:
    """Stratified folds with a fixed seed: each label's examples dealt round-robin."""
    rng = np.random.default_rng(0)
    folds = np.zeros(len(y), dtype=int)
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        folds[idx] = np.arange(len(idx)) % k
    return folds


def _scores(probs: np.ndarray, y: np.ndarray, labels: list[str]) -> dict:
    pred, top = probs.argmax(axis=1), probs.max(axis=1)
    f1s = []
    at = {}
    for i, label in enumerate(labels):
        tp = int(((pred == i) & (y == i)).sum())
        prec = tp / max(1, int((pred == i).sum()))
        rec = tp / max(1, int((y == i).sum()))
        f1s.append(2 * prec * rec / max(1e-9, prec + rec))
        if label in THRESHOLDS:
            taken = (pred == i) & (top >= THRESHOLDS[label])
            at[label] = {
                "precision": round(float((y[taken] == i).mean()) if taken.any() else 1.0, 4),
                "taken": round(float(taken[y == i].mean()) if (y == i).any() else 0.0, 4),
            }
    return {
        "accuracy": round(float((pred == y).mean()), 4),
        "macro_f1": round(float(np.mean(f1s)), 4),
        "at_threshold": at,
    }
