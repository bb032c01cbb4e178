"""The Gradio web chat.

Fast tests drive `WebChat` (the logic behind the page) with the hash embedder
and a scripted LLM. The e2e test starts the real `recochat web` server with the
packaged smollm2-135m model and MiniLM, and drives it with Chromium through
Playwright: streamed text, item cards, and catalog HTML shown as inert text."""

from __future__ import annotations

import html
import os
import socket
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest
from helpers.browser import chromium
from helpers.servers import RECOCHAT, free_port, run_cli, server_env, stop_process

from chat.events import ItemCard
from chat.frontends.web_chat import PENDING, WRITING
from chat.llm import BaseLLM
from chat.reply.opening import opening

FIXTURES = Path(__file__).parents[1] / "fixtures"
WEB_CATALOG = FIXTURES / "web_shop.jsonl"  # item w4 carries <script> and <img onerror> payloads
PAYLOAD_TITLE = "Hacker Sticker Pack <script>alert(1)</script>"
REPLY = "Try the Hacker Sticker Pack <img src=x onerror=alert(2)> & enjoy\nit's a fine pick."


@pytest.fixture
def web_app(home):
    from chat.app import App
    from chat.config import load_settings
    from chat.llm import ScriptedLLM
    from retrieval import load_catalog

    app = App.open(load_settings(embedder="hash"), llm=ScriptedLLM(fn=lambda messages: REPLY))
    app.store.upsert(load_catalog(WEB_CATALOG).items)
    app.refresh()
    yield app
    app.close()


@pytest.fixture
def chat(web_app):
    from chat.frontends.web_chat import WebChat

    return WebChat(web_app)


def assistant_texts(updates) -> list[str]:
    return [history[-1]["content"] for history, *_ in updates]


def panel(updates) -> str | None:
    """What the cards panel shows after these updates (None: never changed)."""
    return next((cards for _, cards, *_ in reversed(updates) if cards is not None), None)


def test_a_turn_fills_the_cards_and_streams_the_reply(chat, web_app):
    updates = list(chat.respond("stickers for my laptop", [], None))
    history, _, box, session_id = updates[-1]
    cards = panel(updates)

    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == "stickers for my laptop"
    assert box == ""  # the textbox is cleared
    assert web_app.db.session_exists(session_id)
    assert all(u[3] == session_id for u in updates)

    # The cards panel: one card per shown item, with the facts the panel promises.
    assert cards.count('class="rc-card"') == 3
    assert 'data-item-id="w4"' in cards
    assert "€9.50" in cards and "In stock" in cards
    # the rating is said once: in the explanation when it is a reason, else as a chip
    assert cards.count("4.8★") == 1 and "4.8★ from 75 reviews" in cards
    assert 'class="rc-why"' in cards
    # in-stock items come first, so an out-of-stock one shows when few items fit
    few = panel(list(chat.respond("electronics", [], None)))
    assert "Out of stock" in few  # w2 is out of stock

    # Streamed: the reply grows over several updates, each a prefix of the final text.
    # Until its first words, the bubble says what is happening (never an empty pill).
    from chat.frontends.web_chat import PENDING, WRITING

    texts = assistant_texts(updates)
    final = texts[-1]
    assert texts[0] == PENDING
    growing = [t for t in dict.fromkeys(texts) if t not in (PENDING, WRITING)]
    assert len(growing) >= 4
    assert all(final.startswith(t.rstrip()) for t in growing)
    assert final == html.escape(REPLY, quote=False)
    # the cards arrive once, before the text (ItemsShown comes first)
    changes = [i for i, u in enumerate(updates) if u[1] is not None]
    assert len(changes) == 1 and texts[changes[0]] == WRITING


def test_catalog_model_and_user_html_is_escaped(chat):
    updates = list(chat.respond("stickers <img src=x onerror=alert(5)>", [], None))
    history, cards = updates[-1][0], panel(updates)

    assert html.escape(PAYLOAD_TITLE) in cards
    assert "<script" not in cards and "<img" not in cards and "<b>" not in cards
    for message in history:
        assert "<img" not in message["content"] and "<script" not in message["content"]
    assert history[0]["content"] == "stickers &lt;img src=x onerror=alert(5)&gt;"
    assert "&lt;img src=x onerror=alert(2)&gt; &amp; enjoy" in history[1]["content"]
    assert "\nit's a fine pick." in history[1]["content"]  # line breaks and quotes read normally


