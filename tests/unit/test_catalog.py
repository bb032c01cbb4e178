import json

import pytest

from retrieval import PRESETS, CatalogError, FieldMap, load_catalog


def write(path, rows):
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    return path


GOOD = {
    "id": "x1",
    "title": "Kettle",
    "description": "Boils water fast.",
    "category": "kitchen",
    "price": 20,
}


def test_loads_roles_and_metadata(shop_catalog):
    items = load_catalog(shop_catalog).items
    first = items[0]
    assert first.id == "a1" and first.title == "Trail Tent 2P"
    assert "waterproof tent" in first.text
    assert first.meta["price"] == 129.0 and first.meta["in_stock"] is True
    assert first.meta["tags"] == ["camping", "waterproof"]


def test_bad_rows_name_file_line_and_field_and_write_nothing(tmp_path):
    path = write(
        tmp_path / "c.jsonl",
        [GOOD, {**GOOD, "id": "x2", "price": "cheap"}, {**GOOD, "id": "", "title": "t"}],
    )
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    text = str(err.value)
    assert f"{path}:2: field 'price'" in text and "must be a number" in text
    assert f"{path}:3: field 'id'" in text
    assert "--skip-bad" in text


def test_skip_bad_keeps_good_rows_and_counts_bad(tmp_path):
    path = write(tmp_path / "c.jsonl", [GOOD, "{not json", {**GOOD, "id": "x3", "in_stock": "yes"}])
    result = load_catalog(path, skip_bad=True)
    assert [i.id for i in result.items] == ["x1"]
    assert [e.line for e in result.skipped] == [2, 3]


def test_duplicate_ids_point_at_first_line(tmp_path):
    path = write(tmp_path / "c.jsonl", [GOOD, GOOD])
    with pytest.raises(CatalogError, match=r"duplicate id 'x1' \(first on line 1\)"):
        load_catalog(path)


def test_non_utf8_names_the_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b'\n{"id": "\xff"}\n')
    with pytest.raises(CatalogError, match=r"c.jsonl:2: not valid UTF-8.*re-save"):
        load_catalog(path)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "e.jsonl").write_text("\n")
    with pytest.raises(CatalogError, match="No valid items"):
        load_catalog(tmp_path / "e.jsonl")
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "nope.jsonl")
    with pytest.raises(CatalogError, match="Unsupported catalog format"):
        load_catalog(write(tmp_path / "c.xml", ["<x/>"]))


def test_nested_objects_are_rejected_with_a_hint(tmp_path):
    path = write(tmp_path / "c.jsonl", [{**GOOD, "dims": {"w": 1}}])
    with pytest.raises(CatalogError, match="field 'dims'.*flatten"):
        load_catalog(path)


def test_csv_with_lists_numbers_and_booleans(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        "id,title,description,price,in_stock,tags\n7,Mug,A mug.,9.5,true,coffee|gift\n",
        encoding="utf-8",
    )
    (item,) = load_catalog(path).items
    assert item.id == "7" and item.meta["price"] == 9.5 and item.meta["in_stock"] is True
    assert item.meta["tags"] == ["coffee", "gift"]


def test_field_map_from_toml_and_unknown_keys(tmp_path):
    toml = tmp_path / "map.toml"
    toml.write_text('[fields]\nid = "sku"\ntitle = "name"\ntext = ["name", "blurb"]\n')
    fm = FieldMap.from_toml(toml)
    path = write(tmp_path / "c.jsonl", [{"sku": "s1", "name": "Lamp", "blurb": "Bright."}])
    assert load_catalog(path, fm).items[0].text == "Lamp. Bright."
    with pytest.raises(CatalogError, match="Unknown field-map keys"):
        FieldMap.from_dict({"idd": "x"})


def test_content_hash_changes_with_content_only(tmp_path):
    a = load_catalog(write(tmp_path / "a.jsonl", [GOOD])).items[0]
    b = load_catalog(write(tmp_path / "b.jsonl", [GOOD])).items[0]
    c = load_catalog(write(tmp_path / "c.jsonl", [{**GOOD, "price": 21}])).items[0]
    assert a.content_hash == b.content_hash != c.content_hash


def test_redial_preset_never_keeps_test_mentions():
    from conftest import shared_file

    items = load_catalog(shared_file("redial/catalog.jsonl"), PRESETS["redial"]).items
    assert len(items) == 6583
    assert all("redial_mentions" not in i.meta for i in items)
    assert any(i.meta.get("rating_count") for i in items)


def test_lone_surrogates_and_control_characters_in_ids_name_the_line(tmp_path):
    p = tmp_path / "c.jsonl"
    rows = [
        b'{"id": "a", "title": "Tea", "description": "green"}',
        b'{"id": "b", "title": "Tea", "description": "green", "tags": ["x\\udfff"]}',
        b'{"id": "c", "title": "Tea", "description": "green", "\\ud800": 1}',
        b'{"id": "d\\u0000", "title": "Tea", "description": "green"}',
    ]
    p.write_bytes(b"\n".join(rows) + b"\n")
    with pytest.raises(CatalogError) as e:
        load_catalog(p)
    text = str(e.value)
    assert ":2: field 'tags': holds a lone surrogate" in text
    assert ":3: field '\\ud800': holds a lone surrogate" in text
    assert ":4: field 'id': must not hold control characters" in text
    text.encode("utf-8")  # the message itself can be printed
    assert [i.id for i in load_catalog(p, skip_bad=True).items] == ["a"]
