"""What a message is, learned from labelled examples instead of written as patterns.

The cue patterns (intents.py) know the phrasings they were written for; a message
put otherwise ("pretend ur my grumpy grandpa", "zero clue what to get him") falls
through to "a request" and gets items. Here the labelled example messages of
prompts/intents.yaml (request, vague, item_question, refine, dislike, like,
smalltalk, off_topic, service, reset; in several languages) are embedded with the
multilingual sentence encoder that foreign.py uses, and a multinomial logistic
regression is fitted on them once per process (about 2 s). A message gets a
probability per label: a linear model learns which directions of the sentence
space say "off topic" or "a question about an item" across the topics of the
examples, where nearest neighbours would follow the topic ("a haiku about autumn
leaves" sits as near "a leaf blower for autumn leaves" as "a poem about the sea").

The reader (learned_intent.py `weigh`) takes a label only where the rules found
nothing that settles the message, and only above a confidence the example set's
cross-validation supports (eval: `recochat eval intents`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

import numpy as np
import yaml

LABELS = (
    "request",
    "vague",
    "item_question",
    "refine",
    "dislike",
    "like",
    "smalltalk",
    "off_topic",
    "service",
    "reset",
)
# operations on the shown list (prompts/refinements.yaml; chat/understand/refinements.py)
REFINEMENTS = (
    "cheaper",
    "dearer",
    "better_rated",
    "in_stock",
    "cheapest_first",
    "dearest_first",
    "best_rated_first",
    "only_cheapest",
    "bigger",
    "smaller",
    "other_brand",
    "newer",
    "older",
    "more",
    "other",
)
L2 = 0.03  # the penalty on the weights, chosen by cross-validation (`recochat eval intents`)
MAX_CHARS = 400  # a long message is judged by its start and its end (the ask)
_MARKUP = re.compile(r"<[^<>]{0,200}>")
_EXAMPLES: dict[tuple[str, str], np.ndarray] = {}  # (embedder, example) → its vector


@dataclass(frozen=True)
class IntentGuess:
    label: str
    p: float  # the label's probability
    probs: dict[str, float]

    def __str__(self) -> str:
        return f"{self.label} {self.p:.2f}"


def load_examples(
    path: str | None = None, *, name: str = "intents.yaml", labels: tuple[str, ...] = LABELS
) -> dict[str, list[str]]:
    """The labelled messages: {label: [message, …]} from prompts/`name` (or `path`)."""
    if path is None:
        text = (files("prompts") / name).read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    data = yaml.safe_load(text) or {}
    examples = data.get("examples") or {}
    unknown = set(examples) - set(labels)
    if unknown:
        raise ValueError(f"{name}: unknown labels {sorted(unknown)}; known: {labels}")
    return {label: [str(m) for m in examples.get(label) or []] for label in labels}


class IntentModel:
    """Label probabilities for a message; fitted on first use, shared by every catalog."""

    def __init__(
        self, examples: dict[str, list[str]] | None = None, embedder: str = "use-multilingual"
    ):
        self._examples = examples
        self.embedder = embedder
        self.labels: list[str] = []
        self._weights: np.ndarray | None = None
        self._lock = threading.Lock()

    def guess(self, text: str) -> IntentGuess:
        """One message's labels; its vector is shared with the other model that reads it
        in the same turn (the intents', then the list operations')."""
        return self._label(
            probabilities(_message_vector(self.embedder, _clip(text))[None], self._fitted())
        )[0]

    def guesses(self, texts: list[str]) -> list[IntentGuess]:
        return self._label(probabilities(self.embed([_clip(t) for t in texts]), self._fitted()))

    def _label(self, probs: np.ndarray) -> list[IntentGuess]:
        out = []
        for row in probs:
            best = int(row.argmax())
            out.append(
                IntentGuess(
                    self.labels[best],
                    float(row[best]),
                    {label: round(float(p), 4) for label, p in zip(self.labels, row, strict=True)},
                )
            )
        return out

    def warm_up(self) -> None:
        self._fitted()

    def _fitted(self) -> np.ndarray:
        with self._lock:
            if self._weights is None:
                examples = self._examples if self._examples is not None else load_examples()
                self.labels = [label for label, messages in examples.items() if messages]
                texts = [_clip(m) for label in self.labels for m in examples[label]]
                y = np.array([i for i, label in enumerate(self.labels) for _ in examples[label]])
                self._weights = fit(self._example_vectors(texts), y, len(self.labels))
            return self._weights

    def _example_vectors(self, texts: list[str]) -> np.ndarray:
        """The examples' vectors, each embedded once per process: the list operations'
        model is fitted on the intents' examples too."""
        missing = [t for t in dict.fromkeys(texts) if (self.embedder, t) not in _EXAMPLES]
        if missing:
            for text, vector in zip(missing, self.embed(missing), strict=True):
                _EXAMPLES[(self.embedder, text)] = vector
        return np.stack([_EXAMPLES[(self.embedder, t)] for t in texts])

    def embed(self, texts: list[str]) -> np.ndarray:
        from retrieval import make_embedder

        return make_embedder(self.embedder).embed(texts)


def fit(x: np.ndarray, y: np.ndarray, classes: int, l2: float = L2) -> np.ndarray:
    """Multinomial logistic regression (bias in the last row), each class weighted by
    the inverse of its size so that a label with more examples does not win by count."""
    from scipy.optimize import minimize

    n, dim = x.shape
    xb = np.hstack([x, np.ones((n, 1), dtype=x.dtype)]).astype(np.float64)
    onehot = np.eye(classes)[y]
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    row_weight = (n / (classes * np.maximum(counts, 1)))[y][:, None]

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(dim + 1, classes)
        logits = xb @ w
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        value = -(row_weight * onehot * log_p).sum() / n + l2 / n * (w[:-1] ** 2).sum()
        grad = xb.T @ (row_weight * (np.exp(log_p) - onehot)) / n
        grad[:-1] += 2 * l2 / n * w[:-1]
        return float(value), grad.ravel()

    start = np.zeros((dim + 1) * classes)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return result.x.reshape(dim + 1, classes).astype(np.float32)


def probabilities(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each row's label probabilities under weights from `fit` (bias in the last row)."""
    logits = np.hstack([x, np.ones((len(x), 1), dtype=x.dtype)]) @ weights
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def _clip(text: str) -> str:
    """The words of the message: markup dropped (a request with an HTML payload is
    still a request), and a long message cut to its start and its end."""
    text = " ".join(_MARKUP.sub(" ", text).split()) or text
    if len(text) <= MAX_CHARS:
        return text
    half = MAX_CHARS // 2
    return f"{text[:half]} … {text[-half:]}"


@lru_cache(maxsize=64)
def _message_vector(embedder: str, text: str) -> np.ndarray:
    from retrieval import make_embedder

    return make_embedder(embedder).embed([text])[0]


@cache
def shared_model() -> IntentModel:
    """The process's one model on the packaged examples (fitted when first asked)."""
    return IntentModel()


def refinement_examples() -> dict[str, list[str]]:
    """prompts/refinements.yaml, its "other" grown by the intents that change no list."""
    ops = load_examples(name="refinements.yaml", labels=REFINEMENTS)
    intents = load_examples()
    ops["other"] += [m for label, ms in intents.items() if label != "refine" for m in ms]
    return ops


@cache
def shared_refinement_model() -> IntentModel:
    """The process's one model on the packaged examples (fitted when first asked)."""
    return IntentModel(refinement_examples())
