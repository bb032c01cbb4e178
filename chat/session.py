"""One conversation: each user message runs through state → recall → rank →
copy and yields typed events. The turn is persisted only when it completes,
so a rejected or failed message leaves the stored session as it was."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from retrieval import ItemStore, Ranker

from .copywriter import CopyWriter
from .events import Done, ErrorEvent, Event, ItemsShown, TextDelta
from .explain import card
from .guard import MessageRejected, clean_message
from .state import DialogueState, StateTracker
from .storage import Database, Message


@dataclass
class TurnConfig:
    recall_k: int = 50
    recommend_k: int = 3
    max_message_chars: int = 2000


class Session:
    def __init__(
        self,
        session_id: str,
        *,
        store: ItemStore,
        ranker: Ranker,
        tracker: StateTracker,
        writer: CopyWriter,
        db: Database,
        config: TurnConfig,
    ):
        self.id = session_id
        self.store, self.ranker, self.tracker, self.writer, self.db = (
            store,
            ranker,
            tracker,
            writer,
            db,
        )
        self.config = config
        self.state = DialogueState.from_dict(db.load_state(session_id))

    def turn(self, text: str) -> Iterator[Event]:
        started = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(stage: str, since: float) -> float:
            now = time.perf_counter()
            timings[stage] = round(now - since, 4)
            return now

        try:
            text = clean_message(text, self.config.max_message_chars)
        except MessageRejected as e:
            yield ErrorEvent(e.code, str(e))
            return

        t = time.perf_counter()
        state = self.tracker.update(self.state, text)
        t = lap("state", t)
        candidates = self.store.query(state.query_text(), self.config.recall_k, state.filter())
        t = lap("recall", t)
        prefs = state.preferences()
        ranked = self.ranker.rank(candidates, prefs, k=self.config.recommend_k)
        cards = [card(item, prefs) for item in ranked]
        t = lap("rank", t)
        state.shown = [c.id for c in cards]
        if cards:
            yield ItemsShown(cards)

        parts: list[str] = []
        first = None
        for delta in self.writer.stream(text, cards, [i.meta for i in ranked], state.language):
            if first is None:
                first = time.perf_counter()
                timings["llm_first_token"] = round(first - t, 4)
            parts.append(delta)
            yield TextDelta(delta)
        reply = "".join(parts).strip()
        lap("llm_total", t)
        timings["total"] = round(time.perf_counter() - started, 4)

        now = time.time()
        items = [c.__dict__ for c in cards]
        self.db.save_turn(
            self.id,
            state.to_dict(),
            [
                Message("user", text, [], {}, now),
                Message("assistant", reply, items, {"timings": timings}, now),
            ],
        )
        self.state = state
        yield Done(self.id, reply, timings)
