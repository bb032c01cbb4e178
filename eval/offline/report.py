"""Printing tables, writing JSON and PNG plots for the evaluation commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def table(rows: list[dict[str, Any]], columns: list[str], title: str = "") -> str:
    """A plain fixed-width table; numbers to 3 decimals."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}"
        return "" if v is None else str(v)

    body = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [
        max(len(c), *(len(b[i]) for b in body)) if body else len(c) for i, c in enumerate(columns)
    ]
    lines = [title] if title else []
    lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    for b in body:
        lines.append(
            "  ".join(
                (v.rjust(w) if i else v.ljust(w))
                for i, (v, w) in enumerate(zip(b, widths, strict=True))
            )
        )
    return "\n".join(lines)


def markdown_rows(columns: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table's lines; the first column left-aligned, the others right."""
    lines = ["| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(columns) - 1)) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def beyond_table(beyond: dict[str, dict[str, Any]], title: str) -> str:
    """The beyond-accuracy figures of several rankers as one table (exposure per
    category stays in the JSON)."""
    rows = [
        {"ranker": k, **{c: v for c, v in b.items() if c != "category_exposure"}}
        for k, b in beyond.items()
    ]
    columns = [
        "ranker",
        "coverage",
        "gini",
        "intra_list_similarity",
        "long_tail_share",
        "catalog_tail_share",
    ]
    return table(rows, columns, title)


def write_json(path: str | Path, data: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_plain), encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def plot_curves(
    path: str | Path,
    curves: dict[str, tuple[list[float], list[float]]],
    xlabel: str,
    ylabel: str,
    title: str,
) -> Path | None:
    """One line per curve; returns None (and says so) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no plot: pip install matplotlib==3.11.2)")
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (xs, ys) in curves.items():
        ax.plot(xs, ys, marker="o", markersize=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
