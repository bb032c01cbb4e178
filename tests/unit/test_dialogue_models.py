"""Learning from past conversations, on a small fixture: the dialogue models and
their artifacts, reading a turns file, the tree fusion's "why" on the top rows,
and the reasons the cards give for dialogue signals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers.learn import demo_index
from helpers.subprocess_python import printed_by

from retrieval import dialogue_channels
from retrieval.models.dialogue import DialogueModels, PastPick


def decisions(index) -> list[PastPick]:
    """Two kinds of request, each always answered with the same two items."""
    ids = index.ids
    out = []
    for n in range(40):
        scary = n % 2 == 0
        out.append(
            PastPick(
                dialog=f"{'scary' if scary else 'calm'}-{n // 4}",
                text="something scary for tonight" if scary else "a calm gift for my mum",
                mentioned=[ids[10]] if scary else [ids[20]],
                chosen=[ids[0], ids[1]] if scary else [ids[2], ids[3]],
                facets={"category": ["kitchen"]} if scary else {},
                vector=np.eye(8)[0 if scary else 1].astype(np.float32),
            )
        )
    return out


def test_each_dialogue_channel_learns_the_picks_and_survives_a_round_trip():
    from retrieval.ranking.channels import Query

    index = demo_index()
    models = DialogueModels(index.ids).fit(decisions(index))
    again = DialogueModels.from_arrays(models.to_arrays(), index.ids)
    query = Query(
        text="anything scary?",
        liked=[index.ids[10]],
        facets={"category": ["kitchen"]},
        vector=np.eye(8)[0].astype(np.float32),
    )
    for a, b in zip(dialogue_channels(models, index), dialogue_channels(again, index), strict=True):
        sa, sb = a.scores(query), b.scores(query)
        assert a.name == b.name and np.allclose(sa, sb, rtol=1e-3), a.name  # float16 EASE
        if a.name != "recommended":  # a prior: the same for every query
            assert set(np.argsort(-sa)[:2].tolist()) == {0, 1}, a.name
    assert models.popularity_on(index)[0] == 10  # picked in 10 dialogues


def test_an_old_dialogue_artifact_is_refused():
    index = demo_index()
    arrays = DialogueModels(index.ids).fit(decisions(index)).to_arrays()
    arrays["version"] = np.array([0])
    with pytest.raises(ValueError, match="version"):
        DialogueModels.from_arrays(arrays, index.ids)


def test_reading_a_turns_file_counts_what_it_skips(tmp_path):
    from chat.learn.dialogue_training import read_decisions

    index = demo_index()
    title = index.metas[0]["title"]
    rows = [
        {"dialog_id": "a", "context": ["hi", f"I loved {title}"], "rec": [index.metas[1]["title"]]},
        {"dialog_id": "b", "context": ["hi"], "rec": ["No Such Item"]},
        {"dialog_id": "c", "context": ["hi"], "rec": [], "rec_ids": [index.ids[2]]},
    ]
    path = tmp_path / "turns.jsonl"
    path.write_text("\n".join([*map(json.dumps, rows), "{broken", '{"context": []}']) + "\n")
    got, counts = read_decisions(path, index, ("category",))
    assert [d.chosen for d in got] == [[index.ids[1]], [index.ids[2]]]
    assert got[0].mentioned == [index.ids[0]]
    assert counts == {
        "lines": 5,
        "bad_lines": 2,
        "no_pick_in_catalog": 1,
        "picks_not_in_catalog": 1,
        "decisions": 2,
        "dialogs": 2,
    }


def test_tree_fusion_explains_the_top_rows_exactly_and_cheaply():
    from retrieval.ranking.fusion import Example, learn_tree_fusion

    rng = np.random.default_rng(0)
    examples = []
    for _ in range(60):
        x = rng.random((30, 3))
        examples.append(Example(x, [int(np.argmax(x[:, 0] + 0.3 * x[:, 1]))]))
    trees = learn_tree_fusion(examples, ["a", "b", "c"], rounds=30, params={"min_data_in_leaf": 5})
    x = rng.random((40, 3))
    cols = {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]}
    full, parts = trees.score(cols)
    fast, top_parts = trees.score(cols, limit=5)
    assert np.allclose(full, fast)  # same scores, so the same order
    best = np.argsort(-full)[:5]
    for f in parts:
        assert np.allclose(parts[f][best], top_parts[f][best])
    assert np.allclose(sum(top_parts.values())[best], fast[best])  # the parts add up
    boosted, _ = trees.score(cols, scale={"a": 2.0})
    assert not np.allclose(boosted, full)


def test_dialogue_signals_become_reasons_on_the_cards():
    from chat.reply.explain import family_of, reasons
    from retrieval import Preferences, ScoredItem

    assert family_of("rr_co_mention") == family_of("in_co_mention") == "talked_about"
    assert family_of("rr_similar_requests") == family_of("said") == "asked"
    assert family_of("in_dense") == family_of("rr_semantic") == "semantic"
    item = ScoredItem(
        "x",
        {"title": "X"},
        1.0,
        {},
        {"co_mention": 0.3, "rr_co_mention": 0.2, "asked_for": 0.25, "rr_semantic": 0.02},
    )
    got = reasons(item, Preferences(), evidence={"co_mention": ("The Shining (1980)", "liked")})
    assert [r["detail"] for r in got] == [
        "often talked about along with The Shining (1980) in other chats",
        "often recommended for requests like yours",
        "close to what you described",
    ]


def test_tree_fusion_loads_lightgbm_without_scikit_learn_or_pandas():
    """LightGBM imports scikit-learn and pandas when installed (its scikit-learn wrappers,
    DataFrame input); the booster needs neither, and a server must not carry them
    (about 64 MB). Learning, saving, loading and scoring all run without them, and
    without SciPy's optimizer, which only the linear fusion's learning needs."""
    code = (
        "import sys, numpy as np\n"
        "from retrieval.ranking.fusion import Example, TreeFusion, learn_tree_fusion\n"
        "rng = np.random.default_rng(0)\n"
        "ex = [Example(x, [int(np.argmax(x[:, 0]))]) for x in rng.random((40, 20, 2))]\n"
        "t = learn_tree_fusion(ex, ['a', 'b'], rounds=10, params={'min_data_in_leaf': 5})\n"
        "x = rng.random((8, 2))\n"
        "s, _ = TreeFusion(t.names, t.model).score({'a': x[:, 0], 'b': x[:, 1]})\n"
        "print(int(np.argmax(s)) == int(np.argmax(x[:, 0])), 'sklearn' in sys.modules, "
        "'pandas' in sys.modules, 'scipy.optimize' in sys.modules)\n"
        "import sklearn, pandas\n"  # and both still import for whoever needs them
    )
    assert printed_by(code) == ["True", "False", "False", "False"]
