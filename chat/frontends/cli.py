"""`recochat` command line: ingest, chat, web, doctor (+ commands that other
packages register under the `recochat.commands` entry-point group, e.g. eval).

Domain errors become one line on stderr and exit code 2; nothing else here
knows about error types."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
from collections.abc import Callable

from chat import USER_ERRORS

EXIT_USER_ERROR = 2


def _open_app(args):
    from chat import App, load_settings

    return App.open(load_settings(llm=getattr(args, "model", None)))


def _load_llm(app) -> None:
    """Load the model before the first message, so a bad name fails at start."""
    print(f"Loading {app.settings.llm} …", file=sys.stderr, flush=True)
    app.warm_up()


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    import retrieval
    from retrieval import PRESETS, FieldMap, load_catalog

    if args.demo == (args.path is not None):
        print("Give a catalog file, or --demo for the shipped demo catalog.", file=sys.stderr)
        return EXIT_USER_ERROR
    path = retrieval.demo_catalog_path() if args.demo else args.path
    fields = FieldMap.from_toml(args.fields) if args.fields else PRESETS[args.preset]
    overrides = {
        "id": args.id_field,
        "title": args.title_field,
        "text": tuple(args.text_fields.split(",")) if args.text_fields else None,
        "metadata": tuple(args.meta_fields.split(",")) if args.meta_fields else None,
    }
    fields = FieldMap.from_dict(
        {**fields.to_dict(), **{k: v for k, v in overrides.items() if v is not None}}
    )
    loaded = load_catalog(path, fields, skip_bad=args.skip_bad)
    app = _open_app(args)
    try:

        def progress(batches, total, phase):
            if total:  # a plain line per phase, also in logs (the bar shows on a terminal)
                print(f"{phase.capitalize()} {total} items …", file=sys.stderr, flush=True)
            bar = tqdm(total=total, unit="item", desc=phase, disable=None)
            for batch in batches:
                yield batch
                bar.update(len(batch))
            bar.close()

        report = app.store.upsert(loaded.items, sync=args.sync, progress=progress)
        if report.added or report.updated or report.deleted:
            app.catalog_changed()  # running workers on the same database follow
        facets = app.store.facets()
        print(
            f"Ingested {path}: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.deleted} deleted"
            + (f", {len(loaded.skipped)} bad rows skipped" if loaded.skipped else "")
            + f". {app.store.count()} items in the store."
        )
        for err in loaded.skipped[:10]:
            print(f"  skipped {err}")
        print(f"Facets: {', '.join(f'{n} ({f.kind})' for n, f in sorted(facets.items()))}")
    finally:
        app.close()
    return 0


CHAT_HELP = """Commands:
  /help          this list
  /like N        more like item N (the number in front of it)
  /dislike N     not for me: never suggest item N again
  /seen N        I have seen or have item N: leave it out
  /debug         show or hide each turn's decisions
  /quit          leave (also /exit or Ctrl+D)
