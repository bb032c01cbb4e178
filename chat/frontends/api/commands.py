"""`recochat serve` and `recochat keys …`. Registered by chat/cli.py; FastAPI and
uvicorn load only when `serve` runs, so the other commands stay fast."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from chat import EMPTY_CATALOG, ChatError
from chat.frontends.api.keys import ROLES

EXIT_USER_ERROR = 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve", help="serve the HTTP API, the chat widget and the Gradio chat (one process)"
    )
    p.add_argument("--host", help="default: RECOCHAT_HOST (127.0.0.1)")
    p.add_argument("--port", type=int, help="default: RECOCHAT_SERVE_PORT (8080)")
    p.add_argument("--workers", type=int, help="default: RECOCHAT_WORKERS (1)")
    p.add_argument("--model", help="LLM name, local path or Hugging Face id")
    p.add_argument(
        "--gradio",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also mount the Gradio chat at /chat/ (no API key, no rate limit: private networks "
        "only); default: RECOCHAT_SERVE_GRADIO (off)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("keys", help="create, list and revoke API keys for `recochat serve`")
    keys = p.add_subparsers(dest="keys_command", required=True)
    c = keys.add_parser("create", help="make a key; it is shown once")
    c.add_argument("name", help="what the key is for, e.g. shop-widget")
    c.add_argument(
        "--role",
        choices=ROLES,
        default="chat",
        help="chat: widget and chat APIs; llm: also the raw model; admin: also catalog changes",
    )
    c.add_argument("--rate-limit", help="this key's limit, e.g. '120/minute' (default: setting)")
    c.set_defaults(func=cmd_keys_create)
    ls = keys.add_parser("list", help="list keys (never their secrets)")
    ls.add_argument("--all", action="store_true", help="include revoked keys")
    ls.set_defaults(func=cmd_keys_list)
    r = keys.add_parser("revoke", help="revoke a key by id or name; it stops working at once")
    r.add_argument("key", help="key id (key_…) or name")
    r.set_defaults(func=cmd_keys_revoke)


def cmd_serve(args: argparse.Namespace) -> int:
    from chat import App, load_settings
    from chat.frontends.api.workers import limit_malloc_arenas

    limit_malloc_arenas()  # first: App.open starts threads

    settings = load_settings(
        llm=args.model, host=args.host, serve_port=args.port, workers=args.workers
    )
    if settings.workers < 1:
        raise ChatError(f"--workers must be 1 or more, not {settings.workers}.")
    if settings.workers > 1 and not App.shares_storage(settings):
        raise ChatError(
            f"--workers {settings.workers} needs storage every worker shares: set "
            "RECOCHAT_DATABASE_URL=postgresql://… and RECOCHAT_CHROMA_HOST (a `chroma run` "
            "server). With the embedded SQLite and Chroma, recochat serves from one process "
            "per data directory: use --workers 1."
        )
    app = App.open(settings)  # checks the database and the Chroma server, and migrates once
    try:
        if app.store.count() == 0:  # served anyway: the admin API can ingest one
            print(
                f"Warning: {EMPTY_CATALOG} (or POST /v1/admin/ingest); /readyz says 503 until then.",
                file=sys.stderr,
            )
        if not app.settings.admin_key and not _any_key(app):
            print(
                "No API keys yet: create one with 'recochat keys create NAME' "
                "(the server checks keys on every request; no restart needed).",
                file=sys.stderr,
            )
        from chat.frontends.api.server import serve, serve_workers

        if settings.workers == 1:
            serve(
                app,
                host=settings.host,
                port=settings.serve_port,
                gradio=args.gradio,
            )
            return 0
    finally:
        app.close()
    serve_workers(settings, args.model)  # each worker opens its own App
    return 0


def _any_key(app) -> bool:
    from chat.frontends.api.keys import KeyStore

    store = KeyStore(app.db)
    try:
        return bool(store.list())
    finally:
        store.close()


def _store():
    from chat import DataDir, load_settings, open_database
    from chat.frontends.api.keys import KeyStore

    # No writer lock: a running server shares the database safely (SQLite's WAL, or
    # PostgreSQL).
    settings = load_settings()
    db = open_database(settings.database_url, DataDir(settings.home).database)
    return KeyStore(db, owns_db=True)


def _when(t: float | None) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M") if t else "-"


def cmd_keys_create(args: argparse.Namespace) -> int:
    store = _store()
    try:
        key, secret = store.create(args.name, args.role, args.rate_limit)
    finally:
        store.close()
    print(secret)
    print(
        f"Created {key.id} ({key.name}, role {key.role}"
        + (f", limit {key.rate_limit}" if key.rate_limit else "")
        + "). This is the only time the key is shown: store it now.",
        file=sys.stderr,
    )
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    store = _store()
    try:
        keys = store.list(include_revoked=args.all)
    finally:
        store.close()
    if not keys:
        print("No keys. Create one with 'recochat keys create NAME'.", file=sys.stderr)
        return 0
    print(f"{'id':<14}{'name':<24}{'role':<7}{'limit':<14}{'created':<18}{'last used':<18}revoked")
    for k in keys:
        print(
            f"{k.id:<14}{k.name[:23]:<24}{k.role:<7}{(k.rate_limit or 'default'):<14}"
            f"{_when(k.created_at):<18}{_when(k.last_used_at):<18}{_when(k.revoked_at)}"
        )
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    store = _store()
    try:
        revoked = store.revoke(args.key)
    finally:
        store.close()
    for k in revoked:
        print(f"Revoked {k.id} ({k.name}).")
    return 0
