"""State trackers over the demo shop and a small movie catalog, built once."""

from pathlib import Path

import retrieval
from chat import StateTracker
from chat.state import DialogueState
from retrieval import PRESETS, load_catalog
from retrieval.items.facets import discover_facets

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _tracker(path, preset="shop"):
    items = load_catalog(path, PRESETS[preset]).items
    metas = {it.id: it.meta for it in items}
    return StateTracker(discover_facets(list(metas.values())), metas)


TRACKERS = {
    "shop": _tracker(retrieval.demo_catalog_path()),
    "movies": _tracker(FIXTURES / "movies_small.jsonl", "redial"),
}


SHOWN = {
    # what the previous answer showed, for references ("the second one")
    "earbuds": ["el-003", "el-005", "el-004"],
    "tents": ["out-001", "out-002", "out-007"],
    "two": ["kit-007", "kit-009"],
    "films": ["m01", "m08", "m24"],
}


def state_after(tracker, earlier, shown):
    state = DialogueState()
    for text in earlier:
        state = tracker.update(state, text)
    if shown:
        state.shown = list(SHOWN[shown])
    return state


def shop_after(*texts: str, shown: list[str] | None = None) -> DialogueState:
    """The shop tracker's state after these messages, with `shown` on screen after each."""
    state = DialogueState()
    for text in texts:
        state = TRACKERS["shop"].update(state, text)
        if shown:
            state.shown = list(shown)
    return state


def check_case(case):
    """One row of a tracker table: (catalog, earlier messages, shown before this one,
    utterance, expectations); see tests/unit/test_tracker.py."""
    catalog, earlier, shown, text, expect = case
    tracker = TRACKERS[catalog]
    before = state_after(tracker, earlier, shown)
    snapshot = before.to_dict()
    msg = tracker.read(before, text)
    after = tracker.apply(before, msg)
    assert before.to_dict() == snapshot, "the input state must not change"
    for key, want in expect.items():
        if key in ("equals", "excludes", "ranges", "avoid"):
            got = getattr(after, key)
            for facet, values in want.items():
                if key == "ranges":
                    assert got.get(facet) == values, (key, facet, got)
                else:
                    assert sorted(got.get(facet, [])) == sorted(values), (key, facet, got)
        elif key == "liked":
            for facet, values in want.items():
                assert set(values) <= set(after.liked.get(facet, [])), after.liked
        elif key in ("no_equals", "no_excludes", "no_range"):
            field = {"no_equals": "equals", "no_excludes": "excludes", "no_range": "ranges"}[key]
            for facet in want:
                assert facet not in getattr(after, field), (field, getattr(after, field))
        elif key == "avoid_terms":
            assert set(want) <= set(after.avoid_terms), after.avoid_terms
        elif key == "no_avoid_terms":
            assert not set(want) & set(after.avoid_terms), after.avoid_terms
        elif key in ("anchors", "liked_ids", "seen_ids", "disliked_ids", "passed"):
            assert getattr(after, key) == want, (key, getattr(after, key))
        elif key == "price_level":
            assert after.price_level == want
        elif key == "range_high_at_most":
            assert after.ranges["price"][1] is not None and after.ranges["price"][1] <= want
        elif key == "range_low_at_least":
            assert after.ranges["price"][0] is not None and after.ranges["price"][0] >= want
        elif key in ("intent", "new_topic", "force", "targets", "vague"):
            assert getattr(msg, key) == want, (key, getattr(msg, key))
        elif key == "problem":
            assert msg.problem and msg.problem[0] == want, msg.problem
            assert after.to_dict() | {"turns": 0} == before.to_dict() | {"turns": 0}
        elif key == "language":
            assert after.language == want
        elif key == "query_lacks":
            assert want not in after.query_text().lower(), after.query_text()
        elif key == "query_has":
            assert want in after.query_text().lower(), after.query_text()
        else:  # pragma: no cover - a typo in the table
            raise AssertionError(f"unknown expectation {key}")