Anything else is a message to the assistant."""
FEEDBACK_COMMANDS = ("/like", "/dislike", "/seen")


def _feedback_command(session, command: list[str]) -> str:
    """/like N, /dislike N, /seen N on the items of the last recommendation."""
    from chat import InputError

    shown = session.state.shown
    if not shown:
        return "There are no items yet: ask for something first, then /like 1 likes the first."
    try:
        number = int(command[1]) if len(command) == 2 else 0
    except ValueError:
        number = 0
    if not 1 <= number <= len(shown):
        items = "item 1" if len(shown) == 1 else f"items 1 to {len(shown)}"
        return f"Give the number of one of the {items} shown, e.g. {command[0]} 1."
    try:
        return session.feedback(shown[number - 1], command[0][1:]).message
    except InputError as e:
        return str(e)


def _print_items(items) -> None:
    from chat import money

    for i, card in enumerate(items, 1):
        price = f" — {money(card.price, card.currency)}" if card.price is not None else ""
        maker = " · ".join(p for p in (card.brand, card.detail) if p)
        print(f"  {i}. {card.title}{f' ({maker})' if maker else ''}{price}")
        if card.explanation:
            print(f"     {card.explanation}")
    print("  (/like N, /dislike N or /seen N with the item's number; /help for more)")


def _chat_turn(session, text: str, debug: bool) -> None:
    import json

    from chat import Done, ErrorEvent, ItemsShown, TextDelta, TextReplace

    started = False
    for event in session.turn(text):
        if isinstance(event, ItemsShown):
            _print_items(event.items)
        elif isinstance(event, TextDelta):
            if not started:
                print("bot> ", end="", flush=True)
                started = True
            print(event.text, end="", flush=True)
        elif isinstance(event, TextReplace):  # the checked copy, in full
            print(f"\nbot> (corrected) {event.text}", end="", flush=True)
        elif isinstance(event, ErrorEvent):
            print(f"bot> {event.message}")
        elif isinstance(event, Done):
            print()
            if debug:
                print(json.dumps(event.debug, ensure_ascii=False, indent=1, default=str))


def cmd_chat(args: argparse.Namespace) -> int:
    # A terminal chat prints replies, not the progress bars of model loading.
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    app = _open_app(args)
    try:
        app.require_catalog()
        _load_llm(app)
        session = app.session(args.session)
        print(f"recochat ({app.settings.llm}) — session {session.id}. Type /help for the commands.")
        debug = False
        while True:
            try:
                text = input("you> ")
            except EOFError:
                print()
                break
            command = text.split()
            name = command[0].lower() if command and command[0].startswith("/") else None
            if name in ("/quit", "/exit"):
                break
            if name == "/help":
                print(CHAT_HELP)
            elif name == "/debug":
                debug = not debug
                print(f"debug {'on' if debug else 'off'}")
            elif name in FEEDBACK_COMMANDS:
                print(f"bot> {_feedback_command(session, [name, *command[1:]])}")
            elif name is not None:
                print(f"Unknown command {command[0]}. Type /help for the commands.")
            else:
                _chat_turn(session, text, debug)
    finally:
        app.close()
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from chat.frontends.web import serve

    app = _open_app(args)
    try:
        app.require_catalog()
        _load_llm(app)
        serve(
            app,
            host=args.host or app.settings.host,
            port=args.port or app.settings.port,
            debug=args.debug,
            open_browser=args.open,
        )
    finally:
        app.close()
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from chat.frontends.doctor import run_doctor

    return run_doctor()


def _add_ingest(sub) -> None:
    p = sub.add_parser("ingest", help="index a catalog file (JSONL or CSV) into the item store")
    p.add_argument("path", nargs="?", help="catalog file (.jsonl or .csv)")
    p.add_argument(
        "--demo", action="store_true", help="ingest the demo shop catalog shipped with recochat"
    )
    p.add_argument(
        "--preset",
        default="shop",
        choices=["shop", "redial"],
        help="field map preset (default: shop)",
    )
    p.add_argument("--fields", help="TOML file with a [fields] field map (overrides --preset)")
    p.add_argument("--id-field", help="source field holding the item id")
    p.add_argument("--title-field", help="source field holding the title")
    p.add_argument("--text-fields", help="comma-separated fields to embed, e.g. title,description")
    p.add_argument(
        "--meta-fields", help="comma-separated fields to keep as metadata (default: all)"
    )
    p.add_argument(
        "--skip-bad", action="store_true", help="ingest the valid rows and count the bad ones"
    )
    p.add_argument(
        "--sync", action="store_true", help="delete items that are no longer in the file"
    )
    p.set_defaults(func=cmd_ingest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recochat", description="Conversational recommendations, offline."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    _add_ingest(sub)

    p = sub.add_parser("chat", help="chat in the terminal")
    p.add_argument("--session", help="resume this session id")
    p.add_argument(
        "--model", help="LLM name, local path or Hugging Face id (default from settings)"
    )
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("web", help="serve the Gradio web chat on 127.0.0.1")
    p.add_argument("--host", help="default: RECOCHAT_HOST (127.0.0.1)")
    p.add_argument("--port", type=int, help="default: RECOCHAT_PORT (7860)")
    p.add_argument(
        "--debug", action="store_true", help="show each turn's decision record beside the chat"
    )
    p.add_argument(
        "--open", action="store_true", help="open the chat in a browser, if there is one"
    )
    p.add_argument("--model", help="LLM name, local path or Hugging Face id")
    p.set_defaults(func=cmd_web)

    p = sub.add_parser("doctor", help="check models, store and versions (offline)")
    p.set_defaults(func=cmd_doctor)

    from chat.frontends.api.commands import (
        register as register_api,  # serve, keys (FastAPI loads lazily)
    )

    register_api(sub)

    from chat.frontends.learn_cli import register as register_learning  # interactions, train

    register_learning(sub)
    from chat.frontends.data_cli import register as register_data  # a person's data

    register_data(sub)
    for ep in importlib.metadata.entry_points(group="recochat.commands"):
        register: Callable = ep.load()
        register(sub)
    return parser


# Nothing we run may reach for the network: models come from installed packages.
OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}


def main(argv: list[str] | None = None) -> int:
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as e:
        print(f"Error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
