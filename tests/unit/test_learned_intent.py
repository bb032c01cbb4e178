"""The learned intents (chat/understand/intent_model.py, learned_intent.py) on the real
multilingual encoder, with wordings of their own (none in prompts/intents.yaml, none
from a dialogue file), and the model's fitting on a toy set."""

from __future__ import annotations

import numpy as np
import pytest

from chat.state import DialogueState
from chat.understand.intent_model import LABELS, IntentModel, fit, load_examples

EARBUDS = ["el-003", "el-005", "el-004"]


def _read(text: str, shown: list[str] | None = None, catalog: str = "shop"):
    from helpers.trackers import TRACKERS

    state = DialogueState()
    if shown:
        state.shown, state.recommended, state.request = list(shown), True, ["earbuds"]
    return TRACKERS[catalog].read(state, text)


def test_the_packaged_examples_cover_every_label_in_several_languages():
    examples = load_examples()
    assert set(examples) == set(LABELS)
    assert all(len(v) >= 60 for v in examples.values()), {k: len(v) for k, v in examples.items()}
    assert not any("\n" in m or len(m) > 200 for v in examples.values() for m in v)


def test_fit_separates_two_labels_on_toy_vectors():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(1, 0.3, (20, 4)), rng.normal(-1, 0.3, (20, 4))]).astype(np.float32)
    y = np.array([0] * 20 + [1] * 20)
    w = fit(x, y, 2)
    logits = np.hstack([x, np.ones((40, 1), dtype=np.float32)]) @ w
    assert (logits.argmax(axis=1) == y).all()


def test_unknown_labels_in_an_example_file_are_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("examples:\n  shopping: [a kettle]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown labels"):
        load_examples(str(path))


def test_the_model_labels_held_out_wordings():
    """tests/fixtures/intents_check.yaml: 60 messages written apart from the examples
    (measured at .95 when it was written; `recochat eval intents --check …`)."""
    from helpers.trackers import FIXTURES, TRACKERS

    held = load_examples(str(FIXTURES / "intents_check.yaml"))
    pairs = [(m, label) for label, ms in held.items() for m in ms]
    guesses = TRACKERS["shop"].intent_model.guesses([m for m, _ in pairs])
    wrong = [
        (m, label, str(g)) for (m, label), g in zip(pairs, guesses, strict=True) if g.label != label
    ]
    assert len(pairs) == 60 and len(wrong) <= 6, wrong
    # where the reader acts on a label, it is right
    taken = [(g, label) for (_, label), g in zip(pairs, guesses, strict=True) if g.p >= 0.6]
    assert sum(g.label == label for g, label in taken) >= 0.97 * len(taken)


@pytest.mark.parametrize(
    "text",
    [
        "compose a limerick about my lawnmower",
        "pretend you are my strict old headmaster and mark my essay",
        "can you sort out a taxi to the station for me",
    ],
)
def test_off_topic_turns_get_no_items_even_with_a_catalog_word(text):
    msg = _read(text)
    assert msg.intent == "out_of_scope", msg.notes


@pytest.mark.parametrize(
    "text",
    [
        "a limerick-proof lawnmower, cordless please",  # asks for the thing: a request
        "a tent that copes with heavy rain",
    ],
)
def test_requests_that_share_words_with_off_topic_ones_stay_requests(text):
    assert _read(text).intent == "recommend"


@pytest.mark.parametrize(
    "text",
    [
        "I need a present for a colleague, no clue what",
        "it's my uncle's retirement do and I've got nothing",
        "hello there",
    ],
)
def test_a_need_left_open_is_a_vague_request_the_policy_asks_about(text):
    from helpers.trackers import TRACKERS

    msg = _read(text)
    assert msg.intent == "recommend" and msg.vague, msg.notes
    state = TRACKERS["shop"].apply(DialogueState(), msg)
    assert not state.details  # nothing said of the thing: the need stays unknown


def test_a_greeting_later_in_the_conversation_is_only_small_talk():
    from helpers.trackers import TRACKERS

    state = DialogueState()
    state.request, state.turns = ["kettle"], 2
    msg = TRACKERS["shop"].read(state, "hello again")
    assert msg.intent == "smalltalk" and not msg.vague


def test_a_question_about_the_item_on_screen_is_answered_not_searched():
    msg = _read("so how heavy is it then", ["el-003"])
    assert msg.intent == "question" and msg.targets == ["el-003"], msg.notes


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("¿de qué material es la tercera?", "el-004"),
        ("wie viel kostet der erste?", "el-003"),
        ("what's number three like", "el-004"),
    ],
)
def test_positions_in_other_languages_and_in_words_point_at_shown_items(text, target):
    msg = _read(text, EARBUDS)
    assert msg.intent == "question" and msg.targets == [target], msg.notes


def test_the_model_is_fitted_once_and_shared_by_catalogs():
    from helpers.trackers import TRACKERS

    assert TRACKERS["shop"].intent_model is TRACKERS["movies"].intent_model
    model = IntentModel({"request": ["a kettle", "a lamp"], "smalltalk": ["hi", "thanks"]})
    assert model.guess("hello").label == "smalltalk"
    assert model.labels == ["request", "smalltalk"]


@pytest.mark.parametrize(
    ("text", "kind", "item"),
    [
        ("the 1979 one was garbage, skip that", "feedback", "m02"),
        ("who directed the 2001 one?", "question", "m01"),
        ("already seen the one from 1986", "feedback", "m03"),
    ],
)
def test_a_shown_version_is_pointed_at_by_its_year(text, kind, item):
    msg = _read(text, ["m01", "m02", "m03"], catalog="movies")  # 2001, 1979, 1986
    assert msg.intent == kind and msg.targets == [item], msg.notes
    if kind == "feedback":
        assert [i for i, _ in msg.feedback] == [item]


def test_a_kind_said_in_a_sentence_of_their_own_after_a_question_says_what_they_need():
    from helpers.trackers import TRACKERS

    state = DialogueState()
    state.questions = 1  # the policy asked what kind of thing
    said = TRACKERS["shop"].update(state, "my uncle retires soon and he lives for his garden")
    assert "garden" in said.details
    picked = TRACKERS["shop"].update(state, "garden")  # an option named: the questions go on
    assert "garden" not in picked.details


def test_no_clue_answering_what_kind_leaves_the_need_open():
    from helpers.trackers import TRACKERS

    state = DialogueState()
    state.questions = 1  # "What kind of item are you looking for — …?"
    state.pending = {"facet": "category", "options": []}
    msg = TRACKERS["shop"].read(state, "honestly no idea what my brother would want, he just moved")
    assert msg.intent == "answer" and msg.vague, msg.notes
    assert not TRACKERS["shop"].apply(state, msg).details
