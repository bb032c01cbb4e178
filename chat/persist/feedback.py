"""Feedback on items: like, dislike, seen (and click, which is only recorded).

The dialogue state is what changes the next turn (chat/state.py: disliked and
seen items are filtered out for good, liked ones become anchors whose
neighbours move up). This module keeps the ordered log of every piece of
feedback, from the text ("I've seen the second one") or from a button, in the
`item_feedback` table, for history views and for learners that train on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chat.persist.database import Database

KINDS = ("like", "dislike", "seen", "click")


@dataclass(frozen=True)
class FeedbackRecord:
    session_id: str
    item_id: str
    kind: str
    source: str  # "text" | "ui" | "api"
    created_at: float


class FeedbackLog:
    def __init__(self, db: Database):
        self.db = db

    def record(self, session_id: str, item_id: str, kind: str, source: str) -> FeedbackRecord:
        rec = FeedbackRecord(session_id, item_id, kind, source, time.time())
        self.db.execute(
            "INSERT INTO item_feedback (session_id, item_id, kind, source, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (rec.session_id, rec.item_id, rec.kind, rec.source, rec.created_at),
        )
        return rec

    def of_session(self, session_id: str) -> list[FeedbackRecord]:
        rows = self.db.execute(
            "SELECT session_id, item_id, kind, source, created_at FROM item_feedback "
            "WHERE session_id = ? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [FeedbackRecord(*row) for row in rows]
