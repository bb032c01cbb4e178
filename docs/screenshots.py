"""The README's screenshots, taken with headless Chromium against the real app.

In a fresh temporary RECOCHAT_HOME it ingests the demo catalog, starts `recochat web` on a
free loopback port, asks the web chat for "a waterproof tent for two under $150" and waits
for the cards; then it starts `recochat serve` on another port, opens the widget on its demo
page with a new key, asks the same and waits for the cards. It writes

    web-chat.png       the Gradio web chat (1280 px wide)
    widget.png         the widget on the demo shop page (1280 px wide)
    widget-phone.png   the same at phone width (390 px)

The model is the scripted one (fast, the same every run) unless --model names a real one.

    .venv/bin/python docs/screenshots.py                 # rewrites docs/*.png
    .venv/bin/python docs/screenshots.py --model qwen2.5-coder-0.5b
    .venv/bin/python docs/screenshots.py --check         # to a temporary folder; checks only

Needs Debian's Chromium (/usr/bin/chromium, `make browser`) and Playwright for Python.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

DOCS = Path(__file__).resolve().parent
RECOCHAT = str(Path(sys.executable).parent / "recochat")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CHROMIUM_ARGS += ["--disable-component-update", "--disable-sync", "--no-first-run"]
QUESTION = "a waterproof tent for two under $150"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SHOTS = {"web-chat.png": 40_000, "widget.png": 30_000, "widget-phone.png": 15_000}  # min bytes
START_TIMEOUT = 300  # a real model builds its engine cache on first start
REPLY_TIMEOUT_MS = 240_000

# Done: the reply has finished (Send is back, the text is not a pending note), the cards
# are shown, and their pictures have loaded.
WEB_DONE = """([users, pending]) => {
    const bots = document.querySelectorAll('#chatbot [data-testid="bot"]');
    const last = bots.length ? bots[bots.length - 1].innerText.trim() : '';
    const send = document.querySelector('#send');
    const imgs = [...document.querySelectorAll('#cards .rc-card img')];
    return document.querySelectorAll('#chatbot [data-testid="user"]').length > users
        && last !== '' && !pending.includes(last) && send && send.offsetParent !== null
        && imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""
WIDGET_DONE = """() => {
    const root = document.querySelector('#recochat-widget').shadowRoot;
    const bots = root.querySelectorAll('.rc-bot');
    const last = bots[bots.length - 1];
    const imgs = [...root.querySelectorAll('.rc-card img')];
    return last && !last.classList.contains('rc-pending') && last.textContent.trim() !== ''
        && !root.querySelector('.rc-send').disabled
        && imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([RECOCHAT, *args], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"recochat {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


@contextmanager
def server(env: dict[str, str], home: Path, command: str, ready_path: str, *args: str):
    """`recochat COMMAND` on a free loopback port until the block ends; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = home / f"{command}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [RECOCHAT, command, "--host", "127.0.0.1", "--port", str(port), *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"recochat {command} did not start:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(url + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def settle(page, selector: str, quiet_s: float = 2.0) -> None:
    """Wait until the text under `selector` has not changed for `quiet_s` seconds: a
    reply the checks replace arrives after a pause, and the picture must show the end."""
    last, since = None, time.monotonic()
    deadline = since + REPLY_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        text = page.locator(selector).inner_text()
        if text != last:
            last, since = text, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.25)


def shoot_web_chat(browser, url: str, path: Path) -> None:
    from chat.frontends.web_chat import PENDING, WRITING

    page = browser.new_page(viewport=DESKTOP)
    page.goto(url)
    page.locator("#chat-input textarea").fill(QUESTION)
    page.locator("#send").click()
    page.wait_for_function(WEB_DONE, arg=[0, [PENDING, WRITING]], timeout=REPLY_TIMEOUT_MS)
    settle(page, "#chatbot")
    page.screenshot(path=str(path))
    page.close()


def shoot_widget(browser, url: str, paths: dict[str, Path]) -> None:
    """The widget on the demo page: asked once at desktop width, then shown at phone width
    (it keeps the conversation in localStorage, so a reload shows the same exchange)."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(url)
    page.locator(".rc-launcher").click()  # Playwright's CSS locators pierce the shadow root
    page.locator(".rc-input").fill(QUESTION)
    page.locator(".rc-input").press("Enter")
    page.wait_for_function(WIDGET_DONE, timeout=REPLY_TIMEOUT_MS)
    settle(page, ".rc-log")
    page.screenshot(path=str(paths["desktop"]))
    page.set_viewport_size(PHONE)
    page.reload()
    page.locator(".rc-card").first.wait_for()
    page.wait_for_function(WIDGET_DONE, timeout=REPLY_TIMEOUT_MS)
    page.screenshot(path=str(paths["phone"]))
    context.close()


def take(out: Path, model: str | None) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        sys.exit(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="recochat-shots-") as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECOCHAT_")}
        env.update(RECOCHAT_HOME=str(home), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
        env["RECOCHAT_LLM"] = model or "scripted:0.02"
        if "RECOCHAT_CACHE_DIR" in os.environ:  # keep a shared engine cache
            env["RECOCHAT_CACHE_DIR"] = os.environ["RECOCHAT_CACHE_DIR"]
        run(env, "ingest", "--demo")
        key = run(env, "keys", "create", "screenshots").strip()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # One server at a time: one writer on the data directory, one model in memory.
            with server(env, home, "web", "/") as url:
                shoot_web_chat(browser, url + "/", out / "web-chat.png")
            with server(env, home, "serve", "/readyz", "--no-gradio") as url:
                paths = {"desktop": out / "widget.png", "phone": out / "widget-phone.png"}
                shoot_widget(browser, f"{url}/demo?key={key}", paths)
            browser.close()


def check(out: Path) -> None:
    """Each screenshot exists and is a PNG of a plausible size (a blank page is tiny)."""
    for name, least in SHOTS.items():
        path = out / name
        data = path.read_bytes() if path.is_file() else b""
        if not data.startswith(b"\x89PNG") or len(data) < least:
            sys.exit(f"{path}: missing, not a PNG, or under {least} bytes ({len(data)})")
        print(f"{path}: {len(data):,} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DOCS, help="folder for the PNGs (docs/)")
    parser.add_argument("--model", help="a real LLM instead of the scripted one")
    parser.add_argument("--check", action="store_true", help="write to a temporary folder")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory(prefix="recochat-shots-out-") as tmp:
            take(Path(tmp), args.model)
            check(Path(tmp))
    else:
        take(args.out, args.model)
        check(args.out)


if __name__ == "__main__":
    main()