def test_every_card_field_is_escaped():
    from chat.frontends.web_cards import card_html

    evil = "<img src=x onerror=alert(1)>"
    card = ItemCard(
        id='w"><script>alert(0)</script>',
        title=evil,
        explanation=f"matches: {evil}",
        reasons=[],
        score=1.0,
        price=5.0,
        currency=evil,
        rating=4.0,
        rating_count=3,
        in_stock=False,
    )
    out = card_html(card)
    assert "<img" not in out and "<script" not in out
    assert 'data-item-id="w&quot;&gt;&lt;script&gt;' in out  # cannot close the attribute
    # title, price currency, explanation, and the label of the card's button group
    assert out.count(html.escape(evil)) == 4
    assert "Out of stock" in out


def test_errors_are_the_reply_and_keep_the_cards(chat):
    updates = list(chat.respond("   ", [], None))
    history, cards, _, session_id = updates[-1]
    assert [m["role"] for m in history] == ["assistant"]  # no empty user bubble
    assert history[0]["content"] == "Your message is empty. Tell me what you are looking for."
    assert all(u[1] is None for u in updates)  # the cards panel is left as it was
    assert session_id is not None


def test_a_turn_without_items_empties_the_panel(chat):
    from chat.frontends.web_cards import EMPTY_CARDS

    updates = list(chat.respond("stickers for my laptop", [], None))
    assert "rc-card" in panel(updates)
    updates = list(chat.respond("anything under $1", [], updates[-1][3]))
    history, cards = updates[-1][0], panel(updates)
    assert cards == EMPTY_CARDS  # what the panel shows matches what the session may refer to
    assert "could not find" in history[-1]["content"]


def test_each_tab_has_its_own_session_and_keeps_it(chat, web_app):
    *_, (history_a, _, _, tab_a) = chat.respond("coffee", [], None)
    *_, (_, _, _, tab_b) = chat.respond("coffee", [], None)
    assert tab_a != tab_b
    *_, (history_a, _, _, same) = chat.respond("something cheaper", history_a, tab_a)
    assert same == tab_a
    assert [m["role"] for m in history_a] == ["user", "assistant"] * 2
    assert len(web_app.db.history(tab_a)) == 4 and len(web_app.db.history(tab_b)) == 2


def test_a_second_message_while_one_is_answered_is_refused_not_interleaved(chat):
    from chat.frontends.web_chat import BUSY, PENDING

    *_, (_, _, _, sid) = chat.respond("coffee", [], None)
    running = chat.respond("stickers for my laptop", [], sid)
    # advance into the middle of the first turn's stream
    while next(running)[0][-1]["content"] == PENDING:
        pass
    history, *_ = list(chat.respond("coffee", [], sid))[-1]
    assert history[-1]["content"] == BUSY
    list(running)  # the first turn finishes normally and frees the session
    history, *_ = list(chat.respond("coffee", [], sid))[-1]
    assert history[-1]["content"] == html.escape(REPLY, quote=False)


def test_new_conversation_starts_a_fresh_session(chat):
    from chat.frontends.web_cards import EMPTY_CARDS

    *_, (_, _, _, sid) = chat.respond("coffee", [], None)
    assert chat.new_conversation(sid) == ([], EMPTY_CARDS, "", None)
    *_, (_, _, _, fresh) = chat.respond("coffee", [], None)
    assert fresh != sid


def test_build_ui_wires_a_text_only_chatbot_and_stable_ids(web_app):
    import gradio as gr

    from chat.frontends.web import build_ui

    demo = build_ui(web_app)
    assert isinstance(demo, gr.Blocks)
    by_id = {c["props"].get("elem_id"): c for c in demo.config["components"] if c.get("props")}
    assert {"chatbot", "chat-input", "send", "stop", "retry", "clear", "cards"} <= set(by_id)
    assert "debug" not in by_id  # the decision panel is for `recochat web --debug` only
    assert by_id["chat-input"]["props"]["label"] == "Your message"  # read out by screen readers
    chatbot = by_id["chatbot"]["props"]
    assert chatbot["render_markdown"] is False and chatbot["sanitize_html"] is True
    assert chatbot["allow_tags"] is False
    assert by_id["chat-input"]["props"]["max_length"] == web_app.settings.turn.max_message_chars


