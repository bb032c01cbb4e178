"""SASRec's network: item and position embeddings, a causal transformer encoder,
and logits against the item embeddings (sequence.py trains and serves it).

This module imports torch at its top; only sequence.py imports it, inside the
functions that need the network, so `import retrieval` stays light. The
attribute names (items, positions, encoder, norm, drop) are the keys of saved
state dicts: renaming one breaks every trained artifact.
"""

from __future__ import annotations

import torch
from torch import nn


class SASRecNet(nn.Module):
    def __init__(
        self, n_items: int, dim: int, layers: int, heads: int, max_len: int, dropout: float
    ) -> None:
        super().__init__()
        self.dim = dim
        self.items = nn.Embedding(n_items + 1, dim, padding_idx=0)  # 0 = padding
        # N(0, 1/dim): scaled by sqrt(dim) on input, and the output logits
        # (hidden · item) start near unit scale instead of ~sqrt(dim)
        nn.init.normal_(self.items.weight, std=dim**-0.5)
        with torch.no_grad():
            self.items.weight[0].zero_()
        self.positions = nn.Embedding(max_len, dim)
        layer = nn.TransformerEncoderLayer(
            dim,
            heads,
            dim_feedforward=dim * 2,
            dropout=dropout,
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """seqs: (batch, max_len) item indices, left-padded with 0."""
        pos = torch.arange(seqs.shape[1], device=seqs.device)
        h = self.drop(self.items(seqs) * self.dim**0.5 + self.positions(pos))
        # Padding is zeroed rather than masked as keys: with left padding and a
        # causal mask a padded query row would have no key left, and the NaN
        # that softmax gives such a row spreads to every position next layer.
        h = h * (seqs > 0).unsqueeze(-1)
        causal = torch.triu(
            torch.ones(seqs.shape[1], seqs.shape[1], dtype=torch.bool, device=seqs.device), 1
        )
        h = self.encoder(h, mask=causal)
        out: torch.Tensor = self.norm(h)
        return out

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden @ self.items.weight[1:].T  # no logit for padding
