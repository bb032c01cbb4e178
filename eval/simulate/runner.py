"""One simulated dialogue per target against a real App: the real Session
(understanding, policy, recommender; copy by the scripted stand-in unless a
model is named), the seeker of agenda.py, every utterance through the leakage
guard before the bot sees it.

A dialogue ends when the bot lists the target (a success at that turn, at the
target's place in the list), after `max_turns` seeker utterances, or when an
utterance still leaks after `tries` drafts: then the dialogue is dropped and
counted, and never a success.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from chat import Done, ErrorEvent, ItemsShown, Question
from eval.simulate.agenda import AgendaSeeker, BotReply, Draft
from eval.simulate.leakage import ARTICLES, LeakGuard
from eval.simulate.phrasing import faithful
from eval.simulate.targets import Target


class Phraser(Protocol):
    """Rewords an agenda utterance (the LLM-phrased seeker); `attempt` counts the
    drafts of one turn, so a retry may be worded differently."""

    def rephrase(self, text: str, attempt: int) -> str: ...


def observe(events: list[Any]) -> BotReply:
    """What the seeker sees of a bot turn: the items listed, the question asked."""
    reply = BotReply()
    for event in events:
        if isinstance(event, ItemsShown):
            reply.shown = [card.id for card in event.items]
        elif isinstance(event, Question):
            reply.facet, reply.options = event.facet, list(event.options)
        elif isinstance(event, Done):
            reply.act = str(event.debug.get("act", ""))
            reply.state = event.debug.get("state", {})
        elif isinstance(event, ErrorEvent):
            reply.act = f"error:{event.code}"
    return reply


def guarded(
    seeker: AgendaSeeker,
    last: BotReply | None,
    guard: LeakGuard,
    tries: int,
    phraser: Phraser | None,
    record: dict[str, Any],
    turn: int,
) -> Draft | None:
    """The seeker's next utterance that names nothing of the target, drafted at most
    `tries` times; each leaked name's words are left out of the next draft. With a
    phraser, its rewording is checked first: one that leaks counts as a leaking
    draft, one that loses a fact or adds a name is replaced by the agenda's words."""
    avoid: frozenset[str] = frozenset()
    for attempt in range(tries):
        draft = seeker.draft(last, avoid)
        if draft is None:
            return None
        texts = [draft.text]
        if phraser is not None:
            reworded = phraser.rephrase(draft.text, attempt)
            if (
                reworded
                and guard.leak(reworded) is None
                and not faithful(draft.text, reworded, draft.facts)
            ):
                record["rewording"]["unfaithful"] += 1
            elif reworded:
                texts = [reworded]
            else:
                record["rewording"]["empty"] += 1
        name = guard.leak(texts[0])
        if name is None:
            record["rewording"]["used"] += phraser is not None and texts[0] != draft.text
            draft.text = texts[0]
            return draft
        record["leaks"].append({"turn": turn, "text": texts[0], "name": name})
        avoid |= set(name.split()) - ARTICLES  # "the shining": leave out "shining"
    return None


