"""The split plan of `recochat eval turns` (eval/offline/splits.py) and what it
means for the models: test turns reach no model, the fusion of a fold learns
only from the other training folds, cold items reach no dialogue model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import FIXTURES
from helpers.learn import demo_index

from eval.offline.splits import TEST, Split, cold_items, plan
from eval.offline.turns import (
    OPTIONS,
    EvalInputError,
    Turn,
    TurnReader,
    build_pipeline,
    featurise,
    fold_models,
    make_query,
    read_rows,
)
from retrieval import PRESETS, CatalogIndex, load_catalog


def test_cross_validation_ranks_every_fold_with_models_that_never_saw_it():
    split = plan(5, has_test=False, holdout=None)
    assert split.scored == [0, 1, 2, 3, 4]
    for f in split.scored:
        assert f in split.ranking(f)
        for g in split.cv_folds:
            if split.teaches(f, g):
                assert {f, g} <= split.training(f, g)
        assert not split.teaches(f, f)


def test_a_split_ranks_the_test_turns_with_every_training_fold_and_never_learns_from_them():
    for split in (plan(5, has_test=True, holdout=None), plan(5, has_test=False, holdout=4)):
        assert TEST in split.scored
        assert split.ranking(TEST) == {TEST}  # every training fold is used
        assert all(TEST in ex for ex in split.variants())  # and the test turns by none
        assert not any(split.teaches(f, TEST) for f in split.scored)
    held = plan(5, has_test=False, holdout=4)
    assert held.cv_folds == (0, 1, 2, 3)  # the development folds cross-validate apart


def _turns():
    rng = np.random.default_rng(0)
    train = [
        Turn(f"d{n}", n % 2, "a horror movie", [0, 1, 2], [[3 + n % 3]], {}, rng.normal(size=8))
        for n in range(6)
    ]
    # the test dialogue names items 10-12, which no training dialogue names
    test = [Turn("t", TEST, "a comedy", [10, 11], [[12]], {}, rng.normal(size=8))]
    return train + test


def test_no_model_variant_of_a_split_learns_from_the_test_turns():
    index = demo_index()
    split = Split((0, 1), test=True)
    for excluded in split.variants():
        models = fold_models(_turns(), index, excluded)
        assert models.mentions[[10, 11, 12]].sum() == 0
        assert models.recommended[12] == 0


def test_cold_items_reach_no_dialogue_model(monkeypatch):
    index = demo_index()
    monkeypatch.setattr(OPTIONS, "cold", frozenset({1, 4}))
    models = fold_models(_turns(), index, frozenset({TEST}))
    assert models.mentions[[1, 4]].sum() == 0 and models.recommended[[1, 4]].sum() == 0
    assert models.mentions[[0, 2, 3, 5]].min() > 0  # the others are learned as before


def test_cold_items_are_ranked_but_in_no_training_list(monkeypatch):
    """They were added after the training dialogues: the fusion learns from lists
    without them (else it learns "never picked" from their absence), and they are
    ranked like any item."""
    index = demo_index()
    monkeypatch.setattr(OPTIONS, "cold", frozenset({1, 4}))
    turns = _turns()
    pipe = build_pipeline(index, [], fold_models(turns, index, frozenset({TEST})))
    t = turns[0]
    query = make_query(t, index)
    learn = featurise(pipe, query, t, len(index), with_gold=True)
    rank = featurise(pipe, query, t, len(index), with_gold=False)
    assert not {1, 4} & set(learn.positions.tolist())
    assert {1, 4} <= set(rank.positions.tolist())
    assert learn.chosen and all(learn.positions[c] in t.gold[0] for c in learn.chosen)


def test_cold_items_are_a_fixed_share_of_the_catalog():
    ids = [f"item{n}" for n in range(4000)]
    cold = cold_items(ids, 0.1)
    assert 0.08 < len(cold) / len(ids) < 0.12
    assert cold == cold_items(list(ids), 0.1)  # the same items every run
    assert cold_items(ids, 0.0) == frozenset()


def test_a_turns_file_is_linked_to_the_catalog_and_orders_mentions_by_recency(tmp_path):
    items = load_catalog(FIXTURES / "movies_small.jsonl", PRESETS["redial"]).items
    index = CatalogIndex([it.id for it in items], [{**it.meta, "title": it.title} for it in items])
    path = tmp_path / "turns.jsonl"
    rows = [
        {
            "dialog_id": 7,
            "context": ["I loved Alien (1979)", "", "and The Others (2001), a horror film"],
            "rec": ["The Others (2001)", "No Such Movie (1900)"],
        },
        {"dialog_id": 8, "context": ["hi"], "rec": ["Nothing Known (1900)"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    turns, stats = TurnReader(index).read(path, lambda d: 3)
    assert stats["turns"] == 1 and stats["gold_not_in_catalog"] == 2
    (turn,) = turns
    alien, others = index.pos["m02"], index.pos["m01"]
    assert turn.dialog == "7" and turn.fold == 3
    assert turn.mentioned == [alien, others]
    assert turn.recent == [others, alien]  # The Others named last
    assert turn.gold == [[others]]
    assert turn.facets["genres"] == ["horror"]


def test_a_bad_turns_line_stops_with_its_line_number(tmp_path):
    path = tmp_path / "turns.jsonl"
    path.write_text('{"dialog_id": 1, "context": ["a"], "rec": ["b"]}\n{"context": "x"}\n')
    with pytest.raises(EvalInputError, match=r"turns.jsonl:2: not a turn.*dialog_id"):
        read_rows(path)


def test_eval_turns_refuses_bad_input_in_one_line(tmp_path, capsys):
    from chat.frontends.cli import main

    turns = tmp_path / "turns.jsonl"
    turns.write_text('{"dialog_id": 1, "context": ["a"], "rec": ["b"]}\n')
    missing = ["eval", "turns", "--catalog", str(tmp_path / "none.jsonl"), "--turns", str(turns)]
    assert main(missing) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("Error: ") and "none.jsonl is not a file" in err and "Traceback" not in err
    )
    both = ["eval", "turns", "--catalog", str(turns), "--turns", str(turns), "--train", str(turns)]
    assert main([*both, "--holdout-fold", "1"]) == 2
    assert "leave it out with --train" in capsys.readouterr().err


def test_an_empty_holdout_fold_says_which_folds_hold_dialogues(tmp_path, monkeypatch, capsys):
    from chat import fold_of
    from chat.frontends.cli import main

    monkeypatch.setenv("RECOCHAT_CACHE_DIR", str(tmp_path / "cache"))
    dialogs = [str(n) for n in range(40) if fold_of(str(n), 5) in (0, 1)][:6]
    turns = tmp_path / "turns.jsonl"
    turns.write_text(
        "\n".join(
            json.dumps({"dialog_id": d, "context": ["Alien (1979)?"], "rec": ["The Others (2001)"]})
            for d in dialogs
        )
        + "\n"
    )
    args = ["eval", "turns", "--catalog", str(FIXTURES / "movies_small.jsonl"), "--turns"]
    args += [str(turns), "--preset", "redial", "--embedder", "hash", "--holdout-fold", "4"]
    assert main(args) == 2
    assert "fold 4 of" in (err := capsys.readouterr().err) and "pick one of [0, 1]" in err
