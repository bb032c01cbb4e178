import subprocess
import sys
import textwrap

import pytest

from retrieval import Filter, ItemStore, StoreError, load_catalog
from retrieval.items.embedders import make_embedder


@pytest.fixture
def store(tmp_path, shop_catalog):
    s = ItemStore.persistent(str(tmp_path / "chroma"), make_embedder("hash"))
    s.upsert(load_catalog(shop_catalog).items)
    return s


def test_reingest_is_idempotent_and_embeds_nothing(store, shop_catalog):
    report = store.upsert(load_catalog(shop_catalog).items)
    assert (report.added, report.updated, report.embedded) == (0, 0, 0)
    assert report.unchanged == store.count() == 8


def test_changed_items_are_reembedded_and_sync_deletes(store, shop_catalog, tmp_path):
    items = load_catalog(shop_catalog).items[:3]
    items[0].meta["price"] = 99.0
    report = store.upsert(items)
    assert (report.updated, report.embedded, report.deleted) == (1, 1, 0)
    assert store.get("a1")["price"] == 99.0
    report = store.upsert(items, sync=True)
    assert report.deleted == 5 and store.count() == 3


def test_query_honours_multi_key_filters_and_ranges(store):
    flt = Filter(equals={"category": ["electronics"]}, ranges={"price": (None, 100)})
    got = store.query("wireless earbuds for running", 5, flt)
    assert [c.id for c in got] == ["a7"]
    assert all(flt.matches(c.id, c.meta) for c in got)
    got = store.query("dinosaur", 5, Filter(equals={"category": ["toys"]}, exclude_ids={"a5"}))
    assert [c.id for c in got] == ["a6"]


def test_facets_are_discovered_and_stored_with_the_collection(store):
    facets = store.facets()
    assert facets["category"].kind == "categorical"
    assert set(facets["category"].values) == {"outdoor", "kitchen", "toys", "electronics"}
    assert (
        facets["price"].kind == "numeric"
        and facets["price"].min == 14.5
        and facets["price"].max == 249.0
    )
    assert facets["tags"].is_list


def test_collection_reopens_in_a_new_process(store, tmp_path):
    code = textwrap.dedent(
        f"""
        import chromadb
        from chromadb.config import Settings
        import retrieval.items.embedders  # registers the "recochat" embedding function with Chroma
        client = chromadb.PersistentClient(path={str(tmp_path / "chroma")!r}, settings=Settings(anonymized_telemetry=False))
        col = client.get_collection("items")  # none passed: rebuilt from the stored config
        print(type(col.configuration["embedding_function"]).__name__, col.count())
        print(col.query(query_texts=["dinosaur plush"], n_results=1)["ids"][0][0])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["RecochatEmbeddingFunction", "8", "a6"]


def test_opening_with_another_embedder_is_refused(store, tmp_path):
    with pytest.raises(StoreError, match="built with embedder 'hash'.*RECOCHAT_EMBEDDER=hash"):
        ItemStore.persistent(str(tmp_path / "chroma"), make_embedder("hash:64"))
