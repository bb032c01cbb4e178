"""The simulation's figures: success@k after each turn, turns to success, questions
asked, leakage; what the bot's state kept of each kind of fact told; a JSON
report and a plot of success by turn."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from eval.offline.report import plot_curves, table, write_json
from eval.simulate.leakage import LeakGuard

KS = (1, 3, 10)


def summarize(records: list[dict[str, Any]], setup: dict[str, Any]) -> dict[str, Any]:
    n = len(records)
    turns = setup["max_turns"]
    ks = [k for k in KS if k <= setup["list"]]
    by_turn = []
    for t in range(1, turns + 1):
        row: dict[str, Any] = {"turn": t}
        for k in ks:
            hits = sum(_hit(r, t, k) for r in records)
            row[f"success@{k}"] = hits / n if n else 0.0
        by_turn.append(row)
    final = by_turn[-1] if by_turn else {}
    top = f"success@{ks[-1]}"
    hit_turns = [r["hit_turn"] for r in records if r["hit_turn"] is not None]
    asked = [sum(1 for x in r["turns"] if x["question"]) for r in records]
    leaked = [r for r in records if r["leaks"]]
    summary: dict[str, Any] = {
        "setup": setup,
        "dialogues": n,
        "by_turn": by_turn,
        "final": final,
        "standard_error": {
            k: round(math.sqrt(v * (1 - v) / n), 4) for k, v in final.items() if k != "turn" and n
        },
        "turns_to_success": {
            "mean": round(statistics.fmean(hit_turns), 3) if hit_turns else None,
            "median": statistics.median(hit_turns) if hit_turns else None,
            "successes": len(hit_turns),
        },
        "questions": {
            "mean_per_dialogue": round(statistics.fmean(asked), 3) if asked else 0.0,
            "dialogues_with_a_question": sum(1 for a in asked if a),
            "before_first_list": _before_first_list(records),
        },
        "leakage": {
            "dialogues_with_a_leaking_draft": len(leaked),
            "rate": len(leaked) / n if n else 0.0,
            "leaking_drafts": sum(len(r["leaks"]) for r in records),
            "dropped": sum(r["dropped"] for r in records),
            "successes_with_a_leak": _leaked_successes(records),
        },
        "rewording": {
            key: sum(r.get("rewording", {}).get(key, 0) for r in records)
            for key in ("used", "unfaithful", "empty")
        },
        "facts_read": facts_read(records),
        "acts": _acts(records),
    }
    summary["text"] = _text(summary, ks, top)
    return summary


def _hit(record: dict[str, Any], turn: int, k: int) -> bool:
    return (
        not record["dropped"]
        and record["hit_turn"] is not None
        and record["hit_turn"] <= turn
        and record["hit_rank"] <= k
    )


def _before_first_list(records: list[dict[str, Any]]) -> float:
    counts = []
    for r in records:
        n = 0
        for x in r["turns"]:
            if x["shown"]:
                break
            n += bool(x["question"])
        counts.append(n)
    return round(statistics.fmean(counts), 3) if counts else 0.0


def _leaked_successes(records: list[dict[str, Any]]) -> int:
    """Successes any of whose sent utterances names the target: checked again here,
    independently of the guard's verdict while drafting (it must be 0)."""
    count = 0
    for r in records:
        if r["hit_turn"] is None:
            continue
        guard = LeakGuard(r["target"]["title"], r["target"].get("aliases", []))
        count += any(guard.leak(x["seeker"]) for x in r["turns"]) or r["dropped"]
    return count


def _acts(records: list[dict[str, Any]]) -> dict[str, int]:
    acts: dict[str, int] = {}
    for r in records:
        for x in r["turns"]:
            acts[x["act"]] = acts.get(x["act"], 0) + 1
    return dict(sorted(acts.items(), key=lambda kv: -kv[1]))


# fact kind -> the state field that holds it once read
_FIELD = {"genre": "genres", "star": "stars", "director": "director", "writer": "writer"}