def test_missing_gradio_names_the_install_command(web_app, monkeypatch):
    from chat.errors import ChatError
    from chat.frontends.web import build_ui

    monkeypatch.setitem(sys.modules, "gradio", None)  # makes `import gradio` fail
    with pytest.raises(ChatError, match=r"pip install 'gradio=="):
        build_ui(web_app)


def test_serving_an_empty_catalog_says_to_ingest_first(home):
    from chat.app import App
    from chat.config import load_settings
    from chat.errors import ChatError
    from chat.frontends.web import serve
    from chat.llm import ScriptedLLM

    app = App.open(load_settings(embedder="hash"), llm=ScriptedLLM())
    try:
        with pytest.raises(ChatError, match="recochat ingest --demo"):
            serve(app, port=free_port())
    finally:
        app.close()


def test_a_busy_port_is_a_clear_error(web_app):
    from chat.errors import ChatError
    from chat.frontends.web import serve

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ChatError, match="Pass --port"):
            serve(web_app, port=port)


# --- end to end: the real server, the real model, a real browser --------------------

SHOTS = Path(os.environ.get("RECOCHAT_SCREENSHOTS", "/tmp"))
SERVER_START_TIMEOUT = 180  # the first start converts the model's GGUF (20-60 s)
REPLY_TIMEOUT_MS = 240_000


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start_web(tmp_path_factory, name: str, *args: str, **settings: str):
    """`recochat web` on a free port, over a catalog ingested with `recochat ingest`;
    a generator: yields the URL, then stops the server."""
    env = server_env(tmp_path_factory.mktemp(f"{name}-home"), **settings)
    assert "6 added" in run_cli(env, "ingest", str(WEB_CATALOG)).stdout

    port = free_port()
    log_path = tmp_path_factory.mktemp(f"{name}-log") / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [RECOCHAT, "web", "--host", "127.0.0.1", "--port", str(port), *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not port_answers(port):
            if server.poll() is not None:
                pytest.fail(f"recochat web exited ({server.returncode}):\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"recochat web did not answer in {SERVER_START_TIMEOUT} s:\n"
                    f"{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_process(server, timeout=15)


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    """The real models: smollm2-135m and MiniLM."""
    yield from start_web(tmp_path_factory, "web", llm="smollm2-135m", embedder="minilm")


@pytest.fixture(scope="module")
def scripted_web_server(tmp_path_factory):
    """A slow scripted model (0.25 s a word), so a reply can be stopped mid-way."""
    yield from start_web(tmp_path_factory, "slow-web", llm="scripted:0.25", embedder="hash")


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def open_tab(browser, url: str, **context_options):
    """A fresh tab (a fresh Session) that records dialogs and off-machine requests."""
    context = browser.new_context(**context_options)
    tab = context.new_page()
    tab.dialogs = []
    tab.external_requests = []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
            else tab.external_requests.append(r.url)
        ),
    )
    tab.goto(url)
    tab.locator("#chat-input textarea").wait_for()
    # Record every text the last assistant message shows, to see it stream.
    tab.evaluate(
        """() => {
        window.__botTexts = [];
        new MutationObserver(() => {
            const bots = document.querySelectorAll('#chatbot [data-testid="bot"]');
            if (bots.length) window.__botTexts.push(bots[bots.length - 1].innerText);
        }).observe(document.querySelector('#chatbot'),
                   {subtree: true, childList: true, characterData: true});
    }"""
    )
    return tab


@pytest.fixture
def page(browser, web_server):
    tab = open_tab(browser, web_server)
    yield tab
    tab.context.close()


@pytest.fixture
def slow_page(browser, scripted_web_server):
    tab = open_tab(browser, scripted_web_server)
    yield tab
    tab.context.close()


