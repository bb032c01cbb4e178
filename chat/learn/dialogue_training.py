"""`recochat train --dialogues FILE`: learn from past conversations.

The file holds one recommendation turn per JSON line, in the ReDial turns format:

    {"dialog_id": "16162", "context": ["Hi!", "I want a horror movie like The Babadook (2014)"],
     "rec": ["The Shining (1980)"]}

Items named in the context are linked to the catalog by title, the picks by
exact title (or by catalog id in an optional "rec_ids" list). From these
decisions it learns the dialogue channels (retrieval/models/dialogue.py) and a
LightGBM LambdaRank fusion over every channel the server runs. The fusion is
learned out of fold: each turn is featurised by dialogue models fitted without
its own fold of dialogues, so no training list's features contain its answer
(the same discipline as `recochat eval redial`, which measures this recipe).
Too few usable turns refuse with a message and write nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chat.learn.training import Progress, TrainingRefused, TrainReport, catalog_index, training_list
from retrieval import (
    Artifact,
    CatalogIndex,
    DialogueModels,
    Example,
    FacetMatcher,
    FeatureBuilder,
    FeatureConfig,
    ItemStore,
    PastPick,
    Pipeline,
    Query,
    TitleLinker,
    Trained,
    learn_tree_fusion,
    load_models,
    save_artifact,
)

# LightGBM for ~2k training lists (measured by `recochat eval redial`): small trees, strong leaves, a sample of the
# negatives per list (the lists hold ~1k rows, nearly all of them easy). Within
# noise of these (R@10/50 .189/.379 on the earlier features): 300 rounds at
# learning rate .025 (.192/.379), 300 negatives (.191/.381), 15 leaves
# (.190/.380), the rank mean of these trees and the listwise fusion
# (.189/.379); on a later feature set (.197/.387): truncation level 100
# (.195/.386), rank_xendcg (.185/.385), 5 bagged seeds (.196/.386).
#
# cold_share: a fifth of the rows are shown to the trees as new items (no
# mentions, picks or ratings; retrieval/ranking/features.as_cold), so an item
# added after training is ranked by its text and facets instead of never
# reaching a top 10. Chosen on the development folds of `recochat eval redial
# --holdout-fold 4 --cold-items 0.1`: cold-item R@10/R@50 .000/.039 without,
# .004/.107 at 0.1, .014/.135 at 0.2; warm items .196/.424 → .198/.417.
TREES = {
    "rounds": 150,
    "negatives": 100,
    "cold_share": 0.2,
    "params": {
        "num_leaves": 7,
        "min_data_in_leaf": 200,
        "lambda_l2": 10.0,
        "lambdarank_truncation_level": 30,
    },
}
FEATURES = FeatureConfig(
    channel_scaling="raw",
    rank_features=(
        "semantic",
        "facet_match",
        "content",
        "shared_facets",
        "co_interaction",
        "cf",
        "sequence",
        "co_mention",
        "dialogue_cf",
        "popular",
        "recommended",
        "picked_after",
        "asked_for",
        "said",
        "similar_requests",
    ),
)


@dataclass
class DialogueTrainConfig:
    min_decisions: int = 50
    min_dialogs: int = 10
    folds: int = 5
    pool: int = 50  # items each channel recalls into a training list
    min_examples: int = 20  # training lists whose pick was recalled
    trees: dict = field(default_factory=lambda: dict(TREES))


def read_decisions(
    path: Path, index: CatalogIndex, facet_fields: tuple[str, ...]
) -> tuple[list[PastPick], dict[str, int]]:
    """The file's turns as decisions over catalog ids, and counts of what was skipped."""
    linker = TitleLinker(
        {i: m.get("title", "") for i, m in zip(index.ids, index.metas, strict=True)}
    )
    facets = FacetMatcher(index.metas, facet_fields)
    by_title: dict[str, str] = {}
    for i, meta in zip(index.ids, index.metas, strict=True):
        by_title.setdefault(str(meta.get("title", "")).lower(), i)
    counts = {"lines": 0, "bad_lines": 0, "no_pick_in_catalog": 0, "picks_not_in_catalog": 0}
    decisions = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise TrainingRefused(f"Cannot read the dialogues file {path}: {e}") from None
    for line in lines:
        if not line.strip():
            continue
        counts["lines"] += 1
        try:
            row = json.loads(line)
            dialog, context = (
                str(row["dialog_id"]),
                [str(u) for u in row["context"] if str(u).strip()],
            )
            picks = [by_title.get(str(t).lower()) for t in row.get("rec", [])]
            picks += [str(i) for i in row.get("rec_ids", [])]
        except (ValueError, KeyError, TypeError):
            counts["bad_lines"] += 1
            continue
        chosen = list(dict.fromkeys(p for p in picks if p in index.pos))
        counts["picks_not_in_catalog"] += len(picks) - len([p for p in picks if p in index.pos])
        if not chosen:
            counts["no_pick_in_catalog"] += 1
            continue
        decisions.append(
            PastPick(
                dialog=dialog,
                text=" ".join(context),
                mentioned=linker.link(" \n ".join(context)),
                chosen=chosen,
                facets=facets.match(" ".join(context)),
            )
        )
    counts["decisions"] = len(decisions)
    counts["dialogs"] = len({d.dialog for d in decisions})
    return decisions, counts