def facts_read(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per kind of fact: how often the seeker told one, and how often the bot's state
    after that turn holds it (as a wanted value, a year range around it, or plot
    words in the query). What is told but not read cannot help the recommender."""
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        for x in r["turns"]:
            for kind, value in x["told"]:
                row = out.setdefault(kind, {"told": 0, "read": 0})
                row["told"] += 1
                row["read"] += _in_state(kind, value, x["state"])
    for row in out.values():
        row["rate"] = round(row["read"] / row["told"], 3) if row["told"] else 0.0
    return dict(sorted(out.items()))


def _in_state(kind: str, value: str, state: dict[str, Any]) -> bool:
    if kind == "era":
        low, high = (state.get("ranges", {}).get("year") or [None, None])[:2]
        decade = int(value[:-1])
        return low is not None and high is not None and low <= decade + 9 and high >= decade
    if kind == "plot":
        query = str(state.get("query", "")).lower()
        return any(w in query for w in value.split())
    name = _FIELD.get(kind, kind)
    wanted = [*state.get("equals", {}).get(name, []), *state.get("liked", {}).get(name, [])]
    return value.lower() in {str(v).lower() for v in wanted}


def _text(summary: dict[str, Any], ks: list[int], top: str) -> str:
    s = summary["setup"]
    lines = [
        f"Simulated seekers: {summary['dialogues']} {s['catalog']} targets, "
        f"{s['phrasing']} phrasing, seed {s['seed']}, up to {s['max_turns']} turns, "
        f"{s['list']} items a list, facts: {','.join(s.get('facts', []))}",
        table(summary["by_turn"], ["turn", *[f"success@{k}" for k in ks]], ""),
    ]
    se = summary["standard_error"].get(top)
    lines.append(
        f"{top} within {s['max_turns']} turns: {summary['final'].get(top, 0):.3f} (SE {se})"
    )
    t, q, leak = summary["turns_to_success"], summary["questions"], summary["leakage"]
    lines.append(
        f"turns to success: mean {t['mean']}, median {t['median']} ({t['successes']} found)"
    )
    lines.append(
        f"questions asked: {q['mean_per_dialogue']} a dialogue, {q['before_first_list']} before "
        f"the first list; {q['dialogues_with_a_question']} dialogues had one"
    )
    lines.append(
        f"leakage: {leak['dialogues_with_a_leaking_draft']} dialogues had a leaking draft "
        f"(rate {leak['rate']:.3f}, {leak['leaking_drafts']} drafts redrawn), "
        f"{leak['dropped']} dropped, {leak['successes_with_a_leak']} successes with a leak"
    )
    if s["phrasing"] == "llm":
        w = summary["rewording"]
        lines.append(
            f"LLM rewordings sent: {w['used']}; replaced by the agenda's words: "
            f"{w['unfaithful']} (lost a fact or added a name), {w['empty']} (empty)"
        )
    read = summary["facts_read"]
    lines.append(
        "facts the bot's state kept (read/told): "
        + ", ".join(f"{k} {v['read']}/{v['told']}" for k, v in read.items())
    )
    return "\n".join(lines)


def write_report(summary: dict[str, Any], records: list[dict[str, Any]], out: Path) -> list[Path]:
    paths = [write_json(out / "simulate.json", {"summary": summary, "dialogues": records})]
    curves = (
        {
            key: (
                [row["turn"] for row in summary["by_turn"]],
                [row[key] for row in summary["by_turn"]],
            )
            for key in summary["by_turn"][0]
            if key != "turn"
        }
        if summary["by_turn"]
        else {}
    )
    plot = plot_curves(
        out / "simulate.png",
        curves,
        "seeker turns",
        "share of targets listed",
        f"Simulated seekers ({summary['setup']['phrasing']}), n={summary['dialogues']}",
    )
    return paths + ([plot] if plot else [])
