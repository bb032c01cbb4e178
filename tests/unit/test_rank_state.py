import pytest

from chat import query_for
from chat.recommend import request_state, search
from chat.state import DialogueState
from retrieval import Filter

# Catalog search without a conversation runs the chat's recommender on a fresh dialogue
# state (chat/recommend.py); these check that path on the small shop catalog.


def test_search_ranks_as_the_recommender_ranks_a_first_turn(app):
    rec = app.recommender
    state = request_state("a tent for camping", Filter(equals={"category": ["outdoor"]}))
    found = search(rec, state, k=2)
    same = rec.recommend(query_for(rec, state), 2)
    assert [i.id for i in found.items] == [i.id for i in same] and len(found.items) == 2
    assert [c.id for c in found.cards] == [i.id for i in found.items]
    assert [i.id for i in search(rec, state, k=2).items] == [i.id for i in found.items]


def test_filters_are_hard_and_round_trip_through_the_state(app):
    flt = Filter(
        equals={"category": ["kitchen", "toys"]},
        excludes={"brand": ["Kidora"]},
        ranges={"price": (None, 60.0)},
        exclude_ids={"a4"},
    )
    state = request_state("  something nice  ", flt)
    assert state.request == ["something nice"] and state.filter() == flt
    found = search(app.recommender, state, k=5)
    assert [i.id for i in found.items] == ["a3"]  # the only item passing every condition
    assert request_state("", None).filter() == Filter() and request_state("").request == []


def test_cards_explain_with_the_real_contributions(app):
    # through the tracker, as the LangChain retriever does: "camping" is a liked tag
    state = app.tracker.update(DialogueState(), "outdoor gear for camping under $200")
    found = search(app.recommender, state, k=3)
    assert found.items
    for item, card in zip(found.items, found.cards, strict=True):
        assert item.meta["price"] <= 200 and card.price == item.meta["price"]
        assert item.score == pytest.approx(sum(item.contributions.values()), abs=1e-4)
        assert card.score == pytest.approx(item.score, abs=1e-4)
        # the explanation is the reasons' words; "close to what you described" only alone
        told = [r["detail"] for r in card.reasons if r["signal"] != "semantic"]
        assert card.explanation == " · ".join(told or [r["detail"] for r in card.reasons])
        for reason in card.reasons:  # each reason is a signal that really counted
            assert reason["contribution"] > 0
        signals = {r["signal"] for r in card.reasons}
        assert "price_fit" in signals and "under your budget" in card.explanation
        if "facet_match" in signals:
            assert "camping" in card.explanation


def test_price_fit_only_with_a_budget(app):
    rec = app.recommender
    without = search(rec, request_state("coffee grinder"), k=8).items
    assert without and all(i.features["price_fit"] == 0 for i in without)
    budget = request_state("coffee grinder", Filter(ranges={"price": (None, 80.0)}))
    fits = {i.id: i.features["price_fit"] for i in search(rec, budget, k=8).items}
    # 59 uses an 80 budget well (0.75 × 80 = 60), 19 hardly
    assert fits["a3"] == pytest.approx(1 - 1 / 80) and fits["a3"] > fits["a4"] > 0


def test_configured_fusion_weights_rank_searches_too(home, shop_catalog, monkeypatch):
    from chat.app import App
    from chat.config import load_settings
    from retrieval import load_catalog

    monkeypatch.setenv("RECOCHAT_LEARNING__FUSION_WEIGHTS__RATING", "5")
    app = App.open(load_settings(embedder="hash"))
    try:
        app.store.upsert(load_catalog(shop_catalog).items)
        app.refresh()
        found = search(app.recommender, request_state("headphones"), k=8).items
        for item in found:
            assert item.contributions["rating"] == pytest.approx(5 * item.features["rating"])
        assert max(found, key=lambda i: i.features["rating"]).id == found[0].id
    finally:
        app.close()


def test_the_old_weights_settings_name_their_replacement(home, monkeypatch):
    from chat.config import load_settings
    from chat.errors import ConfigError

    home.mkdir(parents=True)
    (home / "config.toml").write_text("[weights]\nsemantic = 0.9\n")
    with pytest.raises(ConfigError, match=r"\[learning.fusion_weights\]"):
        load_settings()
    (home / "config.toml").write_text("[learning.fusion_weights]\nsemantic = 0.9\n")
    assert load_settings().learning.fusion_weights == {"semantic": 0.9}
    monkeypatch.setenv("RECOCHAT_WEIGHTS__SEMANTIC", "0.9")
    with pytest.raises(ConfigError, match="RECOCHAT_LEARNING__FUSION_WEIGHTS__SEMANTIC"):
        load_settings()


