from retrieval import Filter


def test_single_and_combined_where_clauses():
    assert Filter().to_where() is None
    assert Filter(equals={"category": ["toys"]}).to_where() == {"category": "toys"}
    where = Filter(equals={"category": ["toys", "books"]}, ranges={"price": (10, 50)}).to_where()
    assert where == {
        "$and": [
            {"category": {"$in": ["toys", "books"]}},
            {"price": {"$gte": 10}},
            {"price": {"$lte": 50}},
        ]
    }


def test_list_fields_use_contains():
    where = Filter(equals={"genres": ["horror"]}, excludes={"genres": ["comedy"]}).to_where(
        {"genres"}
    )
    assert where == {
        "$and": [{"genres": {"$contains": "horror"}}, {"genres": {"$not_contains": "comedy"}}]
    }


def test_matches_agrees_with_the_where_semantics():
    f = Filter(
        equals={"genres": ["horror"]},
        excludes={"brand": ["X"]},
        ranges={"price": (None, 20)},
        exclude_ids={"b"},
    )
    assert f.matches("a", {"genres": ["horror", "drama"], "price": 10, "brand": "Y"})
    assert not f.matches("b", {"genres": ["horror"], "price": 10})
    assert not f.matches("a", {"genres": ["horror"], "price": 30})
    assert not f.matches("a", {"genres": ["horror"], "price": 10, "brand": "X"})
    assert not f.matches("a", {"genres": ["comedy"], "price": 10})
    assert not f.matches("a", {"genres": ["horror"]})  # a range on a missing field fails
