"""The targets of simulated seekers: gold items of a turns file (the items the
human recommender picked, `rec`), found in the catalog by title, and the facts a
person who knows only the item's attributes could say about it.

Nothing here is written for one dataset: any catalog whose items carry some of
the fields in FACT_FIELDS (lists or single values) gives its seekers facts; a
field a catalog lacks is simply never said.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# fact kind -> the catalog field it comes from
FACT_FIELDS = {
    "genre": "genres",
    "star": "stars",
    "director": "director",
    "writer": "writer",
    "era": "year",
    "plot": "plot",
}
# fields that may hold other names of an item (read by the leakage guard)
ALIAS_FIELDS = ("aka", "alt_titles", "alternative_titles", "original_title")
PLOT_WORDS = 3  # plot words a seeker remembers
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")


@dataclass
class Target:
    id: str
    title: str
    facts: dict[str, list[str]]  # kind -> values, most memorable first
    aliases: list[str] = field(default_factory=list)  # other names from the catalog

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "aliases": self.aliases, "facts": self.facts}


def facts_of(meta: dict[str, Any], stopwords: frozenset[str] = frozenset()) -> dict[str, list[str]]:
    """What a person may know of an item: its genres, up to two stars, the director and
    a writer, its decade, and a few content words of its plot (never its title)."""
    facts: dict[str, list[str]] = {}
    for kind, name in FACT_FIELDS.items():
        value = meta.get(name)
        if value in (None, "", []):
            continue
        if kind == "era":
            if isinstance(value, (int, float)) and value > 1800:
                facts[kind] = [f"{int(value) // 10 * 10}s"]
        elif kind == "plot":
            words = [w.lower() for w in _WORD.findall(str(value)) if "'" not in w]
            words = [w for w in dict.fromkeys(words) if w not in stopwords]
            if words:
                facts[kind] = words
        else:
            values = [str(v) for v in (value if isinstance(value, list) else [value]) if v]
            limit = {"star": 2, "director": 1, "writer": 1}.get(kind)
            facts[kind] = values[:limit] if limit else values
    return facts


def aliases_of(meta: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name in ALIAS_FIELDS:
        value = meta.get(name)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v.strip():
                out.append(v.strip())
    return out


def gold_titles(turns_file: str | Path) -> list[str]:
    """The gold titles of a turns file, each once, in file order."""
    seen: dict[str, None] = {}
    with open(turns_file, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise ValueError(f"{turns_file}:{number}: not a JSON line") from None
            for title in row.get("rec") or []:
                if isinstance(title, str) and title.strip():
                    seen.setdefault(title.strip(), None)
    return list(seen)


def pick_targets(
    turns_file: str | Path,
    metas: dict[str, dict[str, Any]],
    n: int,
    seed: int,
    stopwords: frozenset[str] = frozenset(),
    kinds: Collection[str] = tuple(FACT_FIELDS),
) -> list[Target]:
    """`n` gold items found in the catalog (by exact title, case-insensitive), drawn
    with a fixed seed; items the catalog says nothing about are left out. The seekers
    know only the facts of `kinds`; the same items are drawn whatever the kinds, so
    runs that differ only in them compare like with like."""
    by_title = {str(m.get("title", "")).lower(): i for i, m in sorted(metas.items())}
    found = []
    for title in gold_titles(turns_file):
        item = by_title.get(title.lower())
        if item is None:
            continue
        facts = facts_of(metas[item], stopwords)
        if facts:
            found.append(Target(item, str(metas[item]["title"]), facts, aliases_of(metas[item])))
    found = list({t.id: t for t in found}.values())
    picked = random.Random(seed).sample(found, min(n, len(found)))
    for target in picked:
        target.facts = {k: v for k, v in target.facts.items() if k in kinds}
    return picked
