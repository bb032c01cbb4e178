"""The Gradio web chat: a chat column beside a panel of item cards.

A thin frontend. Each browser tab gets its own `Session` (its id lives in a
`gr.State`), and the page only renders the events `session.turn()` yields:
text deltas stream into the last assistant message, `TextReplace` swaps it for
checked copy, `ItemsShown` fills the cards panel, `ErrorEvent` becomes the reply.
Each card has like / not-for-me / seen-it buttons: a click goes to
`Session.feedback` and changes the next turn. A "Show debug" switch shows the
last turn's decision record (`Done.debug`).

Everything from the catalog, the model or the user is shown as text, never as
HTML: the Chatbot renders neither Markdown nor tags, and every string that goes
into it or into the cards panel is escaped here first. Gradio itself is
imported only when the UI is built, so `import chat` stays light.
"""

from __future__ import annotations

import html
import logging
import signal
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from chat import (
    USER_ERRORS,
    ChatError,
    Done,
    ErrorEvent,
    ItemCard,
    ItemsShown,
    TextDelta,
    TextReplace,
    money,
)

if TYPE_CHECKING:
    import gradio as gr

    from chat import App, Session

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "The web chat needs gradio: pip install 'gradio==6.31.0' (it installs with recochat)."
)
MAX_OPEN_SESSIONS = 500  # live Session objects kept in memory; older ones reload from the DB
EMPTY_CARDS = '<p class="rc-empty">Recommendations will appear here.</p>'
BUSY = "I am still answering your previous message. Please wait for it to finish."
FAILED = "Sorry, something went wrong on our side. Please try again in a moment."

CARDS_CSS = """
.rc-cards { display: flex; flex-direction: column; gap: 0.6rem; margin: 0; padding: 0; }
.rc-card { list-style: none; border: 1px solid var(--border-color-primary);
  border-radius: var(--radius-lg); padding: 0.7rem 0.9rem; background: var(--block-background-fill); }
.rc-title { font-weight: 600; overflow-wrap: anywhere; }
.rc-facts { display: flex; flex-wrap: wrap; gap: 0.3rem 0.9rem; margin-top: 0.3rem; }
.rc-stock-out { color: var(--error-text-color, #b91c1c); }
.rc-why { margin-top: 0.3rem; color: var(--body-text-color-subdued); font-size: 0.92em;
  overflow-wrap: anywhere; }
.rc-empty { color: var(--body-text-color-subdued); }
.rc-actions { display: flex; gap: 0.4rem; margin-top: 0.45rem; }
.rc-fb { border: 1px solid var(--border-color-primary); border-radius: var(--radius-md);
  padding: 0.1rem 0.5rem; font-size: 0.85em; background: transparent; cursor: pointer; }
.rc-fb[aria-pressed="true"] { background: var(--color-accent-soft); font-weight: 600; }
.rc-card.rc-gone { opacity: 0.55; }
.rc-note { margin: 0 0 0.5rem; color: var(--body-text-color-subdued); overflow-wrap: anywhere; }
"""
# Clicks on the card buttons become one Gradio event carrying {item, kind}; the item
# id is read from the card's escaped data attribute and checked by Session.feedback.
CARDS_JS = """
element.addEventListener('click', (e) => {
  const button = e.target.closest('button.rc-fb');
  const card = button && button.closest('[data-item-id]');
  if (card) trigger('click', {item: card.dataset.itemId, kind: button.dataset.kind});
});
"""
FEEDBACK_BUTTONS = (("like", "👍 Like"), ("dislike", "👎 Not for me"), ("seen", "✓ Seen / have it"))


def _gradio():
    try:
        import gradio
    except ImportError:
        raise ChatError(INSTALL_HINT) from None
    return gradio


# --- rendering: every catalog, model and user string is escaped here ---------------


def as_text(text: str) -> str:
    """Chatbot content the browser shows literally. The Chatbot inserts message text
    as (sanitized) HTML even with Markdown off, so escape it; its markdown-disabled
    style is `white-space: pre-line`, which keeps the line breaks. Quotes are safe
    in element text and stay unescaped, so apostrophes read normally."""
    return html.escape(text, quote=False)


