"""`recochat interactions import|stats` and `recochat train` (registered from
cli.build_parser). Domain errors propagate to cli.main, which prints them."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("interactions", help="the interaction log the learners train on")
    isub = p.add_subparsers(dest="interactions_command", required=True)

    imp = isub.add_parser(
        "import",
        help="import events from a CSV/JSONL file",
        description="Import user-item events. Example (MovieLens ratings): recochat "
        "interactions import ratings.csv --user userId --item movieId --value rating "
        "--ts timestamp --catalog-field ml_movieId",
    )
    imp.add_argument("path", help="a .csv or .jsonl file")
    imp.add_argument("--user", default="user_id", help="column with the user id")
    imp.add_argument("--item", default="item_id", help="column with the item id")
    imp.add_argument("--kind", help="column with the event kind (view, click, like …)")
    imp.add_argument(
        "--default-kind", default="rating", help="kind of every row when there is no --kind"
    )
    imp.add_argument("--value", help="column with a value (e.g. the rating)")
    imp.add_argument("--ts", help="column with the time (epoch seconds or ISO 8601)")
    imp.add_argument("--session", help="column with a session id")
    imp.add_argument(
        "--catalog-field",
        help="catalog metadata field holding the file's item ids (e.g. ml_movieId); "
        "default: the file's ids are catalog ids",
    )
    imp.set_defaults(func=cmd_import)

    st = isub.add_parser("stats", help="count events, users, items and kinds")
    st.set_defaults(func=cmd_stats)

    tr = sub.add_parser(
        "train", help="learn CF, sequence and fusion artifacts from the interaction log"
    )
    tr.add_argument("--epochs", type=int, help="SASRec epochs (default 20)")
    tr.add_argument(
        "--dialogues",
        metavar="FILE",
        help="also learn from past conversations: a JSONL file of recommendation turns "
        '({"dialog_id", "context": [utterances], "rec": [titles]}, the ReDial turns format)',
    )
    tr.set_defaults(func=cmd_train)


def _open():
    from chat import App, load_settings

    return App.open(load_settings())


def cmd_import(args: argparse.Namespace) -> int:
    from chat import ImportMapping, InteractionStore

    mapping = ImportMapping(
        user=args.user,
        item=args.item,
        kind=args.kind,
        default_kind=args.default_kind,
        value=args.value,
        ts=args.ts,
        session=args.session,
        catalog_field=args.catalog_field,
    )
    app = _open()
    try:
        app.require_catalog(", so item ids can be checked")
        report = InteractionStore(app.db).import_file(args.path, mapping, app.store.all_metas())
        for line in report.lines():
            print(line)
        if report.read and not report.added and not report.duplicates:
            print(
                "Nothing was imported: check the column names (--user/--item/…) and "
                "--catalog-field.",
                file=sys.stderr,
            )
            return 2
    finally:
        app.close()
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from chat import InteractionStore

    app = _open()
    try:
        stats = InteractionStore(app.db).stats()
    finally:
        app.close()
    if not stats["events"]:
        print(
            "The interaction log is empty. Import events with 'recochat interactions import FILE'."
        )
        return 0
    for key, value in stats.items():
        print(f"{key}: {value}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from chat import InteractionStore, TrainConfig, TrainingRefused, train

    cfg = TrainConfig()
    if args.epochs:
        cfg.sasrec.epochs = args.epochs

    def progress(iterable, total, desc):
        return tqdm(iterable, total=total, desc=desc, disable=None, file=sys.stderr)

    app = _open()
    reports = []
    try:
        try:
            reports.append(
                train(InteractionStore(app.db), app.store, app.home.artifacts, cfg, progress)
            )
        except TrainingRefused as e:
            if not args.dialogues:
                raise
            print(f"skipped the interaction models: {e}")
        if args.dialogues:
            from chat import train_dialogues

            reports.append(
                train_dialogues(args.dialogues, app.store, app.home.artifacts, None, progress)
            )
        app.artifacts_changed([name for r in reports for name in r.built])
    finally:
        app.close()
    shown_keys = ("events", "users", "examples", "loss", "decisions", "dialogs", "lists")
    for report in reports:
        for name, info in report.built.items():
            print(f"built {name} { ({k: v for k, v in info.items() if k in shown_keys}) }")
        for name, why in report.skipped.items():
            print(f"skipped {name}: {why}")
    print(f"artifacts in {app.home.artifacts} ({sum(r.seconds for r in reports):.1f} s)")
    return 0