def send(tab, text: str) -> None:
    """Send a message and wait until its reply has finished streaming."""
    users = tab.locator("#chatbot [data-testid='user']").count()
    tab.locator("#chat-input textarea").fill(text)
    tab.locator("#send").click()
    # Finished: our message is shown, Stop has turned back into Send, and the reply
    # is neither empty nor the pending text.
    tab.wait_for_function(
        """([users, pending]) => {
            const chat = document.querySelector('#chatbot');
            const bots = chat.querySelectorAll('[data-testid="bot"]');
            const send = document.querySelector('#send');
            const last = bots.length ? bots[bots.length - 1].innerText.trim() : "";
            return chat.querySelectorAll('[data-testid="user"]').length > users
                && last !== "" && !pending.includes(last)
                && send && send.offsetParent !== null;
        }""",
        arg=[users, [PENDING, WRITING]],
        timeout=REPLY_TIMEOUT_MS,
        polling=200,
    )


def last_reply(tab) -> str:
    return tab.locator("#chatbot [data-testid='bot']").last.inner_text().strip()


@pytest.mark.e2e
def test_browser_chat_streams_a_reply_and_shows_cards(page):
    send(page, "wireless earbuds for running")
    reply = last_reply(page)

    assert len(reply) > 10
    seen = [
        t.strip()
        for t in page.evaluate("window.__botTexts")
        if t.strip() and t.strip() not in (PENDING, WRITING)
    ]
    texts = list(dict.fromkeys(seen))
    partial = [t for t in texts if t != reply]
    assert partial, "the reply appeared all at once instead of streaming"
    # the reply's opening, written by code, comes first and stays (a corrected retry or
    # the template carries on from it); the words after it grow in order, except once
    # when the copy check swaps the model's words for checked ones
    assert reply.startswith(partial[0])
    assert sum(not b.startswith(a) for a, b in pairwise(texts)) <= 1

    cards = page.locator("#cards .rc-card")
    assert cards.count() >= 1
    first = cards.first.inner_text()
    assert cards.first.locator(".rc-title").inner_text().strip()
    assert any(s in first for s in ("$", "€")) and "★" in first and "stock" in first
    assert "Earbuds" in page.locator("#cards").inner_text()
    assert page.locator("#chatbot [data-testid='user']").last.inner_text().strip() == (
        "wireless earbuds for running"
    )

    page.locator("#clear").click()
    page.locator("#cards .rc-empty").wait_for()
    assert page.locator("#chatbot [data-testid='bot']").count() == 0
    assert not page.dialogs and not page.external_requests


@pytest.mark.e2e
def test_browser_shows_catalog_and_user_html_as_inert_text(page):
    page.evaluate("window.__pwned = false")
    send(page, "a hacker sticker pack for my laptop <img src=x onerror=window.__pwned=true>")
    card = page.locator("#cards .rc-card", has_text="Hacker Sticker Pack")
    assert card.count() == 1

    assert PAYLOAD_TITLE in card.locator(".rc-title").inner_text()
    injected = "#cards script, #cards img, #chatbot script, #chatbot img[src='x']"
    assert page.locator(injected).count() == 0
    assert page.locator("#chatbot [data-testid='user']").last.inner_text().strip() == (
        "a hacker sticker pack for my laptop <img src=x onerror=window.__pwned=true>"
    )
    # The transcript goes back and forth with every message: still text, never re-escaped.
    send(page, "thanks, anything cheaper?")
    users = page.locator("#chatbot [data-testid='user']")
    assert users.count() == 2 and "&lt;" not in page.locator("#chatbot").inner_text()
    assert users.first.inner_text().strip().endswith("<img src=x onerror=window.__pwned=true>")
    assert page.locator(injected).count() == 0
    assert page.evaluate("window.__pwned") is False
    assert page.dialogs == []
    assert page.external_requests == []


# --- feedback buttons and the debug panel ------------------------------------------


def test_cards_carry_feedback_buttons_and_marks():
    from chat.frontends.web_cards import card_html

    card = ItemCard(id="x1", title="T", explanation="", reasons=[], score=1.0)
    out = card_html(card, "dislike")
    assert out.count('class="rc-fb"') == 3
    assert {'data-kind="like"', 'data-kind="dislike"', 'data-kind="seen"'} <= {
        part.split(" ")[0] for part in out.split('<button type="button" class="rc-fb" ')[1:]
    }
    assert 'data-kind="dislike" aria-pressed="true"' in out and "rc-gone" in out


