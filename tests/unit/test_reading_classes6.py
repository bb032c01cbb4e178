"""Classes of the sixth round, each with wordings of its own (none taken from a
dialogue file): an item ruled out rules out the catalog's other entries of the same
work."""

from __future__ import annotations

import pytest

from chat import StateTracker
from chat.state import DialogueState
from retrieval.items.facets import discover_facets

FILMS = {
    "a1": {"title": "Harbour Lights", "year": None, "genres": ["drama"], "director": ["Ada Voss"]},
    "a2": {
        "title": "Harbour Lights (1987)",
        "year": 1987,
        "genres": ["drama"],
        "director": ["Ada Voss"],
    },
    "a3": {
        "title": "Harbour Lights (2011)",
        "year": 2011,
        "genres": ["drama"],
        "director": ["Ben Ruiz"],
    },
    "b1": {"title": "Paper Moons", "year": 1990, "genres": ["comedy"], "director": ["Cy Lund"]},
    "b2": {
        "title": "Paper Moons (Comedy Film)",
        "year": None,
        "genres": ["comedy"],
        "director": ["Cy Lund"],
    },
    "c1": {"title": "Glass Rivers", "year": 1999, "genres": ["drama"], "director": ["Dee Park"]},
    "c2": {"title": "Tin Roofs", "year": 2001, "genres": ["comedy"], "director": ["Eli Moss"]},
}
GOODS = {
    "g1": {"title": "Desk Lamp", "brand": "Lumo", "category": "lighting", "price": 30.0},
    "g2": {"title": "Desk Lamp", "brand": "Brite", "category": "lighting", "price": 25.0},
    "g3": {"title": "Floor Lamp", "brand": "Lumo", "category": "lighting", "price": 60.0},
    "g4": {"title": "Reading Lamp", "brand": "Brite", "category": "lighting", "price": 20.0},
}


def _tracker(metas):
    return StateTracker(discover_facets(list(metas.values())), metas)


@pytest.mark.parametrize(
    "text, blocked, open_",
    [
        ("something like Harbour Lights (1987) please", {"a1", "a2"}, {"a3"}),
        ("I have already watched paper moons, what else", {"b1", "b2"}, {"a1"}),
        ("not Paper Moons, I hated it", {"b1", "b2"}, {"c1"}),
    ],
)
def test_a_ruled_out_film_rules_out_its_other_entries(text, blocked, open_):
    tracker = _tracker(FILMS)
    state = tracker.apply(DialogueState(), tracker.read(DialogueState(), text))
    assert blocked <= state.blocked_ids(), state.blocked_ids()
    assert not open_ & state.blocked_ids()  # a remake by someone else is another film


def test_same_titled_goods_of_two_brands_are_two_items():
    tracker = _tracker(GOODS)
    assert tracker.same_work("g1") == []
    assert _tracker(FILMS).same_work("a1") == ["a2"]  # the 2011 one has another director
    assert _tracker(FILMS).same_work("a2") == ["a1"]
