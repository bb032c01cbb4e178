"""The Gradio web chat: a conversation beside a panel of item cards.

A thin frontend. Each browser tab gets its own `Session` (its id lives in a
`gr.State`), and the page only renders the events `session.turn()` yields:
text deltas stream into the last assistant message, `TextReplace` swaps it for
checked copy, `ItemsShown` fills the cards panel, `ErrorEvent` becomes the reply.
Each card has Like / Not for me / Seen it buttons: a click goes to
`Session.feedback` and changes the next turn. Stop closes the turn's event
iterator (so the model stops generating), Retry sends the last message again,
Clear starts over. `recochat web --debug` adds a panel with the last turn's
decision record (`Done.debug`).

The logic behind the page is `WebChat` (web_chat.py); what the page draws
(cards, CSS, example prompts) is in web_cards.py, where every catalog, model
and user string is escaped. Gradio itself is imported only
when the UI is built, so `import chat` stays light.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import webbrowser
from typing import TYPE_CHECKING, Any

from chat import ChatError
from chat.frontends.web_cards import CARDS_CSS, CARDS_JS, EMPTY_CARDS, PAGE_CSS, example_prompts
from chat.frontends.web_chat import WebChat

if TYPE_CHECKING:
    import gradio as gr

    from chat import App


INSTALL_HINT = (
    "The web chat needs gradio: pip install 'gradio==6.31.0' (it installs with recochat)."
)


def page_options() -> dict[str, Any]:
    """How Gradio serves the page, alone (`recochat web`) or mounted at /chat by
    `recochat serve`: our CSS, no footer links, no tracebacks for users, and
    nothing that phones out or starts more (monitoring, history sync, PWA, MCP,
    a Node server for SSR)."""
    return {
        "footer_links": [],
        "run_history": False,  # it could offer to sync chats to a Hugging Face bucket
        "show_error": False,
        "enable_monitoring": False,
        "pwa": False,
        "mcp_server": False,
        "ssr_mode": False,
        "css": PAGE_CSS,
    }


def _gradio():
    try:
        import gradio
    except ImportError:
        raise ChatError(INSTALL_HINT) from None
    return gradio


# --- the page ----------------------------------------------------------------------


def build_ui(app: App, *, debug: bool = False) -> gr.Blocks:
    """The page. `debug` adds the decision-record panel (`recochat web --debug`)."""
    gr = _gradio()
    chat = WebChat(app)
    with gr.Blocks(title="recochat — shop assistant", analytics_enabled=False) as demo:
        ui = _layout(gr, app, debug)
        _wire(gr, chat, ui)
    return demo


def _layout(gr, app: App, debug: bool) -> dict[str, Any]:
    ui: dict[str, Any] = {"session_id": gr.State(None)}
    gr.Markdown(
        "## Shop assistant\nTell me what you are looking for, and I will pick from the catalog."
    )
    with gr.Row(equal_height=False, elem_id="rc-layout"):
        with gr.Column(scale=3, elem_id="rc-chat-col"):
            ui["chatbot"] = gr.Chatbot(
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
            with gr.Row(elem_id="rc-input-row"):
                ui["textbox"] = gr.Textbox(
                    elem_id="chat-input",
                    label="Your message",
                    show_label=False,
                    placeholder="e.g. wireless earbuds for running under $50",
                    max_length=app.settings.turn.max_message_chars,
                    autofocus=True,
                    scale=5,
                )
                ui["send"] = gr.Button("Send", elem_id="send", variant="primary", scale=1)
                ui["stop"] = gr.Button(
                    "Stop", elem_id="stop", variant="stop", scale=1, visible=False
                )
            with gr.Row(elem_id="rc-controls"):
                ui["retry"] = gr.Button("Retry", elem_id="retry", size="sm", scale=0, min_width=90)
                ui["clear"] = gr.Button("Clear", elem_id="clear", size="sm", scale=0, min_width=90)
            ui["examples"] = _examples(gr, app)
        with gr.Column(scale=2, elem_id="rc-side-col"):
            gr.Markdown("### Recommendations")
            ui["cards"] = gr.HTML(
                EMPTY_CARDS,
                elem_id="cards",
                label="Recommendations",
                css_template=CARDS_CSS,
                js_on_load=CARDS_JS,
            )
            if debug:
                ui["debug"] = gr.JSON(
                    None, label="Last turn: decision and reasons", elem_id="debug"
                )
    return ui


def _examples(gr, app: App) -> list[Any]:
    """First messages to click, from the catalog's own categories."""
    prompts = example_prompts(app.store.facets(), app.tracker.kind_facet)
    with gr.Row(elem_id="rc-examples", visible=bool(prompts)):
        return [
            gr.Button(p, size="sm", variant="secondary", scale=0, elem_classes="rc-example")
            for p in prompts
        ]


