"""The chat logic behind the web page, in plain Python (callable from tests):
a browser message becomes a stream of (transcript, cards, textbox, session id)
updates, one `Session` per tab. Stop closes the turn's event iterator, so the
model stops generating; Retry sends the last message again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from chat import (
    USER_ERRORS,
    Done,
    ErrorEvent,
    ItemCard,
    ItemsShown,
    TextDelta,
    TextReplace,
)
from chat.frontends.images import Images
from chat.frontends.turn_guard import guarded
from chat.frontends.web_cards import EMPTY_CARDS, as_text, cards_html, message_text

if TYPE_CHECKING:
    from chat import App, Session

MAX_OPEN_SESSIONS = 500  # live Session objects kept in memory; older ones reload from the DB
BUSY = "I am still answering your previous message. Please wait for it to finish, or press Stop."
# What the reply shows until its first words arrive: never an empty bubble.
PENDING = "Looking through the catalog…"
WRITING = "Writing a reply…"
STOPPED = "Stopped. Press Retry to ask again."
Update = tuple[list[dict[str, Any]], str | None, str, str | None]


class _Running:
    """A turn in progress: Stop sets `stop`; Clear also asks it to end silently."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.silent = False


class WebChat:
    """Turns a browser message into Chatbot/cards updates, one Session per tab."""

    def __init__(self, app: App, *, max_sessions: int = MAX_OPEN_SESSIONS):
        self.app = app
        self.images = Images(app.home.path)
        self.max_sessions = max_sessions
        # Session objects are not thread-safe: each one carries a lock held for a turn.
        self._sessions: OrderedDict[str, tuple[Session, threading.Lock]] = OrderedDict()
        self._registry_lock = threading.Lock()
        self._running: dict[str, _Running] = {}
        # per session: the cards on screen (to redraw them after feedback) and the
        # last turn's debug record (for the debug panel)
        self.cards: dict[str, list[ItemCard]] = {}
        self.debug: dict[str, dict[str, Any]] = {}

    def _open(self, session_id: str | None) -> tuple[Session, threading.Lock]:
        with self._registry_lock:
            if session_id is not None and session_id in self._sessions:
                self._sessions.move_to_end(session_id)
                return self._sessions[session_id]
            # New tab, or a session evicted from memory: app.session resumes it from the DB.
            session = self.app.session(session_id)
            entry = (session, threading.Lock())
            self._sessions[session.id] = entry
            while len(self._sessions) > self.max_sessions:
                oldest, (_, lock) = next(iter(self._sessions.items()))
                if lock.locked():  # mid-turn: keep it, it is in use
                    break
                del self._sessions[oldest]
            return entry

    def forget(self, session_id: str | None) -> None:
        """Drop a tab's Session from memory (tab closed or conversation restarted)."""
        if session_id is None:
            return
        with self._registry_lock:
            entry = self._sessions.get(session_id)
            if entry is not None and not entry[1].locked():
                del self._sessions[session_id]
                self.cards.pop(session_id, None)
                self.debug.pop(session_id, None)

    def respond(
        self, text: str, history: list[dict[str, Any]] | None, session_id: str | None
    ) -> Iterator[Update]:
        """Yield (chat history, cards HTML or None when unchanged, textbox value,
        session id) once at the start and then once per event of the turn.
        Each update is a fresh list: the caller may keep or send it as it is."""
        before = list(history or [])
        if text and text.strip():
            before.append({"role": "user", "content": as_text(text)})
        sid = session_id

        def update(reply: str, cards: str | None = None) -> Update:
            return [*before, {"role": "assistant", "content": as_text(reply)}], cards, "", sid

        try:
            session, lock = self._open(session_id)
        except USER_ERRORS as e:
            yield update(str(e))
            return
        sid = session.id
        yield update(PENDING)
        if not lock.acquire(blocking=False):
            yield update(BUSY)
            return
        running = self._running[sid] = _Running()
        try:
            yield from self._stream(session, text, running, update)
        finally:
            self._running.pop(sid, None)
            lock.release()

    def _stream(self, session: Session, text: str, running: _Running, update) -> Iterator[Update]:
        sid, reply, shown = session.id, "", False
        earlier = self.cards.get(sid)
        events = guarded(lambda: session.turn(text), sid)
        for event in events:
            if running.stop.is_set():
                # Closing the iterator closes the turn's and the model's: generation
                # stops, and the turn is not saved, so the panel goes back to the
                # cards the session still refers to.
                events.close()
                if running.silent:
                    return
                if shown:
                    self.cards[sid] = earlier or []
                restored = cards_html(earlier or [], images=self.images) if shown else None
                yield update(
                    f"{reply.rstrip()} … (stopped)" if reply.strip() else STOPPED, restored
                )
                return
            if isinstance(event, ItemsShown):
                shown = True
                self.cards[sid] = list(event.items)
                yield update(reply or WRITING, cards_html(event.items, images=self.images))
            elif isinstance(event, (TextDelta, TextReplace)):
                # checked copy (TextReplace) replaces the stream
                reply = reply + event.text if isinstance(event, TextDelta) else event.text
                yield update(reply)
            elif isinstance(event, ErrorEvent):
                yield update(event.message)
            elif isinstance(event, Done):
                self.debug[sid] = event.debug
                # A turn that shows nothing new keeps the cards the conversation can
                # still refer to ("how much is the second one?"); a turn that finds
                # nothing empties the panel.
                keep = shown or (event.debug.get("act") not in ("no_match", "reset"))
                if not keep:
                    self.cards.pop(sid, None)
                yield update(event.reply or reply, None if keep else EMPTY_CARDS)

    def stop(self, session_id: str | None, *, silent: bool = False) -> None:
        """Stop the tab's running turn at its next event (Stop, or Clear when silent)."""
        running = self._running.get(session_id) if session_id else None
        if running is not None:
            running.silent = silent
            running.stop.set()

    def retry(
        self, history: list[dict[str, Any]] | None, session_id: str | None
    ) -> Iterator[Update]:
        """Send the last user message again, in place of it and what followed."""
        history = list(history or [])
        last = max((i for i, m in enumerate(history) if m.get("role") == "user"), default=None)
        if last is None:
            return
        yield from self.respond(message_text(history[last]), history[:last], session_id)

    def feedback(self, session_id: str | None, item_id: Any, kind: Any) -> str | None:
        """A card button: tell the session, and redraw the cards with the choice marked.
        Returns the cards HTML (None when there is no conversation to attach it to)."""
        if session_id is None or not isinstance(item_id, str) or not isinstance(kind, str):
            return None
        try:
            session, lock = self._open(session_id)
        except USER_ERRORS:
            return None
        with lock:
            try:
                note = session.feedback(item_id, kind).message
            except USER_ERRORS as e:
                note = str(e)
            state = session.state
        marks = {i: "like" for i in state.liked_ids}
        marks.update({i: "dislike" for i in state.disliked_ids})
        marks.update({i: "seen" for i in state.seen_ids})
        cards = self.cards.get(session.id, [])
        return cards_html(cards, marks, note, self.images) if cards else None

    def debug_view(self, session_id: str | None, enabled: bool = True) -> dict[str, Any] | None:
        if not enabled or session_id is None:
            return None
        return self.debug.get(session_id)

    def new_conversation(self, session_id: str | None) -> tuple[list, str, str, None]:
        self.stop(session_id, silent=True)
        self.forget(session_id)
        return [], EMPTY_CARDS, "", None  # the next message starts a fresh Session
