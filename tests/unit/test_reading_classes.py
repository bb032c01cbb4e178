"""Classes of phrasing the rules must read, each with several wordings of its own
(none taken from a dialogue file): negated contractions, prices in words and
bare numbers, Chinese amounts. Same table format as test_tracker.py."""

from __future__ import annotations

import pytest
from helpers.trackers import check_case

from chat.understand.text import spell_negations, words

NEGATIONS = [
    # "n't" however it is typed reads like "not"
    ("shop", [], "earbuds", "the second one isnt for me", {"disliked_ids": ["el-005"]}),
    ("shop", [], "earbuds", "the last one isn't for me", {"disliked_ids": ["el-004"]}),
    ("shop", [], "earbuds", "I can't stand the first one", {"disliked_ids": ["el-003"]}),
    ("shop", [], "earbuds", "honestly not a fan of the third", {"disliked_ids": ["el-004"]}),
    ("shop", [], "earbuds", "the first one is not really my style", {"disliked_ids": ["el-003"]}),
    ("shop", [], "earbuds", "I dont like the second one", {"disliked_ids": ["el-005"]}),
    ("shop", [], None, "earbuds, but I don't want black ones", {"excludes": {"color": ["black"]}}),
    ("shop", [], None, "earbuds, I do not want black", {"excludes": {"color": ["black"]}}),
    ("movies", [], None, "I really don't like horror", {"excludes": {"genres": ["horror"]}}),
    ("movies", [], None, "Don't show me anything scary", {"excludes": {"genres": ["horror"]}}),
    (
        "movies",
        [],
        None,
        "not much of a fan of horror",
        {"excludes": {"genres": ["horror"]}, "no_avoid_terms": ["fan", "much"]},
    ),
    ("movies", [], None, "not keen on thrillers", {"no_avoid_terms": ["keen"]}),
]


@pytest.mark.parametrize("case", NEGATIONS, ids=[c[3] for c in NEGATIONS])
def test_negated_contractions_read_like_not(case):
    check_case(case)


@pytest.mark.parametrize(
    "typed, spelled",
    [
        ("It isn't", "It is not"),
        ("we dont", "we do not"),
        ("Can't", "Can not"),
        ("cannot", "can not"),
        ("won't", "will not"),
        ("they werent", "they were not"),
        ("a donut, constant", "a donut, constant"),
    ],
)
def test_negations_are_spelled_out_once(typed, spelled):
    assert spell_negations(typed) == spelled
    assert words(typed) == words(spelled)  # titles and messages tokenise alike
