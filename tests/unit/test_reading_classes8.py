"""Classes of the eighth round besides the learned intents (test_learned_intent.py),
each in wordings of its own (none taken from a dialogue file): f-plurals of the
catalog's kinds, an example title naming several entries rules them all out unless a
year picks one, a product named is wanted."""

from __future__ import annotations

import pytest

from chat.state import DialogueState


def _read(text: str, catalog: str = "shop", shown: list[str] | None = None):
    from helpers.trackers import TRACKERS

    state = DialogueState()
    state.shown = list(shown or [])
    return TRACKERS[catalog].read(state, text)


@pytest.mark.parametrize(("text", "value"), [("sharp knives for the kitchen", "knife")])
def test_an_f_plural_names_the_kind(text, value):
    assert ("tags", value) in _read(text).head


def test_an_example_title_without_a_year_rules_out_every_entry_of_it():
    from helpers.trackers import TRACKERS

    from chat.understand.references import TitleHit

    tracker = TRACKERS["movies"]
    msg = tracker.read(DialogueState(), "films like Alien")
    # two entries of one title (a book and its film, a film and its remake): both out
    msg.titles = [(TitleHit(("m02", "m03"), 2, 3), "anchor")]
    state = tracker.apply(DialogueState(), msg)
    assert state.anchors == ["m02"] and "m03" in state.excluded_ids
    msg.titles = [(TitleHit(("m02", "m03"), 2, 3, year=1979), "anchor")]  # "Alien (1979)"
    assert "m03" not in tracker.apply(DialogueState(), msg).excluded_ids


def test_a_product_name_several_makers_share_rules_out_none_of_them():
    from helpers.trackers import TRACKERS

    shop = TRACKERS["shop"]
    state = shop.update(DialogueState(), "an ergonomic office chair")
    chairs = [i for i, m in shop.metas.items() if m.get("title") == "Ergonomic Office Chair"]
    # (the one the words were linked to is an example; the other makers' chairs stay)
    assert len(chairs) >= 2 and len(set(chairs) & state.blocked_ids()) <= 1


def test_a_product_asked_for_by_its_name_is_wanted_not_an_example():
    from helpers.trackers import TRACKERS

    shop = TRACKERS["shop"]
    named = shop.update(DialogueState(), "cedarwood eau de toilette please")
    assert not named.blocked_ids() and named.details  # wanted, and the need is known
    example = shop.update(DialogueState(), "something like the Cedarwood Eau de Toilette")
    assert example.anchors == ["bty-007"]