def test_a_card_button_gives_feedback_that_the_next_turn_obeys(chat, web_app):
    updates = list(chat.respond("stickers for my laptop", [], None))
    sid = updates[-1][3]
    first = chat.cards[sid][0].id
    cards = chat.feedback(sid, first, "dislike")
    assert "won&#x27;t suggest" in cards or "won't suggest" in cards
    assert f'data-item-id="{first}"' in cards and "rc-gone" in cards
    assert web_app.db.session_exists(sid)
    later = list(chat.respond("stickers for my laptop", updates[-1][0], sid))
    assert first not in [c.id for c in chat.cards[sid]]
    assert later[-1][3] == sid
    # unknown items and kinds are refused with a message, nothing changes
    bad = chat.feedback(sid, "no-such-item", "like")
    assert "Unknown item id" in bad
    assert chat.feedback(None, first, "like") is None


class SlowLLM(BaseLLM):
    """A model that would write 120 words at 20 ms each, and notes when it is closed."""

    name = "slow"

    def __init__(self):
        self.words = 0
        self.closed = False

    def _pieces(self, messages, max_tokens, stop, usage):
        try:
            for i in range(max_tokens):
                time.sleep(0.02)
                self.words += 1
                yield ("Try the Hacker Sticker Pack" if i == 0 else " and more")
        finally:
            self.closed = True


@pytest.fixture
def slow_chat(home):
    from chat.app import App
    from chat.config import load_settings
    from chat.frontends.web_chat import WebChat
    from retrieval import load_catalog

    llm = SlowLLM()  # it writes the copy only: the rules read the messages
    app = App.open(load_settings(embedder="hash", turn={"reading": "rules"}), llm=llm)
    app.store.upsert(load_catalog(WEB_CATALOG).items)
    app.refresh()
    yield WebChat(app), llm
    app.close()


def test_stop_closes_the_turn_so_the_model_stops_and_nothing_is_saved(slow_chat):
    from chat.frontends.web_chat import PENDING, WRITING

    chat, llm = slow_chat
    *_, (history, _, _, sid) = chat.respond("coffee", [], None)  # a first, finished turn
    saved = len(chat.app.db.history(sid))
    before = chat.cards[sid]
    running = chat.respond("stickers for my laptop", history, sid)
    while next(running)[0][-1]["content"] in (PENDING, WRITING):
        pass
    chat.stop(sid)
    *_, (history, cards, _, same) = running

    assert history[-1]["content"].endswith("… (stopped)")
    assert llm.closed and llm.words < 20  # the model stopped, it did not write on to 120
    assert same == sid and len(chat.app.db.history(sid)) == saved  # the turn was not saved
    assert chat.cards[sid] == before and "rc-card" in cards  # the panel shows the last cards
    *_, (history, *_) = chat.respond("coffee", history, sid)  # the session is free again
    assert "(stopped)" not in history[-1]["content"]


def test_clear_during_a_turn_stops_it_silently(slow_chat):
    from chat.frontends.web_chat import PENDING

    chat, llm = slow_chat
    running = chat.respond("stickers for my laptop", [], None)
    sid = next(running)[3]
    while next(running)[0][-1]["content"] == PENDING:
        pass
    assert chat.new_conversation(sid)[3] is None
    assert list(running) == [] and llm.closed  # nothing more is drawn on the cleared page