def simulate(
    app: Any,
    target: Target,
    *,
    seed: int,
    max_turns: int = 5,
    tries: int = 3,
    phraser: Phraser | None = None,
) -> dict[str, Any]:
    """One dialogue; returns its record (turns, leaks, the turn and place of the hit)."""
    session = app.session()
    seeker = AgendaSeeker(target, seed)
    guard = LeakGuard(target.title, target.aliases)
    record: dict[str, Any] = {
        "target": target.to_dict(),
        "turns": [],
        "leaks": [],
        "dropped": False,
        "hit_turn": None,
        "hit_rank": None,
        "rewording": {"used": 0, "unfaithful": 0, "empty": 0},
    }
    last: BotReply | None = None
    for turn in range(1, max_turns + 1):
        draft = guarded(seeker, last, guard, tries, phraser, record, turn)
        if draft is None:
            record["dropped"] = bool(record["leaks"])  # else: nothing left to say
            break
        started = time.perf_counter()
        last = observe(list(session.turn(draft.text)))
        seeker.sent(draft)
        rank = last.shown.index(target.id) + 1 if target.id in last.shown else None
        record["turns"].append(
            {
                "seeker": draft.text,
                "kind": draft.kind,
                "told": draft.facts,
                "act": last.act,
                "question": last.facet,
                "shown": len(last.shown),
                "listed": last.shown,
                "target_rank": rank,
                "state": last.state,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
        if rank is not None:
            record["hit_turn"], record["hit_rank"] = turn, rank
            break
    return record


def run_simulation(
    app: Any,
    targets: list[Target],
    *,
    seed: int,
    max_turns: int,
    tries: int,
    phraser: Phraser | None = None,
    progress: Callable[[str], None] = lambda line: print(line, flush=True),
) -> list[dict[str, Any]]:
    records = []
    for number, target in enumerate(targets, 1):
        rec = simulate(app, target, seed=seed, max_turns=max_turns, tries=tries, phraser=phraser)
        records.append(rec)
        if number % 20 == 0 or number == len(targets):
            hits = sum(r["hit_turn"] is not None for r in records)
            progress(f"  {number}/{len(targets)} dialogues, {hits} found the target")
    return records


# --- `recochat eval simulate` ---------------------------------------------------------


def run_command(args) -> int:
    from chat import COMMON_WORDS, InputError, TurnSettings
    from eval.scripted.runner import catalog_source, open_app
    from eval.simulate.report import summarize, write_report
    from eval.simulate.targets import FACT_FIELDS, pick_targets

    kinds = [k.strip() for k in args.facts.split(",") if k.strip()]
    if not kinds or set(kinds) - set(FACT_FIELDS):
        raise InputError(f"--facts takes some of {','.join(FACT_FIELDS)}, got {args.facts!r}.")
    for flag in ("targets", "max_turns", "list", "tries"):
        if getattr(args, flag) < 1:
            raise InputError(f"--{flag.replace('_', '-')} must be at least 1.")
    if args.turns:
        turns = Path(args.turns)
    else:
        turns = Path(catalog_source(args.catalog)[0]).with_name("dev_turns.jsonl")
    if not turns.is_file():
        raise InputError(
            f"No turns file at {turns}: give one with --turns FILE (JSON lines with a 'rec' list)."
        )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="recochat-simulate-") as tmp:
        home = Path(args.home) if args.home else Path(tmp)
        app = open_app(args.catalog, home, model=args.model or "scripted", embedder=args.embedder)
        try:
            # the bot lists `--list` items; without a model the rules alone read messages
            turn = TurnSettings(
                **{
                    **app.settings.turn.model_dump(),
                    "recommend_k": args.list,
                    "reading": app.settings.turn.reading if args.model else "rules",
                }
            )
            app.settings = app.settings.model_copy(update={"turn": turn})
            try:
                metas = app.store.all_metas()
                targets = pick_targets(turns, metas, args.targets, args.seed, COMMON_WORDS, kinds)
            except ValueError as e:
                raise InputError(f"{e}; each line of --turns must be a JSON object.") from None
            if not targets:
                raise InputError(f"No gold item of {turns} is in the {args.catalog} catalog.")
            phraser = None
            if args.phrasing == "llm":
                from eval.simulate.phrasing import LLMPhraser

                phraser = LLMPhraser.open(app, args.phrasing_model, args.seed)
            print(
                f"Simulating {len(targets)} seekers ({args.phrasing} phrasing, seed {args.seed}, "
                f"{args.max_turns} turns, {args.list} items a list) …",
                flush=True,
            )
            records = run_simulation(
                app,
                targets,
                seed=args.seed,
                max_turns=args.max_turns,
                tries=args.tries,
                phraser=phraser,
            )
        finally:
            app.close()
    setup = {
        "catalog": args.catalog,
        "turns": str(turns),
        "targets": len(targets),
        "seed": args.seed,
        "max_turns": args.max_turns,
        "list": args.list,
        "facts": kinds,
        "tries": args.tries,
        "phrasing": args.phrasing,
        "phrasing_model": args.phrasing_model if args.phrasing == "llm" else None,
        "model": args.model or "scripted (no copy)",
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "run_seconds": round(time.perf_counter() - started, 1),
    }
    summary = summarize(records, setup)
    paths = write_report(summary, records, Path(args.out))
    print(summary["text"])
    print("Report: " + ", ".join(str(p) for p in paths))
    return 0
