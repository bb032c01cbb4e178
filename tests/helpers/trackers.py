"""State trackers over the demo shop and a small movie catalog, built once."""

from pathlib import Path

import retrieval
from chat import StateTracker
from retrieval import PRESETS, load_catalog
from retrieval.items.facets import discover_facets

FIXTURES = Path(__file__).parents[1] / "fixtures"


def _tracker(path, preset="shop"):
    items = load_catalog(path, PRESETS[preset]).items
    metas = {it.id: it.meta for it in items}
    return StateTracker(discover_facets(list(metas.values())), metas)


TRACKERS = {
    "shop": _tracker(retrieval.demo_catalog_path()),
    "movies": _tracker(FIXTURES / "movies_small.jsonl", "redial"),
}