def card_html(card: ItemCard, mark: str | None = None) -> str:
    facts = []
    if card.price is not None:
        facts.append(
            f'<span class="rc-price">{html.escape(money(card.price, card.currency))}</span>'
        )
    if card.rating is not None:
        count = f" ({card.rating_count:,} ratings)" if card.rating_count else ""
        facts.append(f'<span class="rc-rating">{card.rating:.1f}★{html.escape(count)}</span>')
    if card.in_stock is not None:
        stock = ("in", "In stock") if card.in_stock else ("out", "Out of stock")
        facts.append(f'<span class="rc-stock rc-stock-{stock[0]}">{stock[1]}</span>')
    why = f'<div class="rc-why">{html.escape(card.explanation)}</div>' if card.explanation else ""
    buttons = "".join(
        f'<button type="button" class="rc-fb" data-kind="{kind}" '
        f'aria-pressed="{"true" if mark == kind else "false"}">{text}</button>'
        for kind, text in FEEDBACK_BUTTONS
    )
    gone = " rc-gone" if mark in ("dislike", "seen") else ""
    return (
        f'<li class="rc-card{gone}" data-item-id="{html.escape(card.id, quote=True)}">'
        f'<div class="rc-title">{html.escape(card.title)}</div>'
        f'<div class="rc-facts">{"".join(facts)}</div>{why}'
        f'<div class="rc-actions">{buttons}</div></li>'
    )


def cards_html(cards: list[ItemCard], marks: dict[str, str] | None = None, note: str = "") -> str:
    if not cards:
        return EMPTY_CARDS
    marks = marks or {}
    head = f'<p class="rc-note">{html.escape(note)}</p>' if note else ""
    body = "".join(card_html(c, marks.get(c.id)) for c in cards)
    return f'{head}<ol class="rc-cards">{body}</ol>'


# --- the chat logic behind the page (plain Python, callable from tests) -----------


class WebChat:
    """Turns a browser message into Chatbot/cards updates, one Session per tab."""

    def __init__(self, app: App, *, max_sessions: int = MAX_OPEN_SESSIONS):
        self.app = app
        self.max_sessions = max_sessions
        # Session objects are not thread-safe: each one carries a lock held for a turn.
        self._sessions: OrderedDict[str, tuple[Session, threading.Lock]] = OrderedDict()
        self._registry_lock = threading.Lock()
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
    ) -> Iterator[tuple[list[dict[str, Any]], str | None, str, str | None]]:
        """Yield (chat history, cards HTML or None when unchanged, textbox value,
        session id) once at the start and then once per event of the turn.
        Each update is a fresh list: the caller may keep or send it as it is."""
        before = list(history or [])
        if text and text.strip():
            before.append({"role": "user", "content": as_text(text)})

        def update(reply: str, cards: str | None = None):
            return [*before, {"role": "assistant", "content": as_text(reply)}], cards, "", sid

        sid = session_id
        try:
            session, lock = self._open(session_id)
        except USER_ERRORS as e:
            yield update(str(e))
            return
        sid = session.id
        yield update("")

        if not lock.acquire(blocking=False):
            yield update(BUSY)
            return
        reply, shown = "", False
        try:
            for event in session.turn(text):
                if isinstance(event, ItemsShown):
                    shown = True
                    self.cards[sid] = list(event.items)
                    yield update(reply, cards_html(event.items))
                elif isinstance(event, TextDelta):
                    reply += event.text
                    yield update(reply)
                elif isinstance(event, TextReplace):  # checked copy replaces the stream
                    reply = event.text
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
        except USER_ERRORS as e:
            yield update(str(e))
        except Exception:
            log.exception("turn failed in session %s", sid)
            yield update(FAILED)
        finally:
            lock.release()

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
                applied = session.feedback(item_id, kind)
                note = applied.message
            except USER_ERRORS as e:
                note = str(e)
            state = session.state
        marks = {i: "like" for i in state.liked_ids}
        marks.update({i: "dislike" for i in state.disliked_ids})
        marks.update({i: "seen" for i in state.seen_ids})
        cards = self.cards.get(session.id, [])
        return cards_html(cards, marks, note) if cards else None

    def debug_view(self, session_id: str | None, enabled: bool) -> dict[str, Any] | None:
        if not enabled or session_id is None:
            return None
        return self.debug.get(session_id)

    def new_conversation(self, session_id: str | None) -> tuple[list, str, str, None]:
        self.forget(session_id)
        return [], EMPTY_CARDS, "", None  # the next message starts a fresh Session


# --- the page ----------------------------------------------------------------------