def test_retry_sends_the_last_message_again_in_its_place(chat, web_app):
    updates = list(chat.respond("stickers <b>for</b> my laptop", [], None))
    history, _, _, sid = updates[-1]
    # the browser sends the transcript back as content parts
    sent_back = [{**m, "content": [{"type": "text", "text": m["content"]}]} for m in history]
    again = list(chat.retry(sent_back, sid))
    history, _, _, same = again[-1]
    assert same == sid and [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == "stickers &lt;b&gt;for&lt;/b&gt; my laptop"  # not re-escaped
    assert history[1]["content"] == html.escape(REPLY, quote=False)
    assert [m.content for m in web_app.db.history(sid) if m.role == "user"] == [
        "stickers <b>for</b> my laptop"
    ] * 2
    assert list(chat.retry([], sid)) == []  # nothing to retry


def test_the_page_ends_on_the_reply_as_stored(chat, web_app):
    """A model reply cut off mid-sentence by its token limit (as a real model's was
    when the page was seen to end early): whatever the copy check makes of it, the
    page's last text is the reply the session stored and reported in `Done`, which
    is what the widget shows."""
    from chat.events import Done, TextDelta, TextReplace

    reply = (
        f"I would pick the {PAYLOAD_TITLE}: it matches what you asked for "
        "(stickers, laptop) and buyers rate it 4.8/5 (75 ratings"
    )
    web_app.llm.fn = lambda messages: reply
    updates = list(chat.respond("stickers for my laptop", [], None))
    sid = updates[-1][3]
    stored = [m.content for m in web_app.db.history(sid) if m.role == "assistant"]
    assert len(stored) == 1 and stored[0]
    assert assistant_texts(updates)[-1] == html.escape(stored[0], quote=False)

    # the session's events say the same: deltas (and any replacement) add up to Done.reply
    shown = ""
    for event in web_app.session(None).turn("stickers for my laptop"):
        if isinstance(event, TextDelta):
            shown += event.text
        elif isinstance(event, TextReplace):
            shown = event.text
        elif isinstance(event, Done):
            assert event.reply == shown.strip() == stored[0]


CUT_OFF_REPLY = (  # cut off mid-sentence: the copy check replaces it after some words showed
    f"I would pick the {PAYLOAD_TITLE}: it matches what you asked for "
    "(stickers, laptop) and buyers rate it 4.8/5 (75 ratings"
)


class WordByWordLLM(BaseLLM):
    """A model that writes CUT_OFF_REPLY a word at a time, as a real one streams."""

    name = "word-by-word"

    def _pieces(self, messages, max_tokens, stop, usage):
        for i, word in enumerate(CUT_OFF_REPLY.split(" ")):
            time.sleep(0.05)
            yield word if i == 0 else " " + word


@pytest.fixture
def replacing_web(home):
    """The real Gradio app (`recochat web --debug`) served on loopback in this
    process, over a model whose copy is replaced after its first words were shown."""
    from chat.app import App
    from chat.config import load_settings
    from chat.frontends.web import build_ui, page_options
    from retrieval import load_catalog

    app = App.open(load_settings(embedder="hash"), llm=WordByWordLLM())
    app.store.upsert(load_catalog(WEB_CATALOG).items)
    app.refresh()
    demo = build_ui(app, debug=True)
    port = free_port()
    demo.queue(default_concurrency_limit=1).launch(
        server_name="127.0.0.1",
        server_port=port,
        quiet=True,
        prevent_thread_lock=True,
        **page_options(),
    )
    try:
        yield app, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
        app.close()


@pytest.mark.e2e
def test_browser_page_ends_on_the_stored_reply_after_a_replacement(browser, replacing_web):
    """The model's first words stream onto the page, then the copy check swaps the
    whole text for the template: the page ends on exactly the reply the session
    stored, and the debug panel says it was replaced."""
    app, url = replacing_web
    page = open_tab(browser, url)
    try:
        send(page, "stickers for my laptop")
        shown = last_reply(page)
        seen = [t.strip() for t in page.evaluate("window.__botTexts")]
        page.locator("#debug", has_text="template").wait_for()
        debug = " ".join(page.locator("#debug").inner_text().split())
    finally:
        page.context.close()
    rows = app.db.execute("SELECT content FROM messages WHERE role = 'assistant'").fetchall()
    stored = [row[0] for row in rows]
    # the template, which starts with the reply's opening (chat/reply/opening.py)
    start = opening("stickers for my laptop", PAYLOAD_TITLE, "en")
    assert len(stored) == 1 and stored[0].startswith(start) and "(€9.50)" in stored[0]
    assert shown == stored[0]
    # the model's words were on the page before the replacement
    assert any("it matches what you asked for" in t for t in seen)
    assert '"source" : "template"' in debug and '"replaced" : true' in debug


def test_example_prompts_come_from_the_catalogs_own_categories(web_app):
    from chat.frontends.web_cards import example_prompts

    facets = web_app.store.facets()
    prompts = example_prompts(facets, web_app.tracker.kind_facet)
    categories = sorted(facets["category"].values, key=lambda v: -facets["category"].values[v])
    assert 2 <= len(prompts) <= 4
    assert [next(c for c in categories if c in p) for p in prompts] == categories[: len(prompts)]
    assert any("under $" in p for p in prompts)
    # a catalog without a category field uses its most widely filled categorical field
    del facets["category"]
    other = example_prompts(facets, None)
    assert other and all(isinstance(p, str) for p in other)
    assert example_prompts({}, None) == []


def test_the_debug_panel_is_there_only_with_debug(web_app):
    from chat.frontends.web import build_ui

    ids = {
        c["props"].get("elem_id")
        for c in build_ui(web_app, debug=True).config["components"]
        if c.get("props")
    }
    assert "debug" in ids


def test_a_browser_opens_only_where_there_is_a_desktop(monkeypatch):
    from chat.frontends import web

    opened = []
    monkeypatch.setattr(web.webbrowser, "open", lambda url: opened.append(url) or True)
    monkeypatch.setattr(web.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert "open http://127.0.0.1:7860 yourself" in web._open_in_browser("http://127.0.0.1:7860")
    monkeypatch.setenv("DISPLAY", ":0")
    assert web._open_in_browser("http://127.0.0.1:7860").startswith("Opened")
    assert opened == ["http://127.0.0.1:7860"]


def test_the_debug_view_shows_the_last_decision_only_when_asked(chat):
    updates = list(chat.respond("stickers for my laptop", [], None))
    sid = updates[-1][3]
    assert chat.debug_view(sid, False) is None
    record = chat.debug_view(sid, True)
    assert record["act"] == "recommend" and record["reason"]


@pytest.mark.e2e
def test_browser_card_buttons_give_feedback_the_next_turn_obeys(page):
    send(page, "wireless earbuds for running")
    first = page.locator("#cards .rc-card").first
    item = first.get_attribute("data-item-id")
    first.locator('button[data-kind="dislike"]').click()
    note = page.locator("#cards .rc-note")
    note.wait_for(timeout=60_000)
    assert "won't suggest" in note.inner_text()
    pressed = page.locator(f'#cards .rc-card[data-item-id="{item}"] button[data-kind="dislike"]')
    assert pressed.get_attribute("aria-pressed") == "true"
    send(page, "more wireless earbuds please")
    assert page.locator(f'#cards .rc-card[data-item-id="{item}"]').count() == 0
    assert page.dialogs == [] and page.external_requests == []


# --- the terminal chat (`recochat chat`), by its transcript ------------------------------


def test_the_terminal_chat_has_help_and_clear_item_numbers(home, monkeypatch, capsys):
    import io

    from chat.app import App
    from chat.config import load_settings
    from chat.frontends.cli import CHAT_HELP, main
    from retrieval import load_catalog

    monkeypatch.setenv("RECOCHAT_EMBEDDER", "hash")
    monkeypatch.setenv("RECOCHAT_LLM", "scripted")
    for name in ("TQDM_DISABLE", "HF_HUB_DISABLE_PROGRESS_BARS"):  # restored afterwards
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    app = App.open(load_settings())
    app.store.upsert(load_catalog(WEB_CATALOG).items)
    app.close()
    lines = ["/help", "/like 7", "/frobnicate", "stickers for my laptop", "/like 7", "/like 1"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join([*lines, "/quit", ""])))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out

    assert CHAT_HELP in out  # /help lists the commands instead of searching for "help"
    assert "There are no items yet: ask for something first" in out  # not "from 1 to 0"
    assert "Unknown command /frobnicate. Type /help for the commands." in out
    assert "  1. " in out and "  3. " in out and "  4. " not in out  # numbered items
    assert "Give the number of one of the items 1 to 3 shown, e.g. /like 1." in out
    first = out.split("  1. ")[1].split(" — ")[0]
    assert first in out.rsplit("bot> ", 1)[1]  # "/like 1" liked the item numbered 1
    assert "\r" not in out  # no progress bars
    assert os.environ.get("TQDM_DISABLE") == "1"


def test_serve_and_web_default_to_different_ports(home):
    from chat.config import load_settings

    settings = load_settings()
    assert settings.port == 7860 and settings.serve_port == 8080
    assert settings.serve_port not in (settings.port, settings.chroma_port)


# --- stop, retry, phone width: the page in a browser, with a slow scripted model ------------


def bot_texts(tab) -> list[str]:
    return [t.strip() for t in tab.locator("#chatbot [data-testid='bot']").all_inner_texts()]


@pytest.mark.e2e
def test_browser_stop_cancels_the_reply_and_retry_asks_again(slow_page):
    page = slow_page
    page.locator("#chat-input textarea").fill("stickers for my laptop")
    page.locator("#send").click()
    # While the turn runs, Send has become Stop and the reply says what is happening.
    page.locator("#stop").wait_for(state="visible")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#chatbot [data-testid=\"bot\"]')]"
        ".some(b => b.innerText.trim() !== '')"
    )
    assert bot_texts(page)[-1] in (PENDING, WRITING) or bot_texts(page)[-1].startswith("Here")
    page.wait_for_function(  # the first words of a reply that takes seconds to write
        "() => { const b = [...document.querySelectorAll('#chatbot [data-testid=\"bot\"]')];"
        " return b.length && b[b.length - 1].innerText.startsWith('Here'); }",
        timeout=30_000,
    )
    page.locator("#stop").click()
    page.locator("#send").wait_for(state="visible", timeout=10_000)
    stopped = bot_texts(page)[-1]
    assert stopped.endswith("(stopped)")
    assert "Stainless" not in stopped  # the scripted reply names three items; it stopped early
    time.sleep(1.5)  # the model does not write on behind the page
    assert bot_texts(page)[-1] == stopped
    page.screenshot(path=str(SHOTS / "web-stopped.png"))

    page.locator("#retry").click()
    page.locator("#stop").wait_for(state="visible")
    page.locator("#send").wait_for(state="visible", timeout=60_000)
    users = page.locator("#chatbot [data-testid='user']").all_inner_texts()
    assert [u.strip() for u in users] == ["stickers for my laptop"]  # asked again, in place
    assert (
        bot_texts(page)[-1].startswith("Here are my picks")
        and "(stopped)" not in bot_texts(page)[-1]
    )
    assert page.locator("#cards .rc-card").count() >= 1
    assert not page.dialogs and not page.external_requests


