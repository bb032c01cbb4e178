"""Catalog rows → validated `Item`s.

Any catalog works: a `FieldMap` says which source field is the id, the title,
the text to embed, and which fields play the roles the ranker knows about
(category, price, rating, rating_count, in_stock, brand). Role fields are stored
under those canonical names so filters and features work the same for every
catalog; every other scalar or list field is kept as metadata under its own name.

Validation collects every bad row (file:line, field, reason) before anything is
written, so a failed ingest leaves the store untouched.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retrieval.errors import CatalogError

ROLES = ("category", "brand", "price", "rating", "rating_count", "in_stock", "image", "url")
LINK_ROLES = {"image", "url"}  # shown to people: http(s) URLs, or paths on recochat itself
NUMERIC_ROLES = {"price", "rating", "rating_count"}
MAX_TEXT_CHARS = 8000  # longer texts are cut before embedding; MiniLM reads ~256 tokens anyway


@dataclass(frozen=True)
class FieldMap:
    id: str = "id"
    title: str = "title"
    text: tuple[str, ...] = ("title", "description", "tags")
    category: str | None = "category"
    brand: str | None = "brand"
    price: str | None = "price"
    rating: str | None = "rating"
    rating_count: str | None = "rating_count"
    in_stock: str | None = "in_stock"
    # a picture of the item: https://… or /images/… (served by recochat)
    image: str | None = "image"
    url: str | None = "url"  # the item's page in the shop
    # None keeps every other field as metadata; a tuple keeps only those.
    metadata: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldMap:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise CatalogError(
                f"Unknown field-map keys {sorted(unknown)}; use some of {sorted(known)}."
            )
        data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**data)

    @classmethod
    def from_toml(cls, path: str | Path) -> FieldMap:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise CatalogError(f"Cannot read field map {path}: {e}") from None
        return cls.from_dict(data.get("fields", data))

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


# Field maps for catalogs the project knows; `--preset NAME` picks one.
PRESETS: dict[str, FieldMap] = {
    "shop": FieldMap(),
    "redial": FieldMap(
        id="redial_id",
        title="title",
        text=("title", "genres", "plot", "director", "stars"),
        category=None,
        brand=None,
        price=None,
        rating="ml_mean_rating",
        rating_count="ml_num_ratings",
        in_stock=None,
        # redial_mentions counts mentions in test dialogues: never a signal.
        exclude=("redial_mentions", "ml_link_source", "imdb_id"),
    ),
    # OpenDialKG movies and books: knowledge-graph facets, no plot, price or rating.
    "opendialkg": FieldMap(
        id="odkg_id",
        title="title",
        text=("title", "genres", "director", "stars", "writer", "language"),
        category=None,
        brand=None,
        price=None,
        rating=None,
        rating_count=None,
        in_stock=None,
    ),
}


@dataclass
class Item:
    id: str
    title: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        blob = json.dumps([self.title, self.text, self.meta], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class RowError:
    path: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: field '{self.field}': {self.reason}"


@dataclass
class LoadResult:
    items: list[Item]
    skipped: list[RowError]


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, row) from a .jsonl/.ndjson or .csv file."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(
            f"Catalog file not found: {path}. Give the path to a .jsonl or .csv file."
        )
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".json", ".csv"):
        raise CatalogError(f"Unsupported catalog format '{suffix}' ({path}); use .jsonl or .csv.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad_line = raw[: e.start].count(b"\n") + 1
        raise CatalogError(
            f"{path}:{bad_line}: not valid UTF-8 (byte 0x{raw[e.start]:02x}); "
            "re-save the file as UTF-8 and ingest again."
        ) from None
    if suffix == ".csv":
        yield from _csv_rows(text)
        return
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            yield lineno, {"__error__": f"invalid JSON ({e.msg} at column {e.colno})"}
            continue
        if not isinstance(row, dict):
            yield lineno, {"__error__": "each line must be a JSON object"}
            continue
        yield lineno, row


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    for row in reader:
        yield reader.line_num, {k: _csv_value(v) for k, v in row.items() if k is not None}


def _csv_value(value: str | None) -> Any:
    """CSV has only strings: recover numbers, booleans and '|'-separated lists."""
    if value is None or value.strip() == "":
        return None
    v = value.strip()
    if v.lower() in ("true", "false"):
        return v.lower() == "true"
    if "|" in v:
        return [p.strip() for p in v.split("|") if p.strip()]
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v


def load_catalog(
    path: str | Path, fields: FieldMap | None = None, *, skip_bad: bool = False
) -> LoadResult:
    """Read and validate a whole catalog file. Raises CatalogError listing the bad rows
    unless skip_bad, in which case they are returned in `skipped`."""
    fields = fields or FieldMap()
    items: list[Item] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for lineno, row in read_rows(path):
        if "__error__" in row:
            errors.append(RowError(str(path), lineno, "-", row["__error__"]))
            continue
        item, err = _row_to_item(row, fields)
        if err or item is None:  # _row_to_item gives an item or the error, never neither
            errors.append(RowError(str(path), lineno, *(err or (fields.id, "unreadable row"))))
            continue
        if item.id in first_line:
            errors.append(
                RowError(
                    str(path),
                    lineno,
                    fields.id,
                    f"duplicate id '{item.id}' (first on line {first_line[item.id]})",
                )
            )
            continue
        first_line[item.id] = lineno
        items.append(item)
    if errors and not skip_bad:
        shown = "\n  ".join(str(e) for e in errors[:10])
        more = f"\n  … and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise CatalogError(
            f"{len(errors)} bad row(s) in {path}; nothing was written:\n  {shown}{more}\n"
            "Fix these rows, or pass --skip-bad to ingest the good rows only."
        )
    if not items:
        raise CatalogError(
            f"No valid items in {path}; nothing was written. Is it the right file and field map?"
        )
    return LoadResult(items, errors)


def _not_text(value: Any) -> bool:
    """A string (or one inside a list or object) that is not valid Unicode text: a lone
    surrogate, which JSON's "\\ud800" escape can carry and UTF-8 cannot store."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_not_text(k) or _not_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_not_text(v) for v in value)
    return False


