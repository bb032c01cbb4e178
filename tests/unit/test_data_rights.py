"""A person's data rights over the API (admin key) and the CLI: export everything
stored about a user or a session, delete it, and nothing of it remains in any
table (messages, feedback, interactions, online-learning state)."""

from __future__ import annotations

import json

import pytest
from helpers.api import api_client, shop_app

ADMIN = {"Authorization": "Bearer admin-secret-for-tests"}
# ids no catalog or reply text contains, so a scan for them finds only their rows
ANN, BOB, CY, DEE = (f"user-{name}-5f0c9e" for name in ("ann", "bob", "cy", "dee"))


@pytest.fixture
def api_app(home):
    with shop_app(admin_key="admin-secret-for-tests", rate_limit="1000/minute") as app:
        yield app


@pytest.fixture
def client(api_app):
    with api_client(api_app) as c:
        yield c


@pytest.fixture
def chat_key(api_app):
    from chat.frontends.api.keys import KeyStore

    _, secret = KeyStore(api_app.db).create("widget")
    return {"Authorization": f"Bearer {secret}"}


def chat_as(client, key, user: str, *messages: str) -> str:
    sid = client.post("/v1/sessions", headers=key, json={"user_id": user}).json()["session_id"]
    for text in messages:
        r = client.post(f"/v1/sessions/{sid}/messages", headers=key, json={"message": text})
        assert r.status_code == 200, r.text
    items = client.get(f"/v1/sessions/{sid}", headers=key).json()["messages"][-1]["items"]
    if items:
        r = client.post(
            f"/v1/sessions/{sid}/feedback",
            headers=key,
            json={"item_id": items[0]["id"], "kind": "like"},
        )
        assert r.status_code == 201, r.text
    return sid


def mentions(db, needles: list[str]) -> list[tuple[str, tuple]]:
    tables = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    found = []
    for (table,) in tables:
        rows, _ = db.execute_named(f"SELECT * FROM {table}", ())
        found += [(table, r) for r in rows if any(n in str(c) for c in r for n in needles)]
    return found


def test_a_user_is_exported_then_deleted_everywhere(api_app, client, chat_key):
    ann = [chat_as(client, chat_key, ANN, "a coffee grinder", "cheaper?") for _ in range(2)]
    bob = chat_as(client, chat_key, BOB, "a coffee grinder")
    assert not client.get(
        f"/v1/admin/users/{ANN}/export", headers=chat_key
    ).is_success  # admin only

    r = client.get(f"/v1/admin/users/{ANN}/export", headers=ADMIN)
    assert r.status_code == 200, r.text
    exported = r.json()
    assert [s["session"]["id"] for s in exported["sessions"]] == ann
    first = exported["sessions"][0]
    assert [m["content"] for m in first["messages"] if m["role"] == "user"] == [
        "a coffee grinder",
        "cheaper?",
    ]
    assert first["item_feedback"] and first["online_state"]  # the like, the learner's state
    assert mentions(api_app.db, [ANN, *ann])

    r = client.delete(f"/v1/admin/users/{ANN}", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["deleted"]["sessions"] == 2 and r.json()["deleted"]["messages"] == 8
    assert mentions(api_app.db, [ANN, *ann]) == []
    assert client.get(f"/v1/sessions/{ann[0]}", headers=chat_key).status_code == 404
    assert client.get(f"/v1/admin/users/{ANN}/export", headers=ADMIN).status_code == 404
    assert client.delete(f"/v1/admin/users/{ANN}", headers=ADMIN).status_code == 404
    # bob's conversation is untouched
    assert len(client.get(f"/v1/sessions/{bob}", headers=chat_key).json()["messages"]) == 2


def test_a_session_is_exported_then_deleted(api_app, client, chat_key):
    sid = chat_as(client, chat_key, CY, "a coffee grinder")
    other = chat_as(client, chat_key, CY, "a kettle")
    r = client.get(f"/v1/admin/sessions/{sid}/export", headers=ADMIN)
    assert r.status_code == 200 and r.json()["session"]["user_id"] == CY
    r = client.delete(f"/v1/admin/sessions/{sid}", headers=ADMIN)
    assert r.status_code == 200 and r.json()["deleted"]["sessions"] == 1
    assert mentions(api_app.db, [sid]) == []
    assert client.get(f"/v1/admin/sessions/{sid}/export", headers=ADMIN).status_code == 404
    assert client.get(f"/v1/sessions/{other}", headers=chat_key).status_code == 200


def test_the_cli_exports_and_deletes(api_app, client, chat_key, capsys, tmp_path):
    from chat.frontends.cli import main

    sid = chat_as(client, chat_key, DEE, "a coffee grinder")
    api_app.db.close()  # the CLI opens the database itself, as it would beside a server
    out = tmp_path / "dee.json"
    assert main(["data", "export", "--user", DEE, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["sessions"][0]["session"]["id"] == sid
    assert main(["data", "export", "--session", sid]) == 0
    assert json.loads(capsys.readouterr().out)["session"]["user_id"] == DEE
    assert main(["data", "delete", "--user", DEE]) == 0
    assert "Deleted 1 sessions" in capsys.readouterr().out
    assert main(["data", "delete", "--user", DEE]) == 2
    assert f"Nothing is stored about the user '{DEE}'" in capsys.readouterr().err
    from chat.persist.sqlite import SqliteDatabase

    db = SqliteDatabase(api_app.home.database)
    assert mentions(db, [DEE, sid]) == []
    db.close()
    api_app.db = SqliteDatabase(api_app.home.database)  # for the fixture's close
