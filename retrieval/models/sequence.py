"""A small SASRec (Kang & McAuley 2018): self-attention over a user's item
sequence predicts the next item.

Trained with a softmax over the true next item and `negatives` items sampled
uniformly per batch (shared by the whole batch); catalogs of up to `negatives`
items use the full softmax. torch is imported inside the functions (the network
itself lives in sasrec_net.py, which imports torch at its top), so
`import retrieval` (and `import chat`) stay light.

On MovieLens (`recochat eval movielens`: 6.6k items, NDCG@10 of each user's
held-out last item) the sampled softmax mainly needed more steps: 20 epochs
at lr 1e-3 with 512 negatives gave .024, below EASE's .045; 90 epochs .054;
these defaults (lr 2e-3, 1,024 negatives) .043 after 30 epochs and .056 after
60, which the eval uses (~7 s an epoch on one thread; `recochat train`
defaults to 20, `--epochs` sets it). A full softmax over all
items (Klenitskiy & Vasilev 2023) cost 4-5x more per epoch and peaked early:
.025 after 2 epochs, .022 after 6 (dropout .2), .023 after 4 (dropout .5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from retrieval.models.array_model import require_arrays, require_items

if TYPE_CHECKING:
    import torch

    from retrieval.models.sasrec_net import SASRecNet


@dataclass
class SASRecConfig:
    dim: int = 64
    layers: int = 2
    heads: int = 2
    max_len: int = 50
    dropout: float = 0.2
    epochs: int = 20
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0
    negatives: int = 1024  # sampled per batch; 0 or more than the catalog: full softmax
    # Measured on the 2-core box: one thread trains ~8x faster than two whenever
    # anything else runs (oversubscribed threads spin), and single-sequence
    # inference never benefits from a second one.
    threads: int = 1


@contextmanager
def _threads(n: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class SASRec:
    kind: ClassVar[str] = "sasrec"

    def __init__(self, config: SASRecConfig | None = None) -> None:
        self.config = config or SASRecConfig()
        self.item_ids: list[str] = []
        self._net: SASRecNet | None = None

    def fit(
        self,
        sequences: list[list[int]],
        item_ids: list[str],
        progress: Callable[[Iterable[int], int], Iterable[int]] | None = None,
    ) -> SASRec:
        """sequences: per user, item positions (into item_ids) in time order."""
        with _threads(self.config.threads):
            return self._fit(sequences, item_ids, progress)

    def _fit(
        self,
        sequences: list[list[int]],
        item_ids: list[str],
        progress: Callable[[Iterable[int], int], Iterable[int]] | None,
    ) -> SASRec:
        import torch

        cfg = self.config
        torch.manual_seed(cfg.seed)
        self.item_ids = list(item_ids)
        net = self._net = _new_net(len(item_ids), cfg)
        windows = _windows([s for s in sequences if len(s) >= 2], cfg.max_len + 1)
        data = torch.tensor(np.array(windows), dtype=torch.long) if windows else None
        if data is None:
            raise ValueError("SASRec needs at least one sequence of two or more items.")
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        generator = torch.Generator().manual_seed(cfg.seed)
        epochs = range(cfg.epochs)
        for _ in progress(epochs, cfg.epochs) if progress else epochs:
            net.train()
            order = torch.randperm(len(data), generator=generator)
            for start in range(0, len(data), cfg.batch_size):
                batch = data[order[start : start + cfg.batch_size]] + 1  # shift: 0 = pad
                batch[batch < 1] = 0
                inputs, targets = batch[:, :-1], batch[:, 1:]
                hidden = net(inputs)
                keep = targets > 0
                loss = self._loss(net, hidden[keep], targets[keep] - 1, generator)
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        return self

    def _loss(
        self,
        net: SASRecNet,
        hidden: torch.Tensor,
        targets: torch.Tensor,
        generator: torch.Generator,
    ) -> torch.Tensor:
        import torch

        n_items = len(self.item_ids)
        k = self.config.negatives
        if k <= 0 or k >= n_items:
            return torch.nn.functional.cross_entropy(net.logits(hidden), targets)
        weight = net.items.weight[1:]
        negatives = torch.randint(0, n_items, (k,), generator=generator)
        pos = (hidden * weight[targets]).sum(-1, keepdim=True)
        neg = hidden @ weight[negatives].T
        neg = neg.masked_fill(negatives[None, :] == targets[:, None], float("-inf"))
        logits = torch.cat([pos, neg], dim=1)  # the true item is column 0
        return torch.nn.functional.cross_entropy(
            logits, torch.zeros(len(targets), dtype=torch.long)
        )

    def score(self, positions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Next-item scores over item_ids after the given history (oldest first)."""
        import torch

        n = len(self.item_ids)
        if len(positions) == 0 or self._net is None:
            return np.zeros(n, dtype=np.float32)
        L = self.config.max_len
        seq = np.zeros(L, dtype=np.int64)
        tail = np.asarray(positions[-L:], dtype=np.int64) + 1
        seq[L - len(tail) :] = tail
        with torch.inference_mode(), _threads(self.config.threads):
            hidden = self._net(torch.from_numpy(seq)[None])[0, -1]
            return self._net.logits(hidden).numpy().astype(np.float32)

    def to_arrays(self) -> dict[str, np.ndarray]:
        if self._net is None:
            raise RuntimeError("SASRec is not fitted yet: call fit() or from_arrays() first.")
        arrays = {f"w/{k}": v.detach().numpy() for k, v in self._net.state_dict().items()}
        cfg = asdict(self.config)
        arrays["config_keys"] = np.array(list(cfg))
        arrays["config_values"] = np.array([float(v) for v in cfg.values()])
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], item_ids: list[str]) -> SASRec:
        import torch

        require_arrays(arrays, cls.kind, ("config_keys", "config_values", "w/items.weight"))
        require_items(cls.kind, len(arrays["w/items.weight"]) - 1, item_ids)  # row 0: padding
        values = dict(zip(arrays["config_keys"].tolist(), arrays["config_values"], strict=True))
        types = {k: type(v) for k, v in asdict(SASRecConfig()).items()}
        cfg = SASRecConfig(**{k: types[k](v) for k, v in values.items() if k in types})
        model = cls(cfg)
        model.item_ids = list(item_ids)
        net = model._net = _new_net(len(item_ids), cfg)
        state = {k[2:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k[:2] == "w/"}
        # a wrong item count or missing weights: load_state_dict names the mismatch
        net.load_state_dict(state)
        net.eval()
        return model


def _new_net(n_items: int, cfg: SASRecConfig) -> SASRecNet:
    from retrieval.models.sasrec_net import SASRecNet

    return SASRecNet(n_items, cfg.dim, cfg.layers, cfg.heads, cfg.max_len, cfg.dropout)


def _windows(sequences: list[list[int]], size: int) -> list[list[int]]:
    """Cut long sequences into overlapping windows of `size`, left-padded with -1,
    so a 2,000-rating user contributes all of their history, not only the tail."""
    out = []
    step = max(1, size // 2)
    for seq in sequences:
        ends = list(range(len(seq), 1, -step)) or [len(seq)]
        for end in ends:
            chunk = seq[max(0, end - size) : end]
            out.append([-1] * (size - len(chunk)) + list(chunk))
    return out