@pytest.fixture
def tracker(app):
    return app.tracker


@pytest.mark.parametrize(
    "text, price",
    [
        ("a tent under $150", [None, 150.0]),
        ("something below 40 dollars", [None, 40.0]),
        ("earbuds, 30 bucks or less", [None, 30.0]),
        ("between 30 and 60 euros", [30.0, 60.0]),
        ("more than $100 please", [100.0, None]),
        ("a film under 2 hours", None),
        ("a backpack under 5 kg", None),
        ("a gift", None),
    ],
)
def test_price_phrases(tracker, text, price):
    assert tracker.update(DialogueState(), text).ranges.get("price") == price


def test_category_is_hard_and_other_facets_are_soft(tracker):
    s = tracker.update(DialogueState(), "some toys with a dinosaur theme")
    assert s.equals == {"category": ["toys"]}
    assert s.liked.get("tags") == ["dinosaur"]
    assert (
        tracker.update(DialogueState(), "a kettle for my kitchen").equals == {}
    )  # "my kitchen" is not a constraint


def test_later_statements_override_and_input_state_is_untouched(tracker):
    first = tracker.update(DialogueState(), "toys under $30")
    second = tracker.update(first, "actually electronics under $50")
    assert first.equals == {"category": ["toys"]} and first.ranges["price"] == [None, 30.0]
    assert second.equals == {"category": ["electronics"]} and second.ranges["price"] == [None, 50.0]
    assert second.turns == 2
    # a different kind of item is a new topic: the old request text does not carry over
    assert "toys" not in second.query_text() and "electronics" in second.query_text()
    # a refinement of the same kind keeps it
    third = tracker.update(second, "something with noise cancelling, under $40")
    assert third.query_text().startswith("actually electronics")


def test_state_round_trips_and_old_versions_reset():
    s = DialogueState(equals={"category": ["toys"]}, shown=["a"])
    assert DialogueState.from_dict(s.to_dict()) == s
    assert DialogueState.from_dict({"version": 0, "equals": {"x": [1]}}) == DialogueState()


def test_cards_with_one_title_are_told_apart_by_what_differs():
    from chat.events import ItemCard
    from chat.reply.explain import tell_apart

    def card(i, title):
        return ItemCard(i, title, "", [], 0.0, brand="Kestrel")

    cards = [card("a", "Sport Earbuds"), card("b", "Sport Earbuds"), card("c", "Desk Lamp")]
    metas = [
        {"title": "Sport Earbuds", "brand": "Kestrel", "color": "black", "price": 29.99},
        {"title": "Sport Earbuds", "brand": "Kestrel", "color": "blue", "price": 14.99},
        {"title": "Desk Lamp", "brand": "Lumo", "color": "white"},
    ]
    told = tell_apart(cards, metas)
    assert [c.detail for c in told] == ["black", "blue", None]
    assert all(c.brand for c in told)


def test_cards_of_other_brands_need_no_detail():
    from chat.events import ItemCard
    from chat.reply.explain import tell_apart

    cards = [
        ItemCard("a", "Dome Tent", "", [], 0.0, brand="Ridgeway"),
        ItemCard("b", "Dome Tent", "", [], 0.0, brand="TrailMate"),
    ]
    metas = [{"brand": "Ridgeway", "color": "green"}, {"brand": "TrailMate", "color": "blue"}]
    assert [c.detail for c in tell_apart(cards, metas)] == [None, None]


def test_a_list_never_shows_one_product_twice(home):
    """Same title and brand twice in the catalog (a re-listing): one card. The same
    title from another brand, or with no brand at all, may stand beside it."""
    from chat.app import App
    from chat.config import load_settings
    from chat.llm import ScriptedLLM
    from retrieval import Item

    def tent(i: str, brand: str | None, price: float) -> Item:
        meta: dict = {"title": "Two-Person Dome Tent", "price": price}
        if brand:
            meta["brand"] = brand
        return Item(i, meta["title"], "A waterproof dome tent for two.", meta)

    app = App.open(load_settings(embedder="hash"), llm=ScriptedLLM())
    try:
        app.store.upsert(
            [
                tent("t1", "Ridgeway", 129.0),
                tent("t2", "Ridgeway", 129.0),
                tent("t3", "Trail", 79.0),
                tent("t4", None, 99.0),  # no brand: nothing says it is the same product
                tent("t5", None, 89.0),
            ]
        )
        app.refresh()
        cards = search(app.recommender, request_state("dome tent for two"), 5).cards
    finally:
        app.close()
    ids = [c.id for c in cards]
    assert len(ids) == 4 and {"t3", "t4", "t5"} <= set(ids) and len({"t1", "t2"} & set(ids)) == 1