def _row_to_item(row: dict[str, Any], f: FieldMap) -> tuple[Item | None, tuple[str, str] | None]:
    for name, value in row.items():
        if _not_text(name) or _not_text(value):
            shown = name.encode("utf-8", "backslashreplace").decode()
            return None, (shown, "holds a lone surrogate (e.g. \\ud800), which is not text; fix it")
    raw_id = row.get(f.id)
    if (
        raw_id is None
        or (isinstance(raw_id, str) and not raw_id.strip())
        or isinstance(raw_id, (bool, list, dict))
    ):
        return None, (f.id, "missing or empty id")
    if any(ord(c) < 32 or ord(c) == 127 for c in str(raw_id)):
        return None, (f.id, f"must not hold control characters (NUL, newline …), got {raw_id!r}")
    title = row.get(f.title)
    if not isinstance(title, str) or not title.strip():
        return None, (f.title, "missing or empty title")
    parts = []
    for name in f.text:
        value = row.get(name)
        if value is None:
            continue
        parts.append(", ".join(map(str, value)) if isinstance(value, list) else str(value))
    text = ". ".join(p.strip() for p in parts if p.strip())[:MAX_TEXT_CHARS]
    if not text:
        return None, ("/".join(f.text), "no text to embed")

    meta: dict[str, Any] = {"title": title.strip()}
    role_sources = {getattr(f, r): r for r in ROLES if getattr(f, r)}
    skip = {f.id, f.title, *f.exclude}
    for name, value in row.items():
        if name in skip or value is None:
            continue
        role = role_sources.get(name)
        if role is None and f.metadata is not None and name not in f.metadata:
            continue
        key = role or name
        value, err = _clean_value(key, value)
        if err:
            return None, (name, err)
        if value is not None:
            meta[key] = value
    return Item(str(raw_id).strip(), title.strip(), text, meta), None


def _clean_link(value: Any) -> tuple[Any, str | None]:
    """Links are shown to people, so only web addresses and recochat's own paths pass:
    never javascript:, data: or file: URLs."""
    link = value.strip() if isinstance(value, str) else ""
    web = link.lower().startswith(("https://", "http://"))
    own = link.startswith("/") and not link.startswith("//")  # "//host" is another site
    if (web or own) and " " not in link:
        return link, None
    return None, f"must be a web address (https://…) or a path (/images/…), got {value!r}"


def _clean_value(key: str, value: Any) -> tuple[Any, str | None]:
    if key in NUMERIC_ROLES:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            return None, f"must be a number, got {value!r}"
        if value < 0:
            return None, f"must not be negative, got {value}"
        return (int(value) if key == "rating_count" else float(value)), None
    if key in LINK_ROLES:
        return _clean_link(value)
    if key == "in_stock":
        if not isinstance(value, bool):
            return None, f"must be true or false, got {value!r}"
        return value, None
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"must be a finite number, got {value!r}"
    if isinstance(value, (str, int, float, bool)):
        return (value.strip() if isinstance(value, str) else value), None
    if isinstance(value, list):
        if any(isinstance(v, (dict, list)) for v in value):
            return None, "lists may hold only text or numbers"
        values = [str(v).strip() for v in value if str(v).strip()]
        return (values or None), None
    return (
        None,
        f"nested objects are not supported ({type(value).__name__}); flatten it into separate fields",
    )
