"""The assertions of issue 12.5, checked on hand-made turn records over a tiny
catalog: no app, no model. Each shows a pass and a failure."""

from __future__ import annotations

from types import SimpleNamespace

from eval.scripted.checks import check_turn, settle_later_turns
from eval.scripted.expressions import resolve

METAS = {
    "a": {"title": "Harbour Lamp", "brand": "Lumen Works", "price": 40.0, "in_stock": True},
    "b": {"title": "Ridge Lamp", "brand": "Tallow", "price": 25.5, "in_stock": False},
    "c": {
        "title": "Quay Lamp",
        "brand": "Lumen Works",
        "price": 60.0,
        "rating": 4.5,
        "designer": "Åsa GrandPré",
    },
    "d": {"title": "Orb (1999)", "director": "Nils Varga"},  # a short one-word title
}


def _app():
    return SimpleNamespace(store=SimpleNamespace(all_metas=lambda: METAS))


def check(expect, *, shown=(), reply="", act="recommend", user="", lists=None):
    record = {"user": user, "reply": reply, "act": act, "shown": list(shown)}
    lists = lists if lists is not None else [list(shown)]
    results = check_turn(_app(), None, expect, record, None, lists)
    return [r["passed"] for r in results]


def test_a_filter_on_whatever_is_shown_passes_on_an_honest_no_match():
    assert check({"shown_satisfy": "price < 50"}, shown=["a", "b"]) == [True]
    assert check({"shown_satisfy": "price < 50"}, shown=["a", "c"]) == [False]
    assert check({"shown_satisfy": "price < 5"}, act="no_match") == [True]
    # showing nothing without saying so is no pass
    assert check({"shown_satisfy": "price < 5"}, act="answer") == [False]


def test_the_reply_states_a_field_of_a_referenced_item():
    lists = [["a", "b", "c"], []]
    want = {"reply_states": {"item": "@1.2", "field": "price"}}
    assert check(want, reply="The Ridge Lamp is $25.50.", lists=lists) == [True]
    assert check(want, reply="The Ridge Lamp is $40.", lists=lists) == [False]
    stock = {"reply_states": {"item": "@last", "field": "in_stock"}}
    assert check(stock, reply="It is in stock.", lists=[["c", "a"], []]) == [True]
    assert check(stock, reply="Sorry.", lists=[["c", "a"], []]) == [False]


def test_a_stated_figure_is_a_whole_figure_and_only_money_may_be_rounded():
    lists = [["a", "b", "c"], []]
    rating = {"reply_states": {"item": "@1.3", "field": "rating"}}
    assert check(rating, reply="Buyers rate it 4.5★.", lists=lists) == [True]
    assert check(rating, reply="Buyers rate it 4★.", lists=lists) == [False]  # not 4.5
    assert check(rating, reply="It costs $14.50.", lists=lists) == [False]  # inside a price
    price = {"reply_states": {"item": "@1.2", "field": "price"}}
    assert check(price, reply="About $26.", lists=lists) == [True]
    assert check(price, reply="It costs $125.50.", lists=lists) == [False]


def test_the_last_item_of_a_list_is_a_reference():
    lists = [["a", "b"], ["c"]]
    assert resolve("@last", lists) == "c"
    assert resolve("@1.last", lists) == "b"


def test_never_shown_again_holds_over_the_rest_of_the_dialogue():
    def turn(shown, expect=None):
        lists = [["a", "b"]]
        passed = check_turn(_app(), None, expect or {}, {"shown": shown}, None, lists + [shown])
        return {"shown": shown, "assertions": passed}

    records = [turn(["c"], {"never_shown_again": "@1.1"}), turn(["b"]), turn(["a", "c"])]
    settle_later_turns(records)
    first = records[0]["assertions"][0]
    assert not first["passed"] and "later turn" in first["detail"]
    records = [turn(["c"], {"never_shown_again": "@1.1"}), turn(["b"])]
    settle_later_turns(records)
    assert records[0]["assertions"][0]["passed"]


def test_order_checks_cheapest_first_or_highest_first():
    assert check({"ordered_by": "price"}, shown=["b", "a", "c"]) == [True]
    assert check({"ordered_by": "price"}, shown=["a", "b"]) == [False]
    assert check({"ordered_by": "-price"}, shown=["c", "a", "b"]) == [True]
    assert check({"ordered_by": "rating"}, shown=["c", "a"]) == [False]  # a has no rating


def test_no_invented_names():
    shown = ["a"]
    ok = "My pick is the Harbour Lamp from Lumen Works."
    assert check({"no_invented_names": True}, shown=shown, reply=ok) == [True]
    invented = "The Harbour Lamp was designed by Jaren Jones."
    assert check({"no_invented_names": True}, shown=shown, reply=invented) == [False]
    # a name the user wrote may be said back
    said = "Sorry, nothing by Marta Olsen here; the Harbour Lamp is close."
    assert check({"no_invented_names": True}, shown=shown, reply=said, user="Marta Olsen") == [True]


def test_names_may_come_from_an_item_the_user_names_and_any_script_is_read():
    # "who designed the Quay Lamp?" is answered from its record, though it was never shown
    user = "who designed the Quay Lamp?"
    right = "The Quay Lamp was designed by Åsa GrandPré."
    assert check({"no_invented_names": True}, reply=right, user=user, lists=[]) == [True]
    # an accented name is a name too: one in no record is caught
    wrong = "The Quay Lamp was designed by Åsa Lindström."
    assert check({"no_invented_names": True}, reply=wrong, user=user, lists=[]) == [False]
    # and the record of an item nobody named is no licence
    assert check({"no_invented_names": True}, reply="Åsa GrandPré made it.", lists=[]) == [False]
    # a short one-word title counts when the user writes it as a name
    right = "Orb was directed by Nils Varga."
    assert check({"no_invented_names": True}, reply=right, user="who directed Orb?", lists=[]) == [
        True
    ]
    assert check({"no_invented_names": True}, reply=right, user="who directed it?", lists=[]) == [
        False
    ]


def test_an_unchanged_state_ignores_the_turn_counter():
    def state(**fields):
        return SimpleNamespace(to_dict=lambda: {"turns": 0, "request": "", **fields})

    def unchanged(after):
        session = SimpleNamespace(state=after)
        record = {"user": "what is 2+2", "reply": "", "act": "chitchat", "shown": []}
        return check_turn(_app(), session, {"state_unchanged": True}, record, state(), [[]])

    assert unchanged(state(turns=1))[0]["passed"]
    kept = unchanged(state(turns=1, request="what is 2+2"))[0]
    assert not kept["passed"] and "request" in kept["detail"]
