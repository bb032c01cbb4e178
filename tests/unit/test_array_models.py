"""The ArrayModel contract (retrieval/models/array_model.py), checked alike for
every trainable model: saved as arrays and loaded back it scores the same, keeps
its item ids, and arrays that lack a part or do not fit the item ids are refused
with a message that says what to do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from retrieval.items.index import CatalogIndex
from retrieval.models.array_model import ArrayFormatError, ArrayModel
from retrieval.models.artifacts import Artifact, ArtifactError, save_artifact
from retrieval.models.cf import EASE, InteractionMatrix, ItemKNN, RequestKNN, Transitions
from retrieval.models.dialogue import DialogueModels, PastPick
from retrieval.models.sequence import SASRec, SASRecConfig
from retrieval.ranking.trained import load_models

IDS = [f"i{n}" for n in range(12)]
SEEDS = np.array([0, 3, 5])
VECTOR = np.eye(8, dtype=np.float32)[1]


def _sessions() -> InteractionMatrix:
    """Users who each touch a few neighbouring items, so every item has neighbours."""
    users = [f"u{u}" for u in range(30) for _ in range(4)]
    items = [IDS[(u + k) % len(IDS)] for u in range(30) for k in range(4)]
    return InteractionMatrix.build(users, items, item_ids=IDS)


def _decisions() -> list[PastPick]:
    """Two kinds of request, each answered with the same two items."""
    return [
        PastPick(
            dialog=f"d{n // 4}",
            text="something scary tonight" if n % 2 else "a calm gift for my mum",
            mentioned=[IDS[10]] if n % 2 else [IDS[8]],
            chosen=[IDS[0], IDS[1]] if n % 2 else [IDS[2], IDS[3]],
            facets={"genres": ["horror"]} if n % 2 else {},
            vector=np.eye(8, dtype=np.float32)[n % 2],
        )
        for n in range(24)
    ]


def _fit_sasrec() -> SASRec:
    cfg = SASRecConfig(dim=8, layers=1, max_len=6, epochs=2, batch_size=16)
    walks = [[(s + k) % len(IDS) for k in range(6)] for s in range(len(IDS))]
    return SASRec(cfg).fit(walks, IDS)


def _dialogue_scores(m: DialogueModels) -> np.ndarray:
    """Every part of the dialogue models, scored from the same seeds."""
    assert m.dialogue_cf is not None
    return np.concatenate(
        [
            m.co_mention.score(SEEDS),
            m.dialogue_cf.score(np.array([0])),
            m.picked_after.score(SEEDS),
            m.asked_for.score_anchors(["genres=horror"]),
            m.said.score_anchors(["w=scary"]),
            m.similar_requests.score_vector(VECTOR),
            m.recommended,
            m.mentions,
        ]
    )


@dataclass
class Case:
    build: Callable[[], ArrayModel]
    scores: Callable[..., np.ndarray]  # the model's scores for fixed inputs
    required: str  # one array its from_arrays cannot do without
    rtol: float = 1e-6


CASES = {
    "item_knn": Case(lambda: ItemKNN(5).fit(_sessions()), lambda m: m.score(SEEDS), "indptr"),
    # float16 on disk: the ranking holds, the last digits do not
    "ease": Case(lambda: EASE(10.0).fit(_sessions()), lambda m: m.score(SEEDS), "weights", 1e-2),
    "transitions": Case(
        lambda: Transitions().fit([([IDS[0]], [IDS[1]]), ([IDS[3]], [IDS[4], IDS[5]])], IDS),
        lambda m: m.score(SEEDS),
        "anchors",
    ),
    "request_knn": Case(
        lambda: RequestKNN(neighbours=3).fit(np.eye(8)[:4], [[0], [1, 2], [3], [4]], IDS),
        lambda m: m.score_vector(VECTOR),
        "vectors",
    ),
    "sasrec": Case(_fit_sasrec, lambda m: m.score(SEEDS), "w/items.weight"),
    "dialogue_models": Case(
        lambda: DialogueModels(IDS).fit(_decisions()), _dialogue_scores, "recommended", 1e-2
    ),
}


def round_trip(model: ArrayModel) -> ArrayModel:
    """What an artifact does to a model, minus the file: arrays out, arrays in."""
    return type(model).from_arrays(model.to_arrays(), model.item_ids)


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest) -> tuple[Case, ArrayModel]:
    spec = CASES[request.param]
    return spec, spec.build()


def test_a_round_trip_scores_the_same_and_keeps_the_item_ids(case):
    spec, model = case
    again = round_trip(model)
    assert type(again) is type(model)
    assert again.item_ids == model.item_ids == IDS
    before, after = spec.scores(model), spec.scores(again)
    assert before.shape == after.shape and np.any(before != 0)  # a probe that says something
    np.testing.assert_allclose(after, before, rtol=spec.rtol, atol=spec.rtol * 1e-1)


def test_every_model_names_its_artifact_kind():
    kinds = [type(spec.build()).kind for spec in CASES.values()]
    assert all(kinds) and len(set(kinds)) == len(kinds)


def test_arrays_missing_a_part_are_refused_with_what_to_do(case):
    spec, model = case
    arrays = model.to_arrays()
    del arrays[spec.required]
    with pytest.raises(ArrayFormatError, match=f"lack {spec.required}.*recochat train"):
        type(model).from_arrays(arrays, model.item_ids)


def test_arrays_for_other_items_are_refused(case):
    _, model = case
    with pytest.raises(ArrayFormatError, match="12 items but come with 11 item ids"):
        type(model).from_arrays(model.to_arrays(), model.item_ids[:-1])


def test_a_bad_array_error_is_an_artifact_error_and_a_value_error():
    assert issubclass(ArrayFormatError, ArtifactError)
    assert issubclass(ArrayFormatError, ValueError)


# artifact name (as `recochat train` writes it) → its case above and what it serves as
SERVED = {
    "item_knn": ("item_knn", "co_interaction"),
    "ease": ("ease", "cf"),
    "sasrec": ("sasrec", "sequence"),
    "dialogues": ("dialogue_models", None),  # the dialogue channels, from Trained.dialogues
}


@pytest.mark.parametrize("name", list(SERVED))
def test_serving_goes_on_without_a_model_whose_arrays_are_refused(tmp_path, name):
    case_name, channel = SERVED[name]
    spec = CASES[case_name]
    model = spec.build()
    index = CatalogIndex(IDS, [{"title": i} for i in IDS])

    def served(folder: Path) -> bool:
        trained = load_models(index, folder)
        names = {ch.name for ch in trained.channels}
        return trained.dialogues is not None if channel is None else channel in names

    good, bad = tmp_path / "good", tmp_path / "bad"
    save_artifact(good, Artifact(name, model.kind, IDS, model.to_arrays()))
    assert served(good) and not load_models(index, good).problems
    arrays = model.to_arrays()
    del arrays[spec.required]
    save_artifact(bad, Artifact(name, model.kind, IDS, arrays))
    assert not served(bad)
    (problem,) = load_models(index, bad).problems
    assert f"'{name}'" in problem and "recochat train" in problem
