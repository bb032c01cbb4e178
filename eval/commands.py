"""Subcommands contributed by the eval package (registered by entry point)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("bench", help="measure ingest, recall+rank and LLM speed; print a table")
    p.add_argument(
        "--catalog",
        help="catalog for the ingest/recall figures (default: ../shared/data ReDial movies)",
    )
    p.add_argument(
        "--models", default="smollm2-135m,qwen2.5-coder-0.5b", help="comma-separated LLM names"
    )
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    p.set_defaults(func=_bench)


def _bench(args) -> int:
    from .bench import run_bench

    return run_bench(args)
