"""A BERT sentence encoder (all-MiniLM-L6-v2 and its kind) on OpenVINO, from its
safetensors weights: no torch in the process that serves.

Through sentence-transformers the packaged MiniLM brings torch and transformers
into the server, about 400 MB of the 1.5 GB a server with the default LLM may
use. OpenVINO is loaded for the LLM anyway, and a BERT encoder is small enough
to write down: the graph below is built in memory from the weights at start
(well under a second, nothing cached or converted), and `tokenizer.json` is read
by the `tokenizers` library. It computes what sentence-transformers computes
(embeddings, post-norm encoder layers with exact GELU, mean pooling over the
real tokens, unit length) with the weight matrices held in int8 (`int8` below);
tests/e2e/test_embedders.py holds the two together.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import EmbedderError

BATCH = 64  # texts per forward pass: what sentence-transformers uses too
# weights in int8, one scale per 32 values of a row: 80 MiB less held by a server,
# embeddings within cosine 0.999 of float32 (tests/e2e/test_embedders.py)
GROUP = 32
# letters of no Latin-based script (CJK, Cyrillic, Arabic …), and the marks between them
_UNREAD = re.compile(
    r"[^\W\d_A-Za-z\u00C0-\u024F\u1E00-\u1EFF]+(?:[^\w\s]*[^\W\d_A-Za-z\u00C0-\u024F\u1E00-\u1EFF]+)*"
)


def latin_part(text: str) -> str:
    """What an English encoder can read of a text: its words in a Latin-based script.
    A catalog row written in Chinese with English tags ("桑蚕丝枕套 … silk pillowcase")
    is embedded by its tags; embedded whole, the characters MiniLM was not trained on
    give a vector near every request, and the row turns up for all of them. A text with
    no such word at all is embedded as it is."""
    kept = " ".join(_UNREAD.sub(" ", text).split())
    return kept if any(c.isalpha() for c in kept) else text


class OpenVINOBert:
    def __init__(
        self,
        spec: str,
        model_path: str,
        *,
        threads: int | None = None,
        latin_only: bool = False,
    ):
        import openvino as ov
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(model_path)
        try:
            config = json.loads((folder / "config.json").read_text())
            weights = load_file(str(folder / "model.safetensors"))
            max_len = json.loads((folder / "sentence_bert_config.json").read_text())
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except (OSError, ValueError) as e:
            raise EmbedderError(f"Cannot read the encoder in {folder}: {e}") from None
        if config.get("model_type") != "bert":
            raise EmbedderError(
                f"{folder} is not a BERT model; name it as a sentence-transformers model."
            )
        self.spec = spec
        self.latin_only = latin_only  # an English model: only Latin-script words are read
        self.dim = int(config["hidden_size"])
        self._tokenizer.enable_truncation(int(max_len.get("max_seq_length", 256)))
        self._tokenizer.no_padding()
        model = _graph(weights, config)
        properties = {
            "INFERENCE_NUM_THREADS": threads or os.cpu_count() or 1,
            "INFERENCE_PRECISION_HINT": "f32",
        }
        self._compiled = ov.Core().compile_model(model, "CPU", properties)
        self._local = threading.local()  # one infer request per thread

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.latin_only:
            texts = [latin_part(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            out[start : start + BATCH] = self._batch(texts[start : start + BATCH])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        pooled = request.infer({"input_ids": ids, "attention_mask": mask})[0]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)


def _graph(w: dict[str, np.ndarray], config: dict[str, Any]) -> Any:
    """The encoder and its mean pooling as an OpenVINO model: (input_ids,
    attention_mask) of shape [batch, tokens] → [batch, hidden]."""
    import openvino as ov
    import openvino.opset13 as op

    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    head_dim = hidden // heads

    def const(name: str) -> Any:
        return op.constant(w[name].astype(np.float32))

    def dense(x: Any, name: str) -> Any:  # x @ W.T + b, as torch's Linear
        return op.add(op.matmul(x, int8(w[f"{name}.weight"]), False, True), const(f"{name}.bias"))

    def norm(x: Any, name: str) -> Any:
        axis = op.constant(np.array([-1], dtype=np.int64))
        x = op.mvn(x, axis, True, eps, "inside_sqrt")
        return op.add(op.multiply(x, const(f"{name}.weight")), const(f"{name}.bias"))

    def split_heads(x: Any) -> Any:  # [b, t, hidden] → [b, heads, t, head_dim]
        shape = op.constant(np.array([0, 0, heads, head_dim], dtype=np.int64))
        return op.transpose(op.reshape(x, shape, True), op.constant(np.array([0, 2, 1, 3])))

    ids = op.parameter([-1, -1], np.int64, name="input_ids")
    mask = op.parameter([-1, -1], np.int64, name="attention_mask")
    zero = op.constant(np.array(0, dtype=np.int64))
    one = op.constant(np.array(1, dtype=np.int64))
    length = op.gather(op.shape_of(ids), one, zero)
    positions = op.range(zero, length, one, "i64")
    x = op.gather(int8(w["embeddings.word_embeddings.weight"]), ids, zero)
    x = op.add(x, op.gather(const("embeddings.position_embeddings.weight"), positions, zero))
    token_type = w["embeddings.token_type_embeddings.weight"][0].astype(np.float32)
    x = norm(op.add(x, op.constant(token_type)), "embeddings.LayerNorm")  # one segment

    real = op.convert(mask, np.float32)  # [b, t]: 1 for a token, 0 for padding
    unsqueezed = op.unsqueeze(real, op.constant(np.array([1, 2])))  # [b, 1, 1, t]
    bias = op.multiply(
        op.subtract(op.constant(np.float32(1)), unsqueezed), op.constant(np.float32(-1e9))
    )
    scale = op.constant(np.float32(1 / np.sqrt(head_dim)))
    merge = op.constant(np.array([0, 0, hidden], dtype=np.int64))
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        q, k, v = (
            split_heads(dense(x, f"{p}.attention.self.{n}")) for n in ("query", "key", "value")
        )
        scores = op.add(op.multiply(op.matmul(q, k, False, True), scale), bias)
        context = op.matmul(op.softmax(scores, -1), v, False, False)
        context = op.reshape(
            op.transpose(context, op.constant(np.array([0, 2, 1, 3]))), merge, True
        )
        x = norm(
            op.add(dense(context, f"{p}.attention.output.dense"), x),
            f"{p}.attention.output.LayerNorm",
        )
        inner = op.gelu(dense(x, f"{p}.intermediate.dense"), "erf")
        x = norm(op.add(dense(inner, f"{p}.output.dense"), x), f"{p}.output.LayerNorm")

    weights = op.unsqueeze(real, op.constant(np.array([2])))  # [b, t, 1]
    summed = op.reduce_sum(op.multiply(x, weights), op.constant(np.array([1])), False)
    counts = op.maximum(
        op.reduce_sum(weights, op.constant(np.array([1])), False), op.constant(np.float32(1e-9))
    )
    return ov.Model([op.divide(summed, counts)], [ids, mask], "bert-mean-pooling")


def int8(matrix: np.ndarray) -> Any:
    """`matrix` as int8 with a float32 scale for each group of GROUP values along
    its rows, expanded back to float32 inside the graph: OpenVINO's CPU plugin keeps
    such weights as int8 and widens them as it multiplies (its "weights
    decompression"), where float32 weights are held twice (as given and repacked)."""
    import openvino.opset13 as op

    rows, cols = matrix.shape
    if cols % GROUP:  # not a BERT size: kept in float32
        return op.constant(matrix.astype(np.float32))
    grouped = matrix.astype(np.float32).reshape(rows, cols // GROUP, GROUP)
    scale = np.abs(grouped).max(axis=2, keepdims=True) / 127
    scale[scale == 0] = 1
    values = np.clip(np.round(grouped / scale), -127, 127).astype(np.int8)
    wide = op.multiply(op.convert(op.constant(values), np.float32), op.constant(scale))
    return op.reshape(wide, op.constant(np.array([rows, cols], dtype=np.int64)), False)
