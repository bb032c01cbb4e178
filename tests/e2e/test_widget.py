"""The embeddable widget in headless Chromium (Debian's, driven by Playwright),
on the demo page of a real `recochat serve`: the one-tag embed loads, a message
streams a reply and item cards, a like is recorded, a reload continues the
conversation, and HTML in catalog and model text stays inert text; theming by
attributes, Escape, the hand-off to a person, and failed calls that say so and
offer a retry.

The scripted LLM names the items it was given, pausing 20 ms a word, so the
reply streams visibly and catalog text reaches the model's reply."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from helpers.browser import chromium
from helpers.servers import ApiServer, new_key, run_cli, server_env

SHOTS = Path(os.environ.get("RECOCHAT_SCREENSHOTS", "/tmp"))
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
    env = server_env(
        home,
        llm="scripted:0.02",
        rate_limit="10000/minute",
        handoff_url="https://shop.example/contact",
        handoff_email="help@shop.example",
    )
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
    yield from chromium()


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
    # Nothing became markup: no script or image elements, and no handler ran.
    assert page.locator("#recochat-widget script, #recochat-widget img").count() == 0
    inside = "document.querySelector('#recochat-widget').shadowRoot.querySelectorAll('script, img')"
    assert page.evaluate(f"{inside}.length") == 0
    page.screenshot(path=str(SHOTS / "widget-inert-html.png"))
    assert page.evaluate("window.__pwned") == 0
    assert not page.dialogs and not page.external


# --- look, keyboard, a person to talk to, and failures that show -------------------------

SHADOW = "document.querySelector('#recochat-widget').shadowRoot"


def style_of(page, selector: str, prop: str) -> str:
    return page.evaluate(
        f"getComputedStyle({SHADOW}.querySelector('{selector}')).getPropertyValue('{prop}')"
    )


@pytest.mark.e2e
def test_the_widget_takes_its_look_from_the_script_tags_attributes(page, widget_server):
    server, key = widget_server
    page.goto(f"{server.url}/demo?key={key}&color=%23c2185b&theme=dark&position=left&title=Help")
    page.locator(".rc-launcher").click()
    page.locator(".rc-input").wait_for()
    assert style_of(page, ".rc-launcher", "background-color") == "rgb(194, 24, 91)"
    assert style_of(page, ".rc-head", "background-color") == "rgb(194, 24, 91)"
    assert style_of(page, ".rc-panel", "background-color") == "rgb(29, 33, 39)"  # dark
    assert page.locator(".rc-launcher").bounding_box()["x"] < 100  # bottom left
    assert page.locator(".rc-head-title").text_content() == "Help"
    send(page, "wireless earbuds for running")
    page.screenshot(path=str(SHOTS / "widget-dark-left.png"))

    page.goto(tab_url := page.demo_url)  # the defaults: light, blue, bottom right
    assert tab_url
    page.locator(".rc-launcher").wait_for()
    assert style_of(page, ".rc-launcher", "background-color") == "rgb(36, 86, 211)"
    assert page.locator(".rc-launcher").bounding_box()["x"] > 1000
    assert not page.dialogs and not page.external


@pytest.mark.e2e
def test_escape_closes_the_widget(page):
    page.locator(".rc-launcher").click()
    page.locator(".rc-input").wait_for()
    page.locator(".rc-input").press("Escape")
    page.locator(".rc-panel").wait_for(state="hidden")
    assert page.locator(".rc-launcher").get_attribute("aria-expanded") == "false"
    page.locator(".rc-launcher").click()
    page.locator(".rc-input").wait_for()
    page.keyboard.press("Escape")
    page.locator(".rc-panel").wait_for(state="hidden")


@pytest.mark.e2e
@pytest.mark.parametrize(
    "text", ["can I talk to a person?", "human please", "agent", "I want to speak with someone"]
)
def test_asking_for_a_person_offers_the_shops_hand_off(page, text):
    page.locator(".rc-launcher").click()
    page.locator(".rc-input").fill(text)
    page.locator(".rc-input").press("Enter")
    box = page.locator(".rc-handoff")
    box.wait_for(timeout=10_000)
    assert box.locator("a.rc-handoff-link").get_attribute("href") == "https://shop.example/contact"
    assert box.locator("a.rc-handoff-email").get_attribute("href") == "mailto:help@shop.example"
    assert page.locator(".rc-handoff-ask").count() == 0  # no webhook configured here
    if text.startswith("can I"):
        page.screenshot(path=str(SHOTS / "widget-handoff.png"))
    assert not page.dialogs and not page.external


@pytest.mark.e2e
def test_a_message_about_humans_is_not_a_request_for_one(page):
    page.locator(".rc-launcher").click()
    send(page, "a book about the human body")
    assert page.locator(".rc-handoff").count() == 0


@pytest.mark.e2e
def test_a_failed_feedback_call_is_shown_with_a_retry(page):
    page.locator(".rc-launcher").click()
    send(page, "wireless earbuds for running")
    page.route("**/feedback", lambda route: route.fulfill(status=500, body="{}"))
    first = page.locator(".rc-card").first
    first.locator(".rc-like").click()
    note = first.locator(".rc-fb-note.rc-error")
    note.wait_for()
    assert "Not saved" in note.text_content()
    assert first.locator(".rc-like").get_attribute("aria-pressed") == "false"
    page.screenshot(path=str(SHOTS / "widget-feedback-failed.png"))
    page.unroute("**/feedback")
    note.locator(".rc-retry").click()
    page.wait_for_function(
        f"() => {SHADOW}.querySelector('.rc-card .rc-like').getAttribute('aria-pressed') === 'true'"
    )
    assert first.locator(".rc-fb-note.rc-error").count() == 0


@pytest.mark.e2e
def test_a_failed_message_is_shown_with_a_retry_that_sends_it_again(page):
    page.locator(".rc-launcher").click()
    page.route("**/messages", lambda route: route.abort())
    page.locator(".rc-input").fill("wireless earbuds for running")
    page.locator(".rc-input").press("Enter")
    page.locator(".rc-bot.rc-error").wait_for()
    page.unroute("**/messages")
    page.locator(".rc-retry").click()
    page.wait_for_function(
        f"() => [...{SHADOW}.querySelectorAll('.rc-bot')].some("
        "b => b.textContent.startsWith('Here are my picks'))"
    )
    assert page.locator(".rc-bot.rc-error").count() == 0
    assert page.locator(".rc-user").count() == 1  # sent again, not twice