def _wire(gr, chat: WebChat, ui: dict[str, Any]) -> None:
    chatbot, cards, textbox, sid = ui["chatbot"], ui["cards"], ui["textbox"], ui["session_id"]
    outputs = [chatbot, cards, textbox, sid]
    sid.delete_callback = chat.forget  # the tab closed

    def skip_unchanged(updates):
        for history, html_, box, session_id in updates:
            yield history, gr.skip() if html_ is None else html_, box, session_id

    def respond(text, history, session_id):
        yield from skip_unchanged(chat.respond(text, history, session_id))

    def retry(history, session_id):
        yield from skip_unchanged(chat.retry(history, session_id))

    # Send turns into Stop while a turn runs. Every turn shares one queue, so a tab
    # cannot run two turns at once; Stop has its own, so it is heard during a turn.
    buttons = [ui["send"], ui["stop"]]
    busy = {"fn": lambda: (gr.update(visible=False), gr.update(visible=True)), "outputs": buttons}
    idle = {"fn": lambda: (gr.update(visible=True), gr.update(visible=False)), "outputs": buttons}
    turn = {"outputs": outputs, "show_progress": "hidden", "concurrency_id": "turn"}
    private = {"api_visibility": "private"}
    starts = [
        (textbox.submit, respond, [textbox, chatbot, sid], {"api_name": "send"}),
        (ui["send"].click, respond, [textbox, chatbot, sid], private),
        (ui["retry"].click, retry, [chatbot, sid], private),
        *((b.click, respond, [b, chatbot, sid], private) for b in ui["examples"]),
    ]
    for trigger, fn, inputs, name in starts:
        done = trigger(**busy, queue=False, **private).then(fn, inputs, **turn, **name)
        done = done.then(**idle, queue=False, **private)
        if "debug" in ui:
            done.then(chat.debug_view, [sid], [ui["debug"]], **private)
    ui["stop"].click(
        chat.stop, [sid], None, concurrency_limit=None, concurrency_id="stop", **private
    )
    restart = {"fn": chat.new_conversation, "inputs": [sid], "outputs": outputs}
    ui["clear"].click(**restart, api_name="new_conversation")
    # The Chatbot's own trash icon clears the transcript: make it start over too,
    # so what the page shows and what the Session remembers never disagree.
    chatbot.clear(**restart, **private)

    def on_card_click(session_id, evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        out = chat.feedback(session_id, data.get("item"), data.get("kind"))
        return gr.skip() if out is None else out

    # a real class, not the postponed string, so Gradio passes the event data
    on_card_click.__annotations__["evt"] = gr.EventData
    cards.click(on_card_click, inputs=[sid], outputs=[cards], concurrency_id="turn", **private)


def serve(
    app: App,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    debug: bool = False,
    open_browser: bool = False,
) -> None:
    """Serve the web chat until Ctrl+C or SIGTERM: local only by default, no share
    link, no telemetry, nothing fetched from the network."""
    app.require_catalog()
    demo = build_ui(app, debug=debug)
    app.warm_up()  # before the port opens: the first reply is not a minute late
    try:
        demo.queue(default_concurrency_limit=1).launch(
            server_name=host,
            server_port=port,
            share=False,
            inbrowser=False,
            quiet=True,
            prevent_thread_lock=True,
            **page_options(),
        )
    except OSError:
        raise ChatError(
            f"Cannot serve on {host}:{port}: the port is in use or not allowed here. "
            "Pass --port with another number (or set RECOCHAT_PORT)."
        ) from None
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    print(f"recochat web chat on {url} — press Ctrl+C to stop.", flush=True)
    if open_browser:
        print(_open_in_browser(url), flush=True)
    _wait_for_stop()
    demo.close()


def _open_in_browser(url: str) -> str:
    """Open the chat in the desktop's browser, when there is a desktop to open it on."""
    desktop = sys.platform in ("darwin", "win32") or any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY")
    )
    try:
        if desktop and webbrowser.open(url):
            return f"Opened {url} in your browser."
    except webbrowser.Error:
        pass
    return f"No browser to open here: open {url} yourself."


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
