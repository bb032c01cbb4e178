"""What eval/offline/turns.py learns per fold variant: dialogues of the excluded folds
reach none of the models (popularity, co-mentions, the dialogue EASE, the
request kNN), and the dialogue channels score what went with the context."""

from __future__ import annotations

import numpy as np
from helpers.learn import demo_index

from eval.offline.turns import Turn, build_pipeline, fold_models
from retrieval.ranking.channels import Query


def _turns(index):
    rng = np.random.default_rng(0)
    turns = []
    # dialogues in folds 1 and 2 name items 0-5 together and pick from them;
    # the fold-0 dialogue names items 10-12, which nothing else ever names
    for n, fold in enumerate([1, 1, 2, 2, 1, 2]):
        v = rng.normal(size=8)
        turns.append(Turn(f"d{n}", fold, "a horror movie", [0, 1, 2], [[3 + n % 3]], {}, v))
    turns.append(Turn("x", 0, "a comedy", [10, 11], [[12]], {}, rng.normal(size=8)))
    return turns


def test_excluded_folds_reach_no_model():
    index = demo_index()
    fold = fold_models(_turns(index), index, frozenset({0}))
    unseen = [10, 11, 12]
    assert fold.mentions[unseen].sum() == 0 and fold.recommended[unseen].sum() == 0
    assert not set(fold.dialogue_cf.item_ids) & {index.ids[p] for p in unseen}
    assert (
        fold.similar_requests.chosen[:, unseen].sum() == 0
        and fold.similar_requests.chosen.shape[0] == 6
    )
    assert fold.co_mention.score(np.array([10, 11])).sum() == 0


def test_dialogue_channels_score_what_went_with_the_context():
    index = demo_index()
    turns = _turns(index)
    fold = fold_models(turns, index, frozenset({0}))
    pipe = build_pipeline(index, [], fold)
    query = Query(
        text="a horror movie", liked=[index.ids[p] for p in (0, 1)], vector=turns[0].vector
    )
    scores = {ch.name: ch.scores(query) for ch in pipe.channels}
    ease = scores["dialogue_cf"]
    assert ease[2] > 0 and ease[2] > ease[20]  # named with 0 and 1 in every dialogue
    similar = scores["similar_requests"]  # every training request is a neighbour here
    assert set(np.flatnonzero(similar)) <= {3, 4, 5} and similar[[3, 4, 5]].min() > 0
