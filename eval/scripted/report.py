"""The dialogue evaluation report: pass rates per dialogue and per assertion
type, the conversation figures, and latency per stage; printed as tables and
written as JSON and Markdown."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Per-turn latency, split by stage: the LLM's reading of the message (every turn,
# 0 when the rules' reading was confident; `reading_llm` only the turns it was
# asked), applying it to the state, recall, rank, the model's first token, the
# first checked words shown to the user (the copy check holds back what it cannot
# judge yet), the whole copy, the whole turn.
STAGES = (
    "reading",
    "reading_llm",
    "state",
    "recall",
    "rank",
    "llm_first_token",
    "first_text",
    "llm_total",
    "total",
)


def _pct(values: list[float], p: float) -> float | None:
    """The p-quantile by the nearest rank (no interpolation between turns)."""
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p * (len(values) - 1))))], 3)


@dataclass
class _Tally:
    """What summarize counts over every dialogue and turn of a run."""

    by_type: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_catalog: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    named: int = 0
    hallucinated: int = 0
    shown: int = 0
    unsatisfied: int = 0
    repeated: int = 0
    questions_first: list[int] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    sources: Counter[str] = field(default_factory=Counter)
    trimmed: int = 0  # model copy cut to its sentences before a wrong one
    # the card the copy names first: the top card, another one, or none
    leads: Counter[str] = field(default_factory=Counter)

    def lead_share(self) -> float | None:
        """Of the recommendation turns with copy, the share that names the top card first."""
        led = sum(self.leads.values())
        return round(self.leads["top"] / led, 4) if led else None

    def add_dialogue(self, d: dict[str, Any]) -> None:
        asked, first_seen = 0, False
        self.by_catalog[d["catalog"]][0] += d["passed"]
        self.by_catalog[d["catalog"]][1] += d["total"]
        for t in d["turns"]:
            self.add_turn(t)
            if not first_seen:
                if t.get("act") == "ask":
                    asked += 1
                elif t.get("act") == "recommend":
                    first_seen = True
                    self.questions_first.append(asked)

    def add_turn(self, t: dict[str, Any]) -> None:
        for a in t["assertions"]:
            self.by_type[a["type"]][0] += a["passed"]
            self.by_type[a["type"]][1] += 1
        for stage in STAGES:
            if stage in t.get("timings", {}):
                self.stages[stage].append(t["timings"][stage])
        if t.get("shown"):
            self.named += len(t.get("named", []))
            self.hallucinated += len(t.get("hallucinated", []))
            self.shown += len(t["shown"])
            self.unsatisfied += len(t.get("unsatisfied", []))
            self.repeated += len(t.get("repeated", []))
            copy = t.get("copy", {})
            if copy.get("source"):
                self.sources[copy["source"]] += 1
                self.trimmed += bool(copy.get("trimmed"))
                top = copy.get("leads_with_top")
                self.leads["none" if top is None else "top" if top else "other"] += 1


def summarize(
    results: list[dict[str, Any]],
    *,
    model: str | None = None,
    machine: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The figures of a run. Item figures count recommendation turns: items named in
    the copy that were not shown (hallucinated, after the copy checks), shown items
    outside the dialogue state's hard constraints, shown items the user had disliked
    or seen. Questions before the first recommendation are counted per dialogue
    that recommends at all. Latency covers every user turn; a stage counts the
    turns in which it ran (recall only when items were needed, the LLM only when
    it wrote copy)."""
    n = _Tally()
    for d in results:
        n.add_dialogue(d)
    passed = sum(v[0] for v in n.by_type.values())
    total = sum(v[1] for v in n.by_type.values())
    summary = {
        "model": model,
        "machine": machine or {},
        "dialogues": len(results),
        "dialogues_passed": sum(d["passed"] == d["total"] for d in results),
        "assertions_passed": passed,
        "assertions": total,
        "pass_rate": round(passed / total, 4) if total else 1.0,
        "per_catalog": {
            k: {"passed": v[0], "total": v[1], "rate": round(v[0] / v[1], 4) if v[1] else 1.0}
            for k, v in sorted(n.by_catalog.items())
        },
        "per_assertion": {
            k: {"passed": v[0], "total": v[1], "rate": round(v[0] / v[1], 4)}
            for k, v in sorted(n.by_type.items())
        },
        "hallucinated_item_rate": round(n.hallucinated / n.named, 4) if n.named else 0.0,
        "hallucinated_items": n.hallucinated,
        "items_named_in_copy": n.named,
        "constraint_satisfaction": round(1 - n.unsatisfied / n.shown, 4) if n.shown else 1.0,
        "items_outside_constraints": n.unsatisfied,
        "items_shown": n.shown,
        "disliked_or_seen_repeated": n.repeated,
        "mean_questions_before_first_recommendation": round(
            float(statistics.mean(n.questions_first)), 3
        )
        if n.questions_first
        else None,
        "dialogues_with_a_recommendation": len(n.questions_first),
        "copy_sources": dict(n.sources),
        "copy_trimmed": n.trimmed,
        "copy_leads_with_top_card": dict(n.leads),
        "lead_share": n.lead_share(),
        "latency_s": {
            s: {
                "p50": _pct(n.stages[s], 0.5),
                "p95": _pct(n.stages[s], 0.95),
                "n": len(n.stages[s]),
            }
            for s in STAGES
            if n.stages[s]
        },
    }
    summary["text"] = render_text(summary, results)
    return summary


