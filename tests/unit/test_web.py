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
from pathlib import Path

import pytest

from chat.events import ItemCard

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
    from chat.frontends.web import WebChat

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
    assert "€9.50" in cards and "4.8★ (75 ratings)" in cards and "In stock" in cards
    assert 'class="rc-why"' in cards
    # in-stock items come first, so an out-of-stock one shows when few items fit
    few = panel(list(chat.respond("electronics", [], None)))
    assert "Out of stock" in few  # w2 is out of stock

    # Streamed: the reply grows over several updates, each a prefix of the final text.
    texts = assistant_texts(updates)
    final = texts[-1]
    growing = [t for t in dict.fromkeys(texts) if t]
    assert len(growing) >= 4
    assert all(final.startswith(t.rstrip()) for t in growing)
    assert final == html.escape(REPLY, quote=False)
    # the cards arrive once, before the text (ItemsShown comes first)
    changes = [i for i, u in enumerate(updates) if u[1] is not None]
    assert len(changes) == 1 and texts[changes[0]] == ""


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
    from chat.frontends.web import card_html

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
    assert out.count(html.escape(evil)) == 3  # title, price currency, explanation
    assert "Out of stock" in out


def test_errors_are_the_reply_and_keep_the_cards(chat):
    updates = list(chat.respond("   ", [], None))
    history, cards, _, session_id = updates[-1]
    assert [m["role"] for m in history] == ["assistant"]  # no empty user bubble
    assert history[0]["content"] == "Your message is empty. Tell me what you are looking for."
    assert all(u[1] is None for u in updates)  # the cards panel is left as it was
    assert session_id is not None


def test_a_turn_without_items_empties_the_panel(chat):
    from chat.frontends.web import EMPTY_CARDS

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
    from chat.frontends.web import BUSY

    *_, (_, _, _, sid) = chat.respond("coffee", [], None)
    running = chat.respond("stickers for my laptop", [], sid)
    # advance into the middle of the first turn's stream
    while next(running)[0][-1]["content"] == "":
        pass
    history, *_ = list(chat.respond("coffee", [], sid))[-1]
    assert history[-1]["content"] == BUSY
    list(running)  # the first turn finishes normally and frees the session
    history, *_ = list(chat.respond("coffee", [], sid))[-1]
    assert history[-1]["content"] == html.escape(REPLY, quote=False)


def test_new_conversation_starts_a_fresh_session(chat):
    from chat.frontends.web import EMPTY_CARDS

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
    assert {"chatbot", "chat-input", "send", "new-conversation", "cards"} <= set(by_id)
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

RECOCHAT = str(Path(sys.executable).parent / "recochat")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 180  # the first start converts the model's GGUF (20-60 s)
REPLY_TIMEOUT_MS = 240_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    """`recochat web` on a free port, over a catalog ingested with `recochat ingest`."""
    from conftest import MODEL_CACHE

    base = {k: v for k, v in os.environ.items() if not k.startswith("RECOCHAT_")}
    env = {
        **base,
        "RECOCHAT_HOME": str(tmp_path_factory.mktemp("web-home")),
        "RECOCHAT_CACHE_DIR": str(MODEL_CACHE),
        "RECOCHAT_LLM": "smollm2-135m",
        "RECOCHAT_EMBEDDER": "minilm",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
    }
    ingest = subprocess.run(
        [RECOCHAT, "ingest", str(WEB_CATALOG)], env=env, capture_output=True, text=True, timeout=600
    )
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    assert "6 added" in ingest.stdout

    port = free_port()
    log_path = tmp_path_factory.mktemp("web-log") / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [RECOCHAT, "web", "--host", "127.0.0.1", "--port", str(port)],
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
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        message = f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, web_server):
    """A fresh tab (a fresh Session) that records dialogs and off-machine requests."""
    context = browser.new_context()
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
    tab.goto(web_server)
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
    yield tab
    context.close()


def send(tab, text: str) -> None:
    """Send a message and wait until its reply has finished streaming."""
    users = tab.locator("#chatbot [data-testid='user']").count()
    tab.locator("#chat-input textarea").fill(text)
    tab.locator("#send").click()
    # Finished: our message is shown, the assistant's reply is not empty, and the
    # Chatbot's status tracker is hidden again (it shows while the turn streams).
    tab.wait_for_function(
        """(users) => {
            const chat = document.querySelector('#chatbot');
            const bots = chat.querySelectorAll('[data-testid="bot"]');
            const tracker = chat.querySelector('[data-testid="status-tracker"]');
            return chat.querySelectorAll('[data-testid="user"]').length > users
                && bots.length > 0 && bots[bots.length - 1].innerText.trim() !== ""
                && (!tracker || tracker.classList.contains('hide'));
        }""",
        arg=users,
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
    seen = [t.strip() for t in page.evaluate("window.__botTexts") if t.strip()]
    partial = [t for t in dict.fromkeys(seen) if t != reply]
    assert partial, "the reply appeared all at once instead of streaming"
    assert all(reply.startswith(t) for t in partial)

    cards = page.locator("#cards .rc-card")
    assert cards.count() >= 1
    first = cards.first.inner_text()
    assert cards.first.locator(".rc-title").inner_text().strip()
    assert any(s in first for s in ("$", "€")) and "★" in first and "stock" in first
    assert "Earbuds" in page.locator("#cards").inner_text()
    assert page.locator("#chatbot [data-testid='user']").last.inner_text().strip() == (
        "wireless earbuds for running"
    )

    page.locator("#new-conversation").click()
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
    from chat.frontends.web import card_html

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