def fold_of(dialog: str, folds: int) -> int:
    return int(hashlib.sha256(dialog.encode()).hexdigest(), 16) % folds


def pipeline_for(index: CatalogIndex, store: ItemStore, trained: Trained) -> Pipeline:
    """The serving pipeline's channels and features (fusion aside) with these models."""
    popularity = trained.serving_popularity(index)
    if popularity is not None:
        index.set_popularity(popularity)
    channels = trained.serving_channels(index, store.embedder.embed)
    return Pipeline(index, channels, features=FeatureBuilder(index, FEATURES))


def train_dialogues(
    path: Path,
    store: ItemStore,
    folder: Path,
    cfg: DialogueTrainConfig | None = None,
    progress: Progress | None = None,
) -> TrainReport:
    cfg = cfg or DialogueTrainConfig()
    started = time.perf_counter()
    report = TrainReport()
    index = catalog_index(store)
    fields = tuple(n for n, f in store.facets().items() if f.kind == "categorical")
    decisions, counts = read_decisions(Path(path), index, fields)
    if counts["decisions"] < cfg.min_decisions or counts["dialogs"] < cfg.min_dialogs:
        raise TrainingRefused(
            f"Too few usable recommendation turns in {path}: {counts['decisions']} from "
            f"{counts['dialogs']} dialogues (need {cfg.min_decisions} from {cfg.min_dialogs}); "
            f"{counts['bad_lines']} lines were not valid turns, {counts['no_pick_in_catalog']} "
            "had no pick in the catalog. Nothing was written."
        )
    _embed_requests(decisions, store, progress)
    examples, names = _fusion_lists(decisions, index, store, Path(folder), cfg, progress)

    models = DialogueModels(index.ids).fit(decisions)
    info = {**counts, "picks": int(sum(len(d.chosen) for d in decisions))}
    out = [Artifact("dialogues", models.kind, index.ids, models.to_arrays(), info)]
    if len(examples) >= cfg.min_examples:
        out.append(_tree_fusion(examples, names, index, cfg))
    else:
        report.skipped["fusion"] = (
            f"only {len(examples)} turns had their pick recalled (need {cfg.min_examples}); "
            "the fusion in use stays"
        )
    for artifact in out:
        save_artifact(Path(folder), artifact)
        report.built[artifact.name] = artifact.info
    report.seconds = round(time.perf_counter() - started, 1)
    return report


def _embed_requests(decisions: list[PastPick], store: ItemStore, progress: Progress | None) -> None:
    """Each decision's request text as the catalog's embedder sees it (for the
    similar-requests model and the dense channel), in batches of 64."""
    texts = [d.text for d in decisions]
    batches = range(0, len(texts), 64)
    vectors = [
        store.embedder.embed(texts[i : i + 64])
        for i in (progress(batches, len(batches), "embedding requests") if progress else batches)
    ]
    for d, v in zip(decisions, np.concatenate(vectors), strict=True):
        d.vector = np.asarray(v, dtype=np.float32)


def _fusion_lists(
    decisions: list[PastPick],
    index: CatalogIndex,
    store: ItemStore,
    folder: Path,
    cfg: DialogueTrainConfig,
    progress: Progress | None,
) -> tuple[list[Example], list[str]]:
    """Candidate lists to learn the fusion from, cross-fitted by dialogue: each
    fold's turns are recalled by dialogue models trained on the other folds, so
    the fusion sees the channels as they score conversations they never saw."""
    trained = load_models(index, folder)  # the interaction channels, if trained
    examples: list[Example] = []
    names: list[str] = []
    for f in range(cfg.folds):
        held = [d for d in decisions if fold_of(d.dialog, cfg.folds) == f]
        rest = [d for d in decisions if fold_of(d.dialog, cfg.folds) != f]
        trained.dialogues = DialogueModels(index.ids).fit(rest)
        pipe = pipeline_for(index, store, trained)
        names = pipe.feature_names()
        desc = f"fusion lists, fold {f + 1}/{cfg.folds}"
        for d in progress(held, len(held), desc) if progress else held:
            query = Query(text=d.text, liked=list(d.mentioned), facets=d.facets, vector=d.vector)
            query.filter.exclude_ids = set(d.mentioned)
            if (ex := training_list(pipe, query, cfg.pool, d.chosen)) is not None:
                examples.append(ex)
    return examples, names


def _tree_fusion(
    examples: list[Example], names: list[str], index: CatalogIndex, cfg: DialogueTrainConfig
) -> Artifact:
    """The tree fusion learned from the lists, with the feature settings it reads."""
    trees = learn_tree_fusion(examples, names, **cfg.trees)
    arrays = {"names": np.array(names), "model": np.array([trees.model])}
    fusion_info = {
        **trees.info,
        "source": "dialogues",
        "lists": len(examples),
        "features": {
            "channel_scaling": FEATURES.channel_scaling,
            "rank_features": list(FEATURES.rank_features),
        },
    }
    return Artifact("fusion", "fusion_trees", index.ids, arrays, fusion_info)