def _figures(summary: dict[str, Any]) -> list[str]:
    """The figures the dialogue evaluation promises, one line each."""
    m = summary.get("machine") or {}
    load = m.get("load_average")
    return [
        f"pass rate: {summary['pass_rate']:.1%} of {summary['assertions']} assertions; "
        f"{summary['dialogues_passed']}/{summary['dialogues']} dialogues fully passed",
        f"hallucinated-item rate: {summary['hallucinated_item_rate']:.1%} "
        f"({summary['hallucinated_items']} of {summary['items_named_in_copy']} items named in copy "
        "were not chosen)",
        f"constraint satisfaction: {summary['constraint_satisfaction']:.1%} "
        f"({summary['items_outside_constraints']} of {summary['items_shown']} shown items outside)",
        f"disliked/seen items shown again: {summary['disliked_or_seen_repeated']}",
        "mean questions before the first recommendation: "
        f"{summary['mean_questions_before_first_recommendation']} "
        f"(over {summary['dialogues_with_a_recommendation']} dialogues)",
        f"copy written by: {summary['copy_sources']}{_model_share(summary['copy_sources'])}; "
        f"cut to the sentences before a wrong one: {summary.get('copy_trimmed', 0)}",
        _lead_line(summary),
        *(
            [
                f"machine: {m.get('cpus')} CPUs, load average {' '.join(map(str, load))} "
                "(1/5/15 min, at the end of the run)"
            ]
            if load
            else []
        ),
    ]


def _model_share(sources: dict[str, int]) -> str:
    """The share of recommendation copy the model wrote (first draft or retry)."""
    total = sum(sources.values())
    if not total:
        return ""
    model = sources.get("llm", 0) + sources.get("retry", 0)
    return f"; by the model {model / total:.1%} (first draft {sources.get('llm', 0) / total:.1%})"


def _lead_line(summary: dict[str, Any]) -> str:
    leads, share = summary["copy_leads_with_top_card"], summary["lead_share"]
    if share is None:
        return "copy leads with the top card: no recommendation copy"
    return (
        f"copy leads with the top card: {share:.1%} of {sum(leads.values())} recommendation "
        f"turns ({leads.get('other', 0)} name another card first, "
        f"{leads.get('none', 0)} name none)"
    )


def render_text(summary: dict[str, Any], results: list[dict[str, Any]]) -> str:
    lines = ["", "Dialogues", "-" * 78]
    for d in results:
        mark = "PASS" if d["passed"] == d["total"] else "FAIL"
        lines.append(f"{mark}  {d['passed']:>3}/{d['total']:<3} {d['catalog']:<7} {d['name'][:58]}")
    lines += ["", f"{'assertion':<30}{'passed':>8}{'total':>8}{'rate':>9}", "-" * 55]
    for kind, v in summary["per_assertion"].items():
        lines.append(f"{kind:<30}{v['passed']:>8}{v['total']:>8}{v['rate']:>9.1%}")
    lines += ["", *_figures(summary), "", f"{'stage (s)':<18}{'p50':>9}{'p95':>9}{'turns':>7}"]
    for stage, v in summary["latency_s"].items():
        lines.append(f"{stage:<18}{v['p50']:>9}{v['p95']:>9}{v['n']:>7}")
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    """numpy scalars (a ranker's float32 contributions) as plain numbers."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_report(
    summary: dict[str, Any], results: list[dict[str, Any]], out: Path
) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = {k: v for k, v in summary.items() if k != "text"}
    json_path = out / "report.json"
    json_path.write_text(
        json.dumps(
            {"summary": data, "dialogues": results}, indent=1, ensure_ascii=False, default=_plain
        )
    )
    md = [f"# Dialogue evaluation ({summary['model'] or 'default model'})", ""]
    md += [f"- {line}" for line in _figures(summary)]
    md += [
        "",
        "| assertion | passed | total | rate |",
        "|---|---:|---:|---:|",
    ]
    md += [
        f"| {k} | {v['passed']} | {v['total']} | {v['rate']:.1%} |"
        for k, v in summary["per_assertion"].items()
    ]
    md += ["", "| stage | p50 (s) | p95 (s) | turns |", "|---|---:|---:|---:|"]
    md += [f"| {s} | {v['p50']} | {v['p95']} | {v['n']} |" for s, v in summary["latency_s"].items()]
    md += ["", "| dialogue | catalog | passed | failed assertions |", "|---|---|---:|---|"]
    for d in results:
        failed = [
            f"t{t['turn']} {a['type']} ({a['detail']})".replace("|", "/")
            for t in d["turns"]
            for a in t["assertions"]
            if not a["passed"]
        ]
        md.append(
            f"| {d['name']} | {d['catalog']} | {d['passed']}/{d['total']} | {'; '.join(failed)[:300]} |"
        )
    md_path = out / "report.md"
    md_path.write_text("\n".join(md) + "\n")
    return json_path, md_path
