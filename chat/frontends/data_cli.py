"""`recochat data export|delete --user U | --session S`: a person's data rights from
the command line (the same as the admin API's /v1/admin/users/… and
/v1/admin/sessions/…). Opens only the database, so it works while a server runs."""

from __future__ import annotations

import argparse
import json
import sys

from chat import ChatError

EXIT_USER_ERROR = 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("data", help="export or delete everything stored about a user or session")
    data = p.add_subparsers(dest="data_command", required=True)
    for name, fn, what in (
        ("export", cmd_export, "print it as JSON"),
        (
            "delete",
            cmd_delete,
            "delete it (sessions, messages, feedback, interactions, online state)",
        ),
    ):
        c = data.add_parser(name, help=f"everything stored about a user or a session: {what}")
        who = c.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="the user id given when sessions were created")
        who.add_argument("--session", help="a session id")
        if name == "export":
            c.add_argument("--out", help="write the JSON to this file instead of stdout")
        c.set_defaults(func=fn)


def _open():
    from chat import DataDir, load_settings, open_database

    settings = load_settings()
    return open_database(settings.database_url, DataDir(settings.home).database)


def _nothing(args: argparse.Namespace) -> ChatError:
    who = f"user {args.user!r}" if args.user else f"session {args.session!r}"
    return ChatError(f"Nothing is stored about the {who}. Check the id (see the API's history).")


def cmd_export(args: argparse.Namespace) -> int:
    db = _open()
    try:
        if args.user:
            found = db.export_user(args.user)
            empty = not (found["sessions"] or found["interactions"] or found["online_state"])
        else:
            found = db.export_session(args.session)
            empty = found is None
    finally:
        db.close()
    if empty:
        raise _nothing(args)
    text = json.dumps(found, ensure_ascii=False, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"Wrote {args.out}.", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    db = _open()
    try:
        counts = db.delete_user(args.user) if args.user else db.delete_session(args.session)
    finally:
        db.close()
    if not any(counts.values()):
        raise _nothing(args)
    rows = ", ".join(f"{n} {table}" for table, n in counts.items() if n)
    print(f"Deleted {rows}.")
    return 0