@pytest.mark.e2e
def test_browser_page_has_labels_examples_and_no_debug_panel(slow_page):
    page = slow_page
    assert page.get_by_label("Your message").count() == 1  # the textarea is labelled
    assert page.locator("#debug").count() == 0  # only with `recochat web --debug`
    examples = page.locator("#rc-examples button")
    assert examples.count() >= 2
    first = examples.first.inner_text().strip()
    assert "electronics" in first or "kitchen" in first or "stationery" in first
    examples.first.click()
    page.locator("#send").wait_for(state="visible", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('#chatbot [data-testid=\"user\"]').length === 1"
    )
    assert page.locator("#chatbot [data-testid='user']").first.inner_text().strip() == first
    page.locator("#cards .rc-card").first.wait_for()  # Send may show before the turn starts
    labels = page.locator("#cards .rc-card").first.locator("button").all_inner_texts()
    assert [t.strip() for t in labels] == ["Like", "Not for me", "Seen it"]  # words, not emoji
    page.locator("#clear").click()
    page.locator("#cards .rc-empty").wait_for()
    assert page.locator("#chatbot [data-testid='bot']").count() == 0


@pytest.mark.e2e
def test_browser_at_phone_width_shows_the_cards_right_under_the_reply(browser, scripted_web_server):
    page = open_tab(browser, scripted_web_server, viewport={"width": 390, "height": 844})
    try:
        page.set_default_timeout(60_000)
        send(page, "stickers for my laptop")
        chat = page.locator("#chatbot").bounding_box()
        cards = page.locator("#cards").bounding_box()
        box = page.locator("#chat-input textarea").bounding_box()
        assert cards["width"] > 300  # the full width of a phone
        assert 0 <= cards["y"] - (chat["y"] + chat["height"]) < 120  # right under the chat
        assert box["y"] > cards["y"] + cards["height"] - 1  # then the message box
        page.screenshot(path=str(SHOTS / "web-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(SHOTS / "web-desktop.png"), full_page=True)
    finally:
        page.context.close()
