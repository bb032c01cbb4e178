"""`recochat train`: learn the CF, sequence, popularity and fusion artifacts
from the interaction log, into the data directory's artifacts folder.

Fusion weights are learned honestly: each user's last positive event is held
out, the channels are trained on everything before it, and the fusion learns to
rank the held-out item among the candidates those channels recall. The served
models are then retrained on all events. Too little data refuses with a
message and writes nothing, so a broken artifact never replaces a good one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chat.errors import ChatError
from chat.persist.interactions import Interaction, InteractionStore
from retrieval import (
    EASE,
    MAX_EASE_ITEMS,
    NEGATIVE,
    Artifact,
    ArtifactError,
    CatalogIndex,
    Channel,
    ContentChannel,
    Example,
    FusionModel,
    InteractionMatrix,
    ItemKNN,
    ItemStore,
    ModelChannel,
    Pipeline,
    PopularChannel,
    Query,
    SASRec,
    SASRecConfig,
    learn_fusion,
    load_artifact,
    merge_learned,
    save_artifact,
)

# wraps an iterable with a progress bar: (items, how many, what they are)
Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]


class TrainingRefused(ChatError):
    """Not enough interaction data to learn from."""


@dataclass
class TrainConfig:
    min_events: int = 50
    min_users: int = 5
    min_items: int = 10
    min_sequence_users: int = 10  # users with 3+ events, for SASRec
    fusion_users: int = 500  # held-out users the fusion learns from (a sample)
    neighbours: int = 100
    ease_l2: float = 200.0
    sasrec: SASRecConfig = field(default_factory=SASRecConfig)
    seed: int = 0


@dataclass
class TrainReport:
    built: dict[str, dict[str, Any]] = field(default_factory=dict)  # artifact → figures
    skipped: dict[str, str] = field(default_factory=dict)  # artifact → why not
    seconds: float = 0.0


def positives(events: list[Interaction], known: set[str]) -> list[Interaction]:
    """Events that say the user wanted the item: all but dislikes; ratings count too
    (a rated film was watched), unknown items are dropped."""
    return [e for e in events if e.kind not in NEGATIVE and e.item_id in known]


def check_enough(events: list[Interaction], cfg: TrainConfig) -> None:
    users = {e.user_id for e in events}
    items = {e.item_id for e in events}
    if len(events) < cfg.min_events or len(users) < cfg.min_users or len(items) < cfg.min_items:
        raise TrainingRefused(
            f"Too little interaction data to train: {len(events)} events from {len(users)} users "
            f"on {len(items)} catalog items (need at least {cfg.min_events} events, "
            f"{cfg.min_users} users, {cfg.min_items} items). Import more with "
            "'recochat interactions import FILE' or collect feedback in chats; nothing was written."
        )


@dataclass
class InteractionModels:
    """What the interaction log trains; EASE and SASRec only where the data allow."""

    item_knn: ItemKNN
    popularity: np.ndarray  # users per item, over the catalog
    ease: EASE | None = None
    sasrec: SASRec | None = None


def train_models(
    events: list[Interaction], index: CatalogIndex, cfg: TrainConfig, progress: Progress | None
) -> InteractionModels:
    data = InteractionMatrix.build(
        [e.user_id for e in events], [e.item_id for e in events], item_ids=index.ids
    )
    models = InteractionModels(ItemKNN(cfg.neighbours).fit(data), data.counts)
    if len(index) <= MAX_EASE_ITEMS:
        models.ease = EASE(cfg.ease_l2).fit(data)
    seqs = sequences(events, index)
    if sum(len(s) >= 3 for s in seqs.values()) >= cfg.min_sequence_users:
        bar = (lambda it, n: progress(it, n, "SASRec epochs")) if progress else None
        models.sasrec = SASRec(cfg.sasrec).fit(list(seqs.values()), index.ids, progress=bar)
    return models


def sequences(events: list[Interaction], index: CatalogIndex) -> dict[str, list[int]]:
    out: dict[str, list[tuple[float, int, int]]] = {}  # user → (time, order, position)
    for n, e in enumerate(events):
        out.setdefault(e.user_id, []).append((e.ts, n, index.pos[e.item_id]))
    return {u: [p for _, _, p in sorted(v)] for u, v in out.items()}


def channels_for(index: CatalogIndex, models: InteractionModels) -> list[Channel]:
    chans: list[Channel] = [ContentChannel(index)] if index.vectors is not None else []
    chans.append(ModelChannel(index, models.item_knn, "co_interaction"))
    if models.ease is not None:
        chans.append(ModelChannel(index, models.ease, "cf"))
    if models.sasrec is not None:
        chans.append(ModelChannel(index, models.sasrec, "sequence", use_history_order=True))
    chans.append(PopularChannel(index))
    return chans


def fusion_examples(
    events: list[Interaction], index: CatalogIndex, cfg: TrainConfig, progress: Progress | None
) -> tuple[list[Example], list[str], dict[str, int]]:
    """Hold out each sampled user's last event; channels trained without them."""
    by_user: dict[str, list[Interaction]] = {}
    for e in sorted(events, key=lambda e: (e.user_id, e.ts)):
        by_user.setdefault(e.user_id, []).append(e)
    eligible = sorted(u for u, evs in by_user.items() if len(evs) >= 3)
    rng = np.random.default_rng(cfg.seed)
    held = set(rng.permutation(eligible)[: cfg.fusion_users].tolist())
    train = [e for u, evs in by_user.items() for e in (evs[:-1] if u in held else evs)]
    models = train_models(train, index, cfg, None)
    index.set_popularity(models.popularity)
    pipe = Pipeline(index, channels_for(index, models))
    names = pipe.feature_names()
    examples = []
    users = sorted(held)
    for u in progress(users, len(users), "fusion examples") if progress else users:
        history = [e.item_id for e in by_user[u][:-1]]
        query = Query(history=history, user_id=u)
        query.filter.exclude_ids = set(history)
        if (ex := training_list(pipe, query, 50, [by_user[u][-1].item_id])) is not None:
            examples.append(ex)
    return examples, names, {"held_out_users": len(held), "examples": len(examples)}


