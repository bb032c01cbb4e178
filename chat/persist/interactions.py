"""The interaction log: who did what with which item, when. The learners
(collaborative filtering, the sequence model, fusion weights) train on it.

Events come from imported files (`recochat interactions import`) and from chats
(the item_feedback table that the conversation writes). A file import maps its
columns (user, item, kind, value, timestamp, session) and its item ids onto
catalog ids (e.g. MovieLens `movieId` → the catalog's `ml_movieId` field), and
reports every row it skipped, by reason, instead of failing on the first.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from chat.errors import ChatError
from chat.persist.database import Database

KINDS = ("view", "click", "like", "dislike", "rating", "purchase", "seen")
MAX_EXAMPLES = 5  # skipped rows quoted per reason


class InteractionError(ChatError):
    """An interaction file cannot be read as mapped."""


@dataclass(frozen=True)
class Interaction:
    user_id: str
    item_id: str
    kind: str
    value: float | None
    ts: float
    session_id: str | None = None
    source: str = "import"


@dataclass
class ImportMapping:
    """Which column holds what; `catalog_field` maps file item ids to catalog ids."""

    user: str = "user_id"
    item: str = "item_id"
    kind: str | None = None  # column with the kind; None: every row is `default_kind`
    default_kind: str = "rating"
    value: str | None = None
    ts: str | None = None  # None: row order is the time order
    session: str | None = None
    catalog_field: str | None = None  # None: file ids are catalog ids


@dataclass
class ImportReport:
    read: int = 0
    added: int = 0
    duplicates: int = 0
    unknown_items: int = 0
    ambiguous_ids: int = 0  # file ids matching several catalog items (first one used)
    out_of_order: int = 0  # rows older than the previous row of the same user (kept)
    bad: Counter = field(default_factory=Counter)  # reason → rows
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return self.duplicates + self.unknown_items + sum(self.bad.values())

    def skip(self, reason: str, where: str) -> None:
        self.bad[reason] += 1
        self.examples.setdefault(reason, [])
        if len(self.examples[reason]) < MAX_EXAMPLES:
            self.examples[reason].append(where)

    def lines(self) -> list[str]:
        out = [
            f"read {self.read:,} rows: {self.added:,} events added, {self.skipped:,} skipped",
            f"  duplicates (same user, item, kind, time): {self.duplicates:,}",
            f"  unknown item ids (not in the catalog): {self.unknown_items:,}",
        ]
        for reason, n in self.bad.most_common():
            out.append(f"  {reason}: {n:,}  e.g. {', '.join(self.examples.get(reason, []))}")
        if self.ambiguous_ids:
            out.append(f"  note: {self.ambiguous_ids:,} file ids match several catalog items")
        if self.out_of_order:
            out.append(
                f"  note: {self.out_of_order:,} rows were out of time order "
                "(kept; sequences are sorted by time when training)"
            )
        return out


class InteractionStore:
    def __init__(self, db: Database):
        self.db = db

    # -- writing -----------------------------------------------------------------

    def add(self, events: list[Interaction]) -> int:
        """Insert events; returns how many were new (repeats are ignored)."""
        with self.db.transaction() as tx:
            return tx.executemany(
                "INSERT INTO interactions "
                "(user_id, item_id, kind, value, ts, session_id, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    (e.user_id, e.item_id, e.kind, e.value, e.ts, e.session_id, e.source)
                    for e in events
                ],
            )

    def import_file(
        self, path: str | Path, mapping: ImportMapping, catalog: dict[str, dict[str, Any]]
    ) -> ImportReport:
        """catalog: id → metadata of every catalog item (the item store's view)."""
        report = ImportReport()
        to_catalog = _id_map(catalog, mapping.catalog_field, report)
        events: list[Interaction] = []
        seen: set[tuple] = set()
        last_ts: dict[str, float] = {}
        for lineno, row in _rows(Path(path)):
            report.read += 1
            where = f"line {lineno}"
            event, reason = _parse(row, mapping, lineno)
            if event is None:  # _parse gives an event or the reason there is none
                report.skip(reason or "unreadable row", where)
                continue
            item = to_catalog.get(event.item_id)
            if item is None:
                report.unknown_items += 1
                continue
            event = Interaction(
                event.user_id, item, event.kind, event.value, event.ts, event.session_id
            )
            key = (event.user_id, event.item_id, event.kind, event.ts)
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            if event.ts < last_ts.get(event.user_id, float("-inf")):
                report.out_of_order += 1
            last_ts[event.user_id] = max(event.ts, last_ts.get(event.user_id, float("-inf")))
            events.append(event)
        added = self.add(events)
        report.duplicates += len(events) - added  # already in the store from an earlier import
        report.added = added
        return report

    # -- reading -----------------------------------------------------------------

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM interactions").fetchone()[0]

    def events(self, include_chat: bool = True) -> list[Interaction]:
        """Every event, per user in time order (ties in insertion order)."""
        rows = self.db.execute(
            "SELECT user_id, item_id, kind, value, ts, session_id, source FROM interactions "
            "ORDER BY user_id, ts, id"
        ).fetchall()
        out = [Interaction(*r) for r in rows]
        if include_chat:
            out += self.chat_feedback()
            out.sort(key=lambda e: (e.user_id, e.ts))
        return out

    def chat_feedback(self) -> list[Interaction]:
        """Feedback given in chats (item_feedback, written by the conversation), as
        events of the session's user, or of the session when it has no user."""
        try:
            rows = self.db.execute(
                "SELECT COALESCE(s.user_id, 'session:' || f.session_id), f.item_id, f.kind, "
                "f.created_at, f.session_id FROM item_feedback f "
                "JOIN sessions s ON s.id = f.session_id ORDER BY f.id"
            ).fetchall()
        except Exception:  # an older schema without the feedback table
            return []
        return [Interaction(u, i, k, None, ts, sid, "chat") for u, i, k, ts, sid in rows]

    def history(self, user_id: str, limit: int = 200) -> list[str]:
        """The user's latest positive events (imported and from their chats), oldest
        first: what the CF and sequence channels read. One indexed query, not a scan."""
        rows = self.db.execute(
            "SELECT item_id, ts FROM interactions WHERE user_id = ? AND kind != 'dislike' "
            "ORDER BY ts DESC, id DESC LIMIT ?",
            (user_id, limit),
        ).fetchall()
        try:
            rows += self.db.execute(
                "SELECT f.item_id, f.created_at FROM item_feedback f "
                "JOIN sessions s ON s.id = f.session_id "
                "WHERE s.user_id = ? AND f.kind != 'dislike' ORDER BY f.id DESC LIMIT ?",
                (user_id, limit),
            ).fetchall()
        except Exception:  # an older schema without the feedback table
            pass
        return [item for item, _ in sorted(rows, key=lambda r: r[1])][-limit:]

    def session_user(self, session_id: str) -> str | None:
        row = self.db.execute("SELECT user_id FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row[0] if row else None

    def stats(self) -> dict[str, Any]:
        events = self.events()
        per_user = Counter(e.user_id for e in events)
        return {
            "events": len(events),
            "users": len(per_user),
            "items": len({e.item_id for e in events}),
            "kinds": dict(Counter(e.kind for e in events)),
            "single_event_users": sum(1 for n in per_user.values() if n == 1),
        }

    # -- online learner state ------------------------------------------------------

    def load_online(self, key: str) -> dict | None:
        row = self.db.execute(
            "SELECT state_json FROM online_state WHERE key = ?", (key,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def save_online(self, key: str, state: dict) -> None:
        self.db.execute(
            "INSERT INTO online_state (key, version, state_json, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
            "state_json = excluded.state_json, updated_at = excluded.updated_at",
            (key, int(state.get("version", 0)), json.dumps(state), time.time()),
        )


def _id_map(
    catalog: dict[str, dict[str, Any]], field_name: str | None, report: ImportReport
) -> dict[str, str]:
    if field_name is None:
        return {i: i for i in catalog}
    out: dict[str, str] = {}
    for item_id in sorted(catalog):
        value = catalog[item_id].get(field_name)
        if value is None:
            continue
        key = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        if key in out:
            report.ambiguous_ids += 1
            continue
        out[key] = item_id
    if not out:
        raise InteractionError(
            f"No catalog item has the field '{field_name}'; check --catalog-field "
            "(it names a catalog metadata field holding the file's item ids)."
        )
    return out


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise InteractionError(f"Interaction file not found: {path}. Give a .csv or .jsonl file.")
    suffix = path.suffix.lower()
    with open(path, encoding="utf-8-sig", newline="") as f:
        if suffix == ".csv":
            reader = csv.DictReader(f)
            for row in reader:
                yield reader.line_num, row
        elif suffix in (".jsonl", ".ndjson"):
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    row = None
                yield lineno, row if isinstance(row, dict) else {"__bad__": True}
        else:
            raise InteractionError(
                f"Unsupported interaction format '{suffix}'; use .csv or .jsonl."
            )


def _parse(row: dict, m: ImportMapping, lineno: int) -> tuple[Interaction | None, str | None]:
    if row.get("__bad__"):
        return None, "not a JSON object"
    user, item = row.get(m.user), row.get(m.item)
    if user is None or str(user).strip() == "":
        return None, f"missing user ('{m.user}')"
    if item is None or str(item).strip() == "":
        return None, f"missing item ('{m.item}')"
    kind = str(row.get(m.kind) or "").strip().lower() if m.kind else m.default_kind
    if kind not in KINDS:
        return None, f"unknown kind (use one of {', '.join(KINDS)})"
    value = None
    if m.value:
        try:
            value = float(row.get(m.value, ""))  # a missing cell: "" fails like a bad one
        except (TypeError, ValueError):
            return None, f"value ('{m.value}') is not a number"
    ts: float = float(lineno)
    if m.ts:
        raw = row.get(m.ts, "")
        try:
            ts = float(raw)
        except (TypeError, ValueError):
            try:
                ts = datetime.fromisoformat(str(raw)).timestamp()
            except ValueError:
                return None, f"timestamp ('{m.ts}') is neither a number nor ISO 8601"
    session = str(row.get(m.session)) if m.session and row.get(m.session) is not None else None
    item_key = str(item).strip()
    return Interaction(str(user).strip(), item_key, kind, value, ts, session), None
