"""Personal data is masked before it is stored or logged (chat/persist/pii.py)."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import Counter

import pytest
from helpers.subprocess_python import printed_by

from chat.persist import pii
from chat.persist.database import MIGRATIONS, StoredMessage
from chat.persist.sqlite import SqliteDatabase as Database

CARD = "4111 1111 1111 1111"
EMAIL = "jane.doe+shop@example.co.uk"
PHONE = "+1 415-555-2671"
IBAN = "DE89 3704 0044 0532 0130 00"
ADDRESS = "221B Baker Street"


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        (f"my card is {CARD}, expires 12/27", "CREDIT_CARD"),
        (f"write to {EMAIL} please", "EMAIL_ADDRESS"),
        (f"call me on {PHONE}", "PHONE_NUMBER"),
        (f"refund to {IBAN}", "IBAN_CODE"),
        (f"deliver it to {ADDRESS}, London", "STREET_ADDRESS"),
    ],
)
def test_each_entity_is_masked_by_its_type(text, entity):
    masked = pii.mask(text)
    assert f"<{entity}>" in masked
    assert not any(value in masked for value in (CARD, EMAIL, PHONE, IBAN, ADDRESS))


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("call me on ０２０ ７９４６ ０１２３", "PHONE_NUMBER"),  # fullwidth digits
        ("phone +٤٤ ٢٠ ٧٩٤٦ ٠١٢٣", "PHONE_NUMBER"),  # Arabic-Indic digits
        ("I live at ２２１ Baker Street", "STREET_ADDRESS"),
    ],
)
def test_digits_of_other_scripts_are_masked_too(text, entity):
    masked = pii.mask(text)
    assert f"<{entity}>" in masked and not any(c.isdigit() for c in masked), masked


@pytest.mark.parametrize(
    "text",
    [
        "a waterproof tent for 2 people under $150",
        "I need 2 tents for the road",
        "anything rated 4.5 or more, around 1200 reviews?",
        "card 4111 1111 1111 1112 is not a card number (Luhn fails)",
        "the second one",
    ],
)
def test_shopping_talk_is_left_alone(text):
    assert pii.mask(text) == text


def test_save_turn_masks_messages_and_state_but_keeps_item_ids(tmp_path):
    db = Database(tmp_path / "r.sqlite3")
    sid = db.create_session()
    raw = f"pay with {CARD} and mail {EMAIL}"
    state = {"request": [raw], "shown": ["4155552671"], "focus": "4155552671"}
    meta = {"debug": {"state": {"query": raw, "liked_ids": ["4155552671"]}}}
    db.save_turn(
        sid,
        state,
        [
            StoredMessage("user", raw, [], {}, 1.0),
            StoredMessage("assistant", f"noted {EMAIL}", [{"id": "4155552671"}], meta, 1.0),
        ],
    )
    db.close()
    dump = "\n".join(sqlite3.connect(tmp_path / "r.sqlite3").iterdump())
    assert CARD not in dump and EMAIL not in dump and "<CREDIT_CARD>" in dump
    assert dump.count("4155552671") == 4  # the item id in shown, focus, liked_ids, the card
    state = Database(tmp_path / "r.sqlite3").load_state(sid)
    assert state["request"] == ["pay with <CREDIT_CARD> and mail <EMAIL_ADDRESS>"]
    assert state["shown"] == ["4155552671"]


def test_a_session_belongs_to_the_key_that_created_it(tmp_path):
    db = Database(tmp_path / "r.sqlite3")
    mine = db.create_session(key_id="key_a")
    assert db.session_owned_by(mine, "key_a")
    assert not db.session_owned_by(mine, "key_b")
    assert not db.session_owned_by(db.create_session(), "key_a")  # terminal / web sessions
    assert not db.session_owned_by("no-such-session", "key_a")


def test_an_old_database_gains_the_owner_column(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for number, sql in enumerate(MIGRATIONS[:4], start=1):
        conn.executescript(sql)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute("INSERT INTO sessions (id, created_at, updated_at) VALUES ('old', 1, 1)")
    conn.commit()
    conn.close()
    db = Database(path)
    assert db.schema_version == len(MIGRATIONS) and db.session_exists("old")
    assert not db.session_owned_by("old", "key_a")


def test_log_records_are_masked_with_their_tracebacks(caplog):
    pii.install_log_masking()
    log = logging.getLogger("recochat.test")
    with caplog.at_level(logging.INFO, logger="recochat.test"):
        log.info("user wrote %s", f"card {CARD}")
        try:
            raise ValueError(f"bad e-mail {EMAIL}")
        except ValueError:
            log.exception("turn failed")
    text = caplog.text
    assert CARD not in text and EMAIL not in text
    assert "<CREDIT_CARD>" in text and "<EMAIL_ADDRESS>" in text


def test_recall_per_entity_on_the_seeded_set():
    """tests/fixtures/pii_messages.jsonl (tests/helpers/pii_messages.py): every entity type
    is found (and typed right) in at least 95% of its occurrences, and shopping talk
    with numbers is left alone."""
    from conftest import FIXTURES
    from helpers.pii_messages import dump, generate

    path = FIXTURES / "pii_messages.jsonl"
    assert path.read_text(encoding="utf-8") == dump(generate()), "regenerate the fixture"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    pii.mask("warm up 4111 1111 1111 1111")
    total: Counter[str] = Counter()
    found: Counter[str] = Counter()
    wrongly = 0
    started = time.perf_counter()
    for row in rows:
        findings = pii.find(row["text"])
        for span in row["pii"]:
            total[span["type"]] += 1
            found[span["type"]] += any(
                kind == span["type"] and start <= span["start"] and end >= span["end"]
                for kind, start, end in findings
            )
        wrongly += not row["pii"] and bool(findings)
    ms = 1000 * (time.perf_counter() - started) / len(rows)
    recall = {kind: round(found[kind] / total[kind], 3) for kind in sorted(total)}
    print(
        f"\nPII recall on {len(rows)} messages {dict(total)}: {recall}; "
        f"{wrongly} of {sum(not r['pii'] for r in rows)} without PII masked; {ms:.2f} ms/message"
    )
    assert set(recall) == set(pii.ENTITIES) and len(rows) >= 200
    assert all(r >= 0.95 for r in recall.values()), recall
    assert wrongly <= 2


def test_a_record_logged_while_masking_is_withheld_not_masked_again(caplog):
    """Presidio logs too; a record it makes while masking must not re-enter the masker
    (it would wait on its own lock) nor pass raw text through."""
    pii.install_log_masking()
    presidio = logging.getLogger("presidio-analyzer")
    original = pii._masker().analyzer.analyze

    def noisy(text, **kwargs):
        presidio.warning("analyzing %s", text)
        return original(text, **kwargs)

    pii._masker().analyzer.analyze = noisy
    try:
        with caplog.at_level(logging.WARNING, logger="presidio-analyzer"):
            assert pii.mask(f"card {CARD}") == "card <CREDIT_CARD>"
    finally:
        pii._masker().analyzer.analyze = original
    assert CARD not in caplog.text and pii.WITHHELD in caplog.text


def test_the_masker_loads_no_model_library():
    """Presidio and spaCy import torch and transformers when they are installed; the
    masker needs neither, and a server without a torch model must not carry them."""
    code = (
        "import sys; from chat.persist import pii; "
        "masked = pii.mask('card 4111 1111 1111 1111'); "
        "print(masked, 'torch' in sys.modules, 'transformers' in sys.modules); "
        "import torch"  # and torch still imports for whoever needs it
    )
    assert printed_by(code) == ["card", "<CREDIT_CARD>", "False", "False"]
