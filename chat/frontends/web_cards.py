"""What the web chat draws: item cards, the page's CSS, and example prompts.

Everything from the catalog, the model or the user is shown as text, never as
HTML: every string that goes into the cards panel or the Chatbot is escaped
here first. Button labels are words, not emoji, so they read the same on a
machine without an emoji font.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from chat import ItemCard, money
from chat.frontends.images import Images

EMPTY_CARDS = '<p class="rc-empty">Recommendations will appear here.</p>'
FEEDBACK_BUTTONS = (("like", "Like"), ("dislike", "Not for me"), ("seen", "Seen it"))
MAX_EXAMPLES = 4

CARDS_CSS = """
.rc-cards { display: flex; flex-direction: column; gap: 0.6rem; margin: 0; padding: 0; }
.rc-card { list-style: none; display: flex; gap: 0.7rem; border: 1px solid var(--border-color-primary);
  border-radius: var(--radius-lg); padding: 0.7rem 0.9rem; background: var(--block-background-fill); }
.rc-card img { width: 64px; height: 64px; object-fit: cover; border-radius: var(--radius-md); flex: none; }
.rc-body { flex: 1; min-width: 0; }
.rc-num { color: var(--body-text-color-subdued); font-weight: 600; margin-right: 0.3rem; }
.rc-title { font-weight: 600; overflow-wrap: anywhere; }
.rc-brand { color: var(--body-text-color-subdued); font-size: 0.85rem; }
.rc-facts { display: flex; flex-wrap: wrap; gap: 0.3rem 0.9rem; margin-top: 0.3rem; }
.rc-price { font-weight: 600; }
.rc-stock-out { color: var(--error-text-color, #b91c1c); }
.rc-why { margin-top: 0.3rem; color: var(--body-text-color-subdued); font-size: 0.92em;
  overflow-wrap: anywhere; }
.rc-empty { color: var(--body-text-color-subdued); }
.rc-actions { display: flex; flex-wrap: wrap; gap: 0.4rem; margin-top: 0.45rem; }
.rc-fb { border: 1px solid var(--border-color-primary); border-radius: var(--radius-md);
  padding: 0.15rem 0.6rem; font-size: 0.85em; background: transparent; cursor: pointer;
  color: var(--body-text-color); }
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
# The page. At phone width the two columns dissolve into one flow, so the cards sit
# right under the conversation (not below a tall empty chat box), then the input.
PAGE_CSS = """
#rc-examples { gap: 0.4rem; flex-wrap: wrap; }
#rc-examples button { flex: 0 1 auto; min-width: 0; }
@media (max-width: 700px) {
  #rc-layout { flex-direction: column; flex-wrap: nowrap; }
  #rc-chat-col, #rc-side-col { display: contents; }
  #chatbot { order: 1; height: auto !important; min-height: 8rem; max-height: 55vh; }
  #rc-side-col > * { order: 2; }
  #rc-input-row { order: 3; }
  #rc-controls { order: 4; }
  #rc-examples { order: 5; }
}
"""


def as_text(text: str) -> str:
    """Chatbot content the browser shows literally. The Chatbot inserts message text
    as (sanitized) HTML even with Markdown off, so escape it; its markdown-disabled
    style is `white-space: pre-line`, which keeps the line breaks. Quotes are safe
    in element text and stay unescaped, so apostrophes read normally."""
    return html.escape(text, quote=False)


def message_text(message: Mapping[str, Any]) -> str:
    """The plain text of a Chatbot message as the browser sends it back (a string,
    or a list of content parts), unescaped: what the user typed."""
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return html.unescape(content) if isinstance(content, str) else ""


def _image_url(value: str | None, images: Images | None = None) -> str | None:
    """An http(s) address, or a picture recochat has ("/images/…", inlined); nothing else."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        return value
    same_site = not parts.scheme and not parts.netloc and value.startswith("/")
    if same_site and images is not None:
        return images.inline(value)
    return value if same_site else None


def _facts(card: ItemCard) -> str:
    facts = []
    if card.price is not None:
        facts.append(
            f'<span class="rc-price">{html.escape(money(card.price, card.currency))}</span>'
        )
    said = {r.get("signal") for r in card.reasons}  # the explanation's own line says these
    if card.rating is not None and "rating" not in said:
        count = f" ({card.rating_count:,} ratings)" if card.rating_count else ""
        facts.append(f'<span class="rc-rating">{card.rating:.1f}★{html.escape(count)}</span>')
    if card.in_stock is not None:
        stock = ("in", "In stock") if card.in_stock else ("out", "Out of stock")
        facts.append(f'<span class="rc-stock rc-stock-{stock[0]}">{stock[1]}</span>')
    return "".join(facts)


def _maker(card: ItemCard) -> str:
    """The brand and what tells the card apart from a same-titled one."""
    parts = [p for p in (card.brand, card.detail) if p]
    return f'<div class="rc-brand">{html.escape(" · ".join(parts))}</div>' if parts else ""


def card_html(
    card: ItemCard,
    mark: str | None = None,
    number: int | None = None,
    images: Images | None = None,
) -> str:
    why = f'<div class="rc-why">{html.escape(card.explanation)}</div>' if card.explanation else ""
    buttons = "".join(
        f'<button type="button" class="rc-fb" data-kind="{kind}" '
        f'aria-pressed="{"true" if mark == kind else "false"}">{text}</button>'
        for kind, text in FEEDBACK_BUTTONS
    )
    image = _image_url(card.image, images)
    picture = (
        f'<img src="{html.escape(image, quote=True)}" alt="" loading="lazy" '
        'referrerpolicy="no-referrer">'
        if image
        else ""
    )
    num = f'<span class="rc-num">{number}.</span>' if number else ""
    gone = " rc-gone" if mark in ("dislike", "seen") else ""
    return (
        f'<li class="rc-card{gone}" data-item-id="{html.escape(card.id, quote=True)}">{picture}'
        f'<div class="rc-body"><div class="rc-title">{num}{html.escape(card.title)}</div>'
        f"{_maker(card)}"
        f'<div class="rc-facts">{_facts(card)}</div>{why}'
        f'<div class="rc-actions" role="group" aria-label="{html.escape(card.title, quote=True)}">'
        f"{buttons}</div></div></li>"
    )


def cards_html(
    cards: list[ItemCard],
    marks: dict[str, str] | None = None,
    note: str = "",
    images: Images | None = None,
) -> str:
    if not cards:
        return EMPTY_CARDS
    marks = marks or {}
    head = f'<p class="rc-note" role="status">{html.escape(note)}</p>' if note else ""
    body = "".join(card_html(c, marks.get(c.id), i, images) for i, c in enumerate(cards, 1))
    return f'{head}<ol class="rc-cards">{body}</ol>'


def example_prompts(facets: Mapping[str, Any], kind_facet: str | None) -> list[str]:
    """A few first messages built from the catalog's own categories: the values of
    the facet that says what kind of item it is (or, without one, of the most
    widely filled categorical facet), commonest first."""
    names = [kind_facet] if kind_facet is not None and kind_facet in facets else []
    names += sorted(
        (n for n, f in facets.items() if f.kind == "categorical" and n != kind_facet),
        key=lambda n: -facets[n].coverage,
    )
    for name in names:
        values = [v for v, _ in sorted(facets[name].values.items(), key=lambda kv: -kv[1])]
        if len(values) >= 2:
            break
    else:
        return []
    price, currency = facets.get("price"), facets.get("currency")
    under = price.quartiles[1] if price is not None and price.quartiles else None
    unit = max(currency.values, key=currency.values.get) if currency and currency.values else None
    prompts = []
    for i, value in enumerate(values[:MAX_EXAMPLES]):
        if i == 1 and under:
            prompts.append(f"{value} under {money(round(under), unit).removesuffix('.00')}")
        else:
            prompts.append(f"Show me something in {value}")
    return prompts
