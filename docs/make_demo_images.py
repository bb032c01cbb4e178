"""Draw the demo catalog's pictures: one small SVG illustration per category,
written to retrieval/items/data/images/ and named in each demo item's `image`
field as "/images/<category>.svg" (served by recochat itself; no external host).

Run once after changing the categories: python docs/make_demo_images.py
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "retrieval" / "items" / "data"

# category → (background, ink, the shapes of a simple pictogram on a 96×96 grid)
PICTURES = {
    "electronics": (
        "#e8eefc",
        "#2c4a9a",
        '<path d="M28 52a20 20 0 0 1 40 0" fill="none" stroke-width="6"/><rect x="22" y="50" width="12" height="20" rx="4"/><rect x="62" y="50" width="12" height="20" rx="4"/>',
    ),
    "outdoor": (
        "#e6f4ea",
        "#2e6b3a",
        '<path d="M48 22 20 72h56z"/><path d="M48 40 38 72h20z" fill="#e6f4ea"/>',
    ),
    "kitchen": (
        "#fdf0e4",
        "#a0522d",
        '<rect x="26" y="38" width="44" height="30" rx="6"/><rect x="18" y="42" width="8" height="6" rx="2"/><rect x="70" y="42" width="8" height="6" rx="2"/><rect x="30" y="30" width="36" height="6" rx="3"/>',
    ),
    "toys": (
        "#fff4d6",
        "#c27c0e",
        '<circle cx="38" cy="36" r="8"/><circle cx="58" cy="36" r="8"/><circle cx="48" cy="54" r="18"/>',
    ),
    "home": (
        "#f3e8f7",
        "#6b3d86",
        '<path d="M48 24 20 48h8v24h40V48h8z"/><rect x="42" y="56" width="12" height="16" fill="#f3e8f7"/>',
    ),
    "sports": (
        "#e4f3f6",
        "#17677a",
        '<circle cx="48" cy="48" r="24"/><path d="M24 48h48M48 24v48" stroke="#e4f3f6" stroke-width="4"/>',
    ),
    "beauty": (
        "#fce8ef",
        "#a23a63",
        '<rect x="40" y="22" width="16" height="14" rx="3"/><rect x="34" y="36" width="28" height="38" rx="8"/>',
    ),
    "garden": (
        "#edf6e1",
        "#4d7a1e",
        '<path d="M48 74V44" stroke-width="5" fill="none"/><path d="M48 50c-16 0-22-10-22-20 12 0 22 6 22 20zM48 44c0-14 10-20 22-20 0 10-6 20-22 20z"/>',
    ),
    "fashion": (
        "#eeeaf8",
        "#4b3f8f",
        '<path d="M36 24 20 36l8 12 8-6v32h24V42l8 6 8-12-16-12c-2 6-8 10-12 10s-10-4-12-10z"/>',
    ),
    "office": (
        "#eef1f4",
        "#3d4f5f",
        '<rect x="22" y="26" width="52" height="34" rx="4"/><rect x="28" y="32" width="40" height="22" fill="#eef1f4"/><rect x="40" y="62" width="16" height="6"/><rect x="32" y="68" width="32" height="4" rx="2"/>',
    ),
    "books": (
        "#f7efe2",
        "#7a4b1d",
        '<path d="M48 30c-8-6-18-6-26-4v42c8-2 18-2 26 4z"/><path d="M50 30c8-6 18-6 26-4v42c-8-2-18-2-26 4z"/>',
    ),
}


def svg(category: str) -> str:
    background, ink, shapes = PICTURES[category]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96" '
        f'role="img" aria-label="{category}">'
        f'<rect width="96" height="96" rx="12" fill="{background}"/>'
        f'<g fill="{ink}" stroke="{ink}" stroke-linejoin="round">{shapes}</g></svg>\n'
    )


def main() -> None:
    folder = DATA / "images"
    folder.mkdir(exist_ok=True)
    catalog = DATA / "demo_catalog.jsonl"
    rows = [json.loads(line) for line in catalog.read_text(encoding="utf-8").splitlines() if line]
    for category in sorted({r["category"] for r in rows}):
        (folder / f"{category}.svg").write_text(svg(category), encoding="utf-8")
    for row in rows:
        row["image"] = f"/images/{row['category']}.svg"
    catalog.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