def training_list(pipe: Pipeline, query: Query, k: int, chosen: list[str]) -> Example | None:
    """The candidate list the server would fuse for this query (each channel's top
    k), as features, and which rows were chosen; None when no channel recalled a
    chosen item (nothing to learn from)."""
    _, recalled, scores = pipe.recall(query, k, {})
    pool = list(dict.fromkeys(p for got in recalled.values() for p in got))
    where = {p: r for r, p in enumerate(pool)}
    rows = [where[p] for p in pipe.index.positions(chosen) if p in where]
    if not rows:
        return None
    cols = pipe.features.build(query, np.array(pool), scores, pipe.flags(recalled))
    matrix = np.stack([cols[n] for n in pipe.feature_names()], axis=1)
    return Example(matrix.astype(np.float32), rows)


def catalog_index(store: ItemStore) -> CatalogIndex:
    index = CatalogIndex.from_store(store)
    if len(index) == 0:
        raise TrainingRefused("The catalog is empty; ingest a catalog before training.")
    return index


def train(
    interactions: InteractionStore,
    store: ItemStore,
    folder: Path,
    cfg: TrainConfig | None = None,
    progress: Progress | None = None,
) -> TrainReport:
    cfg = cfg or TrainConfig()
    started = time.perf_counter()
    report = TrainReport()
    index = catalog_index(store)
    events = positives(interactions.events(), set(index.ids))
    check_enough(events, cfg)
    # the fusion first: it learns on held-out events, with channels trained without them
    fusion = _learn_fusion(events, index, folder, cfg, progress, report)
    models = train_models(events, index, cfg, progress)
    out = _artifacts(models, fusion, index.ids, cfg, report)
    events_info = {"events": len(events), "users": len({e.user_id for e in events})}
    for artifact in out:
        artifact.info = {**artifact.info, **events_info}
        save_artifact(folder, artifact)
        report.built[artifact.name] = artifact.info
    report.seconds = round(time.perf_counter() - started, 1)
    return report


def _learn_fusion(
    events: list[Interaction],
    index: CatalogIndex,
    folder: Path,
    cfg: TrainConfig,
    progress: Progress | None,
    report: TrainReport,
) -> FusionModel | None:
    """Fusion weights learned from held-out events, or None (and why, in the report)."""
    try:
        if _dialogue_fusion(folder):
            raise ValueError(
                "the fusion learned from dialogues stays (it covers these channels too); "
                "rerun with --dialogues FILE to relearn it"
            )
        examples, names, info = fusion_examples(events, index, cfg, progress)
        if len(examples) >= 20:
            learned = learn_fusion(examples, names)
            learned.info.update(info)
            return merge_learned(FusionModel.default(), learned)
        report.skipped["fusion"] = (
            f"only {len(examples)} held-out users had their next item recalled (need 20); "
            "the configured weights stay in use"
        )
    except ValueError as e:
        report.skipped["fusion"] = str(e)
    return None


def _artifacts(
    models: InteractionModels,
    fusion: FusionModel | None,
    ids: list[str],
    cfg: TrainConfig,
    report: TrainReport,
) -> list[Artifact]:
    """What to save; the report says why a model that is missing was not trained."""
    out = [
        Artifact(
            "item_knn", "item_knn", ids, models.item_knn.to_arrays(), {"neighbours": cfg.neighbours}
        ),
        Artifact("popularity", "popularity", ids, {"counts": models.popularity}, {}),
    ]
    if models.ease is not None:
        out.append(Artifact("ease", "ease", ids, models.ease.to_arrays(), {"l2": cfg.ease_l2}))
    else:
        report.skipped["ease"] = f"more than {MAX_EASE_ITEMS} items: item-kNN serves the cf role"
    if models.sasrec is not None:
        out.append(
            Artifact("sasrec", "sasrec", ids, models.sasrec.to_arrays(), cfg.sasrec.__dict__)
        )
    else:
        report.skipped["sasrec"] = (
            f"fewer than {cfg.min_sequence_users} users with 3+ events to learn sequences from"
        )
    if fusion is not None:
        names = list(fusion.weights)
        arrays = {"names": np.array(names), "weights": np.array([fusion.weights[n] for n in names])}
        out.append(Artifact("fusion", "fusion", ids, arrays, fusion.info))
    return out


def _dialogue_fusion(folder: Path) -> bool:
    try:
        return load_artifact(folder, "fusion").kind == "fusion_trees"
    except ArtifactError:
        return False
