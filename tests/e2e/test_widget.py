"""The embeddable widget in headless Chromium (Debian's, driven by Playwright),
on the demo page of a real `recochat serve`: the one-tag embed loads, a message
streams a reply and item cards, a like is recorded, a reload continues the
conversation, and HTML in catalog and model text stays inert text.

The scripted LLM names the items it was given, pausing 20 ms a word, so the
reply streams visibly and catalog text reaches the model's reply."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from helpers.servers import ApiServer, new_key, run_cli, server_env

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("RECOCHAT_SCREENSHOTS", "/tmp"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAYLOAD = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>"
ROWS = [
    {
        "id": "p1",
        "title": f"Pwn Sticker {PAYLOAD}",
        "description": f"Laptop stickers. {PAYLOAD} Vinyl, 40 pieces.",
        "category": "stationery",
        "brand": "<b>Bold</b>",
        "price": 9.5,
        "currency": "EUR",
        "rating": 4.8,
        "rating_count": 75,
        "in_stock": True,
        "image": "javascript:window.__pwned=3",
    },
    {
        "id": "e1",
        "title": "Trail Runner Wireless Earbuds",
        "description": "Sweat-proof wireless earbuds that stay put on long runs.",
        "category": "electronics",
        "price": 39.0,
        "currency": "USD",
        "rating": 4.3,
        "rating_count": 610,
        "in_stock": True,
    },
    {
        "id": "e2",
        "title": "Pocket Bluetooth Speaker",
        "description": "A small waterproof speaker for the beach.",
        "category": "electronics",
        "price": 29.0,
        "currency": "USD",
        "rating": 4.1,
        "rating_count": 340,
        "in_stock": True,
    },
    {
        "id": "k1",
        "title": "Ceramic Pour-Over Coffee Dripper",
        "description": "A ceramic dripper for bright pour-over coffee.",
        "category": "kitchen",
        "price": 24.0,
        "currency": "USD",
        "rating": 4.5,
        "rating_count": 980,
        "in_stock": True,
    },
]


@pytest.fixture(scope="module")
def widget_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("widget-home")
    catalog = home.parent / "widget_catalog.jsonl"
    catalog.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    env = server_env(home, llm="scripted:0.02", rate_limit="10000/minute")
    run_cli(env, "ingest", str(catalog))
    key = new_key(env, "widget")
    server = ApiServer(env, tmp_path_factory.mktemp("widget-log") / "server.log", "--no-gradio")
    try:
        server.wait()
        yield server, key
    finally:
        server.stop()


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
def page(browser, widget_server):
    """The demo page in a fresh browser profile, recording dialogs and off-machine requests."""
    server, key = widget_server
    context = browser.new_context()
    tab = context.new_page()
    tab.dialogs, tab.external = [], []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on(
        "request",
        lambda r: None if r.url.startswith(server.url) else tab.external.append(r.url),
    )
    tab.demo_url = f"{server.url}/demo?key={key}"
    tab.goto(tab.demo_url)
    yield tab
    context.close()


# Playwright's CSS locators pierce the widget's open shadow root.
WATCH_REPLY = """() => {
    const root = document.querySelector('#recochat-widget').shadowRoot;
    window.__replies = [];
    new MutationObserver(() => {
        const bots = root.querySelectorAll('.rc-bot');
        if (bots.length) window.__replies.push(bots[bots.length - 1].textContent);
    }).observe(root, {subtree: true, childList: true, characterData: true});
}"""


def send(page, text: str) -> str:
    bots = page.locator(".rc-bot").count()
    page.locator(".rc-input").fill(text)
    page.locator(".rc-input").press("Enter")
    page.wait_for_function(
        """(bots) => {
            const root = document.querySelector('#recochat-widget').shadowRoot;
            const all = root.querySelectorAll('.rc-bot');
            const last = all[all.length - 1];
            return all.length > bots && !last.classList.contains('rc-pending')
                && last.textContent.trim() !== '';
        }""",
        arg=bots,
        timeout=60_000,
    )
    return page.locator(".rc-bot").last.text_content()


@pytest.mark.e2e
def test_the_widget_streams_cards_records_a_like_and_survives_a_reload(page, widget_server):
    server, key = widget_server
    page.locator(".rc-launcher").click()
    page.locator(".rc-input").wait_for()
    assert page.locator(".rc-bot").first.text_content().startswith("Hi!")  # the greeting
    page.evaluate(WATCH_REPLY)

    reply = send(page, "wireless earbuds for running")
    assert reply.startswith("Here are my picks: Trail Runner Wireless Earbuds")
    partial = [t for t in dict.fromkeys(page.evaluate("window.__replies")) if t and t != reply]
    assert len(partial) >= 3, "the reply appeared at once instead of streaming"
    assert all(reply.startswith(t) for t in partial)

    cards = page.locator(".rc-card")
    assert cards.count() >= 1
    first = cards.first
    assert first.locator(".rc-title").text_content() == "Trail Runner Wireless Earbuds"
    assert "$39.00" in first.locator(".rc-price").text_content()
    assert first.locator(".rc-why").text_content()
    item_id = first.get_attribute("data-item-id")

    first.locator(".rc-like").click()
    page.wait_for_function(
        """() => document.querySelector('#recochat-widget').shadowRoot
            .querySelector('.rc-card .rc-like').getAttribute('aria-pressed') === 'true'"""
    )
    sid = page.evaluate(f"localStorage.getItem('recochat:{server.url}:session')")
    history = httpx.get(
        f"{server.url}/v1/sessions/{sid}", headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert [(f["item_id"], f["kind"]) for f in history["feedback"]] == [(item_id, "like")]

    page.reload()
    page.locator(".rc-user").first.wait_for()  # the panel reopens with the conversation
    assert page.locator(".rc-user").first.text_content() == "wireless earbuds for running"
    assert page.locator(".rc-bot").last.text_content() == reply
    assert page.locator(".rc-card").first.get_attribute("data-item-id") == item_id
    assert page.locator(".rc-card .rc-like").first.get_attribute("aria-pressed") == "true"

    second = send(page, "something cheaper")
    assert second.startswith("Here are my picks")
    history = httpx.get(
        f"{server.url}/v1/sessions/{sid}", headers={"Authorization": f"Bearer {key}"}
    ).json()
    assert [m["content"] for m in history["messages"] if m["role"] == "user"] == [
        "wireless earbuds for running",
        "something cheaper",
    ]
    assert not page.dialogs and not page.external


@pytest.mark.e2e
def test_catalog_and_model_html_render_as_inert_text(page):
    page.evaluate("window.__pwned = 0")
    page.locator(".rc-launcher").click()
    user_text = "pwn sticker for my laptop <img src=x onerror=window.__pwned=4>"
    reply = send(page, user_text)

    card = page.locator(".rc-card", has_text="Pwn Sticker")
    assert card.count() == 1
    assert card.locator(".rc-title").text_content() == f"Pwn Sticker {PAYLOAD}"
    assert PAYLOAD in reply  # the model quoted the catalog: shown as it is
    assert page.locator(".rc-user").last.text_content() == user_text
    # Nothing became markup: no script or image elements, the javascript: image was
    # dropped, and no handler ran.
    assert page.locator("#recochat-widget script, #recochat-widget img").count() == 0
    inside = "document.querySelector('#recochat-widget').shadowRoot.querySelectorAll('script, img')"
    assert page.evaluate(f"{inside}.length") == 0
    page.screenshot(path=str(SHOTS / "widget-inert-html.png"))
    assert page.evaluate("window.__pwned") == 0
    assert not page.dialogs and not page.external
