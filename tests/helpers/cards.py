"""Item cards of the demo shop, as the ranker would make them, for copy tests."""

from chat.events import ItemCard
from helpers.trackers import TRACKERS

METAS = TRACKERS["shop"].metas


def shop_card(item_id: str, reasons: list[dict] | None = None) -> ItemCard:
    m = METAS[item_id]
    return ItemCard(
        item_id,
        m["title"],
        "matches: coffee-grinder",
        list(reasons or []),
        1.0,
        price=m["price"],
        currency="USD",
        rating=m["rating"],
        rating_count=m["rating_count"],
    )