def build_ui(app: App) -> gr.Blocks:
    gr = _gradio()
    chat = WebChat(app)

    def respond(text, history, session_id):
        for history_, cards, box, sid in chat.respond(text, history, session_id):
            yield history_, gr.skip() if cards is None else cards, box, sid

    with gr.Blocks(title="recochat", analytics_enabled=False) as demo:
        session_id = gr.State(None, delete_callback=chat.forget)
        gr.Markdown("## recochat\nTell me what you are looking for.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="chatbot",
                    label="Conversation",
                    height=520,
                    # Shown as text: no Markdown, no tags; as_text() escapes the rest.
                    render_markdown=False,
                    sanitize_html=True,
                    allow_tags=False,
                    latex_delimiters=[],
                    feedback_options=None,
                    # The copy button would copy the escaped source ("&amp;"); selecting
                    # the text copies what is shown.
                    buttons=[],
                    autoscroll=True,
                )
                with gr.Row():
                    textbox = gr.Textbox(
                        elem_id="chat-input",
                        show_label=False,
                        placeholder="e.g. wireless earbuds for running under $50",
                        max_length=app.settings.turn.max_message_chars,
                        autofocus=True,
                        scale=5,
                    )
                    send = gr.Button("Send", elem_id="send", variant="primary", scale=1)
                new = gr.Button("New conversation", elem_id="new-conversation", size="sm")
            with gr.Column(scale=2):
                gr.Markdown("### Recommendations")
                cards = gr.HTML(
                    EMPTY_CARDS,
                    elem_id="cards",
                    label="Recommendations",
                    css_template=CARDS_CSS,
                    js_on_load=CARDS_JS,
                )
                debug_on = gr.Checkbox(False, label="Show debug", elem_id="debug-toggle")
                debug_panel = gr.JSON(
                    None, label="Last turn: decision and reasons", elem_id="debug"
                )

        turn = {
            "fn": respond,
            "inputs": [textbox, chatbot, session_id],
            "outputs": [chatbot, cards, textbox, session_id],
            "show_progress": "minimal",
            # Enter and the button share one queue, so a tab cannot run two turns at once.
            "concurrency_id": "turn",
        }
        turn_events = textbox.submit(**turn, api_name="send")
        click_events = send.click(**turn, api_visibility="private")
        restart = {
            "fn": chat.new_conversation,
            "inputs": [session_id],
            "outputs": [chatbot, cards, textbox, session_id],
        }
        new.click(**restart, api_name="new_conversation")

        def on_card_click(session_id, evt: gr.EventData):
            data = getattr(evt, "_data", None) or {}
            out = chat.feedback(session_id, data.get("item"), data.get("kind"))
            return gr.skip() if out is None else out

        # a real class, not the postponed string, so Gradio passes the event data
        on_card_click.__annotations__["evt"] = gr.EventData

        cards.click(
            on_card_click,
            inputs=[session_id],
            outputs=[cards],
            api_visibility="private",
            concurrency_id="turn",
        )
        show = {"fn": chat.debug_view, "inputs": [session_id, debug_on], "outputs": [debug_panel]}
        debug_on.change(**show, api_visibility="private")
        turn_events.then(**show, api_visibility="private")
        click_events.then(**show, api_visibility="private")
        # The Chatbot's own trash icon clears the transcript: make it start over too,
        # so what the page shows and what the Session remembers never disagree.
        chatbot.clear(**restart, api_visibility="private")
    return demo


def _warm_up(app: App) -> None:
    """Load the model before the port opens, so the first reply is not a minute late
    and a missing model fails here with its install hint (a ModelError). `recochat
    web` has already loaded it (and said so); then this returns at once."""
    load = getattr(app.llm, "load", None)
    if callable(load):
        load()


def serve(app: App, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve the web chat until Ctrl+C or SIGTERM: local only by default, no share
    link, no telemetry, nothing fetched from the network."""
    if app.store.count() == 0:
        raise ChatError(
            "The catalog is empty. Run 'recochat ingest --demo' (or ingest your own file) first."
        )
    demo = build_ui(app)
    _warm_up(app)
    try:
        demo.queue(default_concurrency_limit=1).launch(
            server_name=host,
            server_port=port,
            share=False,
            inbrowser=False,
            quiet=True,
            show_error=False,
            footer_links=[],
            run_history=False,  # it could offer to sync chats to a Hugging Face bucket
            enable_monitoring=False,
            pwa=False,
            mcp_server=False,
            ssr_mode=False,  # SSR would start a Node server
            prevent_thread_lock=True,
        )
    except OSError:
        raise ChatError(
            f"Cannot serve on {host}:{port}: the port is in use or not allowed here. "
            "Pass --port with another number (or set RECOCHAT_PORT)."
        ) from None
    print(f"recochat web chat on http://{host}:{port} — press Ctrl+C to stop.", flush=True)
    _wait_for_stop()
    demo.close()


def _wait_for_stop() -> None:
    """Block until Ctrl+C or SIGTERM, so a service manager's stop is a clean exit."""
    stop = threading.Event()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if in_main else None
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
