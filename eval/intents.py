"""`recochat eval intents`: how well the learned intents (chat/understand/intent_model.py)
tell the labels apart, by stratified cross-validation of the example set, and on a
second labelled file written apart from it (`--check`). With `--refinements` it
does the same for the operations on the shown list (prompts/refinements.yaml,
chat/understand/refinements.py), every operation at its one threshold.

For each penalty (`--l2`, several to choose from) it prints accuracy, macro F1 and,
per label the reader acts on (learned_intent.THRESHOLDS), the precision and the
share of that label's messages taken at its threshold: a label that overrides the
rules must be right when it does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from chat import (
    INTENT_THRESHOLDS,
    REFINEMENT_THRESHOLD,
    IntentGuess,
    IntentModel,
    fit_intents,
    load_intent_examples,
    probabilities,
    refinement_examples,
    refinement_operation,
)


def add_parser(sub) -> None:
    p = sub.add_parser("intents", help="cross-validate the learned intents on their examples")
    p.add_argument("--examples", help="labelled YAML (default: prompts/intents.yaml)")
    p.add_argument("--check", help="a second labelled YAML, scored by the model fitted on all")
    p.add_argument(
        "--refinements",
        action="store_true",
        help="the operations on the shown list (prompts/refinements.yaml) instead",
    )
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--l2", default="0.01,0.03,0.1,0.3,1", help="comma-separated penalties")
    p.add_argument("--out", default="reports/intents", help="folder for report.json")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.refinements:
        examples = refinement_examples()
        thresholds = {op: REFINEMENT_THRESHOLD for op in examples if op != "other"}
    else:
        examples = load_intent_examples(args.examples)
        thresholds = INTENT_THRESHOLDS
    labels = [label for label, messages in examples.items() if messages]
    texts = [m for label in labels for m in examples[label]]
    y = np.array([i for i, label in enumerate(labels) for _ in examples[label]])
    model = IntentModel(examples)
    x = model.embed(texts)
    check, check_texts = None, []
    if args.check:
        held = load_intent_examples(args.check, labels=tuple(examples))
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
        decide = _operations(labels, texts) if args.refinements else _labels
        row = {"cv": _scores(*decide(probs), y, labels, thresholds)}
        if check is not None:
            w = fit_intents(x, y, len(labels), l2=l2)
            decide = _operations(labels, check_texts) if args.refinements else _labels
            row["check"] = _scores(
                *decide(probabilities(check[0], w)), check[1], labels, thresholds
            )
        report[f"l2={l2:g}"] = row
        for name, s in row.items():
            acted = "; ".join(
                f"{lb} p≥{thresholds[lb]:g}: prec {v['precision']:.3f} taken {v['taken']:.3f}"
                for lb, v in s["at_threshold"].items()
            )
            both = s["acted"]
            print(
                f"l2={l2:<5g} {name:5s} acc {s['accuracy']:.3f} macro-F1 {s['macro_f1']:.3f} "
                f"acted on: prec {both['precision']:.3f} taken {both['taken']:.3f} | {acted}"
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


def _labels(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's most likely label and its probability."""
    return probs.argmax(axis=1), probs.max(axis=1)


def _operations(labels: list[str], texts: list[str]):
    """Each row's operation as the reader decides it (refinements.operation: the
    direction of a pair from the words) and its probability."""

    def decide(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pred, top = _labels(probs)
        for n, (row, text) in enumerate(zip(probs, texts, strict=True)):
            guess = IntentGuess(
                labels[pred[n]], float(top[n]), dict(zip(labels, row.tolist(), strict=True))
            )
            op, p = refinement_operation(guess, text)
            pred[n], top[n] = labels.index(op), p
        return pred, top

    return decide


def _scores(
    pred: np.ndarray,
    top: np.ndarray,
    y: np.ndarray,
    labels: list[str],
    thresholds: dict[str, float],
) -> dict:
    f1s = []
    at = {}
    for i, label in enumerate(labels):
        tp = int(((pred == i) & (y == i)).sum())
        prec = tp / max(1, int((pred == i).sum()))
        rec = tp / max(1, int((y == i).sum()))
        f1s.append(2 * prec * rec / max(1e-9, prec + rec))
        if label in thresholds:
            taken = (pred == i) & (top >= thresholds[label])
            at[label] = {
                "precision": round(float((y[taken] == i).mean()) if taken.any() else 1.0, 4),
                "taken": round(float(taken[y == i].mean()) if (y == i).any() else 0.0, 4),
            }
    acting = np.array([labels.index(lb) for lb in thresholds if lb in labels])
    acted = np.isin(pred, acting) & (
        top >= np.array([thresholds.get(labels[p], 2.0) for p in pred])
    )
    return {
        "accuracy": round(float((pred == y).mean()), 4),
        "macro_f1": round(float(np.mean(f1s)), 4),
        # every label the reader acts on, together: how often right when it acts, and
        # the share of those labels' messages it acts on
        "acted": {
            "precision": round(float((pred[acted] == y[acted]).mean()) if acted.any() else 1.0, 4),
            "taken": round(float((acted & (pred == y))[np.isin(y, acting)].mean()), 4),
        },
        "at_threshold": at,
    }
