"""What a dialogue turn did (`observe`) and whether it did what the suite
expects (`check_turn`). The hallucination scan here is deliberately independent
of chat/reply/copycheck.py: it looks for every catalog title in the reply by plain
word matching, so the figure is not graded by the code it measures."""

from __future__ import annotations

import re
from typing import Any

from chat import COMMON_WORDS, Done, ErrorEvent, ItemsShown, Question, detect, words
from eval.scripted.expressions import resolve, satisfies

_PAREN = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
_ARTICLES = frozenset(("the", "a", "an", "of", "and", "in", "to"))


class TitleScan:
    """All catalog titles, by their words without a trailing "(1999)" or "(Paperback)"."""

    def __init__(self, metas: dict[str, dict[str, Any]]):
        self.by_core: dict[str, set[str]] = {}
        self.short: dict[str, set[str]] = {}  # one-word titles too short or common to count
        for item_id, meta in metas.items():
            core = " ".join(words(_PAREN.sub("", str(meta.get("title", ""))) or ""))
            if self._countable(core):
                self.by_core.setdefault(core, set()).add(item_id)
            elif len(core) >= 3 and " " not in core:  # "Jaws", and "Heat" written as a name
                self.short.setdefault(core, set()).add(item_id)

    @staticmethod
    def _countable(core: str) -> bool:
        parts = core.split()
        if len(parts) >= 2:
            return not all(p in COMMON_WORDS or p.isdigit() for p in parts)
        return len(core) >= 6 and core not in COMMON_WORDS

    def named(self, text: str) -> dict[str, set[str]]:
        """Titles named in `text`: core → the items with that title. A title of one or
        two words (besides articles) counts only when written as a name, capitalised
        or quoted: "a monster" or "the perfect match for you" name no film; longer
        titles count however they are written."""
        padded = f" {' '.join(words(text))} "
        capitalised = {w.lower() for w in re.findall(r"\b[A-Z0-9][\w'-]*", text)}
        quoted = " ".join(
            " ".join(words(q)) for q in re.findall(r"[\"“«「『]([^\"”»」』]+)[\"”»」』]", text)
        )

        def as_name(core: str) -> bool:
            content = [w for w in core.split() if w not in _ARTICLES]
            return (
                len(content) >= 3
                or all(w in capitalised for w in content)
                or (f" {core} " in f" {quoted} ")
            )

        found = {c: ids for c, ids in self.by_core.items() if f" {c} " in padded and as_name(c)}
        # a shorter title inside a longer one that was named ("Dino Park Building Set"
        # inside "Dino Park Building Set Deluxe") is the longer one
        return {
            c: ids
            for c, ids in found.items()
            if not any(c != o and f" {c} " in f" {o} " for o in found)
        }

    def named_short(self, text: str) -> dict[str, set[str]]:
        """Short one-word titles ("Jaws", "Alien") written capitalised after a
        sentence's first word: "who directed Jaws?" asks about that film."""
        later = re.findall(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+)\b", text.strip())
        return {w.lower(): self.short[w.lower()] for w in later if w.lower() in self.short}


_TEXT_FIELDS = ("description", "plot")


def _unarticled(core: str) -> str:
    first, _, rest = core.partition(" ")
    return rest if first in ("the", "a", "an") and rest else core


def _scan(app) -> TitleScan:
    scan = getattr(app, "_eval_title_scan", None)
    if scan is None:
        scan = TitleScan(app.store.all_metas())
        app._eval_title_scan = scan
    return scan


def _timings(done: Done | None, debug: dict[str, Any]) -> dict[str, float]:
    """The turn's stage timings, with the reading's also as `reading_llm` when the
    LLM was asked (its notes say so): the cost of one call, apart from the turns
    the rules read alone."""
    timings = dict(done.timings) if done else {}
    asked = any(str(n).startswith("llm reading") for n in debug.get("reading") or [])
    if asked and "reading" in timings:
        timings["reading_llm"] = timings["reading"]
    return timings


def observe(app, session, events, before, text: str) -> dict[str, Any]:
    done = next((e for e in events if isinstance(e, Done)), None)
    error = next((e for e in events if isinstance(e, ErrorEvent)), None)
    question = next((e for e in events if isinstance(e, Question)), None)
    cards = next((e.items for e in events if isinstance(e, ItemsShown)), [])
    shown = [c.id for c in cards]
    debug = done.debug if done else {}
    reply = done.reply if done else (error.message if error else "")
    record: dict[str, Any] = {
        "user": text,
        "reply": reply,
        "act": debug.get("act"),
        "intent": debug.get("intent"),
        "reason": debug.get("reason"),
        "shown": shown,
        "titles": [c.title for c in cards],
        "reasons": [[r["detail"] for r in c.reasons] for c in cards],
        "question": question.facet if question else None,
        "error": error.code if error else None,
        "timings": _timings(done, debug),
        "copy": debug.get("copy", {}),
    }
    if shown:
        state = session.state
        metas = app.store.all_metas()
        flt = state.filter()
        record["unsatisfied"] = [i for i in shown if not flt.matches(i, metas[i])]
        record["repeated"] = [
            i for i in shown if i in set(before.disliked_ids) | set(before.seen_ids)
        ]
        allowed = set(shown) | set(state.anchors) | set(state.liked_ids)
        # items the user talked about in this message (the reply acknowledges them)
        allowed |= set(state.seen_ids) - set(before.seen_ids)
        allowed |= set(state.disliked_ids) - set(before.disliked_ids)
        said = _scan(app).named(reply)
        user_said = _scan(app).named(text)
        # words of a shown title ("Darkness" of "Army of Darkness") name that item, and
        # words quoted from a shown item's own catalog text ("the American cocaine
        # market" from the plot of Blow) are a fact about it, not another title
        shown_titles = " ".join(f" {' '.join(words(t))} " for t in record["titles"])
        shown_titles += " ".join(
            f" {' '.join(words(str(metas[i].get(field) or '')))} "
            for i in shown
            for field in _TEXT_FIELDS
        )
        record["named"] = sorted(said)
        record["hallucinated"] = sorted(
            core
            for core, ids in said.items()
            if not ids & allowed
            and core not in user_said
            and f" {core} " not in shown_titles
            # "the Scream (1996)" names the shown Scream (1996), not the film "The Scream"
            and f" {_unarticled(core)} " not in shown_titles
        )
    return record


def _ids(refs, lists) -> list[str]:
    refs = refs if isinstance(refs, list) else [refs]
    return [resolve(r, lists) for r in refs]


def _reason_terms(record: dict[str, Any], state) -> list[str]:
    terms = []
    for details in record["reasons"]:
        for d in details:
            if ":" in d or "：" in d:
                terms += [t.strip() for t in re.split(r"[:：]", d, maxsplit=1)[1].split(",")]
            m = re.search(r"similar to (.+?), which you liked", d)
            if m:
                terms.append(m.group(1))
            if "budget" in d:  # "$24.99, within your $30.00 budget": fits the budget
                terms.append("budget")
            m = re.search(r"(\d\.\d)★", d)
            if m:
                terms.append(m.group(1))
    terms += [str(v) for vs in (*state.equals.values(), *state.liked.values()) for v in vs]
    return [t for t in terms if t]


def _norm(text: str) -> str:
    return " " + " ".join(words(text)) + " "


def check_turn(app, session, expect: dict[str, Any], record, before, lists) -> list[dict[str, Any]]:
    out = []
    shown = record.get("shown", [])
    reply = record.get("reply", "")
    metas = app.store.all_metas()
    for kind, want in expect.items():
        ok, detail = True, ""
        if kind == "asks_question":
            ok = (record.get("act") == "ask") == bool(want)
            detail = f"act={record.get('act')}"
        elif kind == "asked_facet":
            options = want if isinstance(want, list) else [want]
            ok, detail = record.get("question") in options, f"asked {record.get('question')}"
        elif kind == "recommends":
            n = len(shown)
            if isinstance(want, bool):
                ok = (n > 0) == want
            elif isinstance(want, int):
                ok = n == want
            else:
                ok = n >= int(str(want).lstrip(">="))
            detail = f"{n} shown"
        elif kind == "all_items_satisfy":

            def lookup(ref, name):
                item = _ids(ref, lists[:-1] or lists)[0]
                return metas.get(item, {}).get(name)

            bad = [i for i in shown if not satisfies(want, metas[i], lookup)]
            ok, detail = (
                bool(shown) and not bad,
                f"failing: {bad}" if bad else f"{len(shown)} items",
            )
        elif kind == "none_of":
            hit = set(_ids(want, lists[:-1] or lists)) & set(shown)
            ok, detail = not hit, f"shown again: {sorted(hit)}" if hit else ""
        elif kind in ("contains", "contains_any"):
            ids = _ids(want, lists[:-1] or lists)
            have = [i for i in ids if i in shown]
            ok = len(have) == len(ids) if kind == "contains" else bool(have)
            detail = f"shown {shown}"
        elif kind == "copy_names_only_recommended":
            bad = record.get("hallucinated", [])
            ok, detail = not bad, f"named {bad}" if bad else ""
        elif kind == "copy_cites_a_true_reason":
            text = _norm(reply)
            titles = [t for t in record.get("titles", []) if _norm(t).strip() in text]
            cores = [
                _norm(re.sub(r"\s*\([^)]*\)\s*$", "", t)).strip() for t in record.get("titles", [])
            ]
            named = titles or [c for c in cores if c and f" {c} " in text]
            terms = [t for t in _reason_terms(record, session.state) if _norm(t).strip()]
            cited = [t for t in terms if _norm(t) in text]
            ok, detail = bool(named and cited), f"names {len(named)}, cites {cited[:3]}"
        elif kind == "language":
            got = detect(reply).language
            ok, detail = got == want, f"reply language {got}"
        elif kind == "max_latency_s":
            ok, detail = record.get("latency_s", 0) <= float(want), f"{record.get('latency_s')} s"
        elif kind in ("reply_contains", "reply_lacks"):
            texts = want if isinstance(want, list) else [want]
            found = [t for t in texts if t.lower() in reply.lower()]
            ok = bool(found) if kind == "reply_contains" else not found
            detail = reply[:120]
        elif kind == "error":
            ok, detail = record.get("error") == want, f"error={record.get('error')}"
        elif kind in ("act", "intent"):
            options = want if isinstance(want, list) else [want]
            ok, detail = record.get(kind) in options, f"{kind}={record.get(kind)}"
        elif kind == "state":
            ok, detail = _state_has(session.state, want, lists)
        elif kind == "state_unchanged":
            changed = _state_changes(before.to_dict(), session.state.to_dict())
            ok = (not changed) == bool(want)
            detail = f"changed: {changed}" if changed else "unchanged"
        elif kind == "shown_satisfy":

            def lookup_any(ref, name):
                return metas.get(_ids(ref, lists[:-1] or lists)[0], {}).get(name)

            bad = [i for i in shown if not satisfies(want, metas[i], lookup_any)]
            honest = not shown and record.get("act") == "no_match"
            ok = (bool(shown) and not bad) or honest
            detail = f"failing: {bad}" if bad else f"{len(shown)} items, act={record.get('act')}"
        elif kind == "reply_states":
            ok, detail = _states(reply, want, metas, lists)
        elif kind == "never_shown_again":
            ids = _ids(want, lists[:-1] or lists)
            hit = set(ids) & set(shown)
            # later turns are checked when the dialogue ends (settle_later_turns)
            out.append({"type": kind, "passed": not hit, "detail": _shown_again(hit), "ids": ids})
            continue
        elif kind == "ordered_by":
            field, reverse = str(want).lstrip("-"), str(want).startswith("-")
            values = [metas[i].get(field) for i in shown]
            known = [v for v in values if isinstance(v, (int, float))]
            ok = len(known) == len(values) and known == sorted(known, reverse=reverse)
            detail = f"{field}: {values}"
        elif kind == "no_invented_names":
            allowed = text_of(record, metas, lists, _scan(app))
            invented = _invented_names(reply, allowed, _scan(app))
            ok = not invented or not want
            detail = f"not in the records: {invented}" if invented else ""
        out.append({"type": kind, "passed": bool(ok), "detail": detail})
    return out


def _shown_again(hit: set[str]) -> str:
    return f"shown again: {sorted(hit)}" if hit else ""


def settle_later_turns(records: list[dict[str, Any]]) -> None:
    """ "never shown again" holds over the rest of the dialogue: fail the assertion
    when a later turn shows one of its items."""
    for n, record in enumerate(records):
        for a in record.get("assertions", []):
            if a["type"] != "never_shown_again":
                continue
            later = {i for r in records[n + 1 :] for i in r.get("shown", [])}
            hit = set(a.pop("ids")) & later
            if hit:
                a["passed"], a["detail"] = False, _shown_again(hit) + " in a later turn"


# a figure rounded to a whole number still states an amount of money ("about $130"
# for 129.99), never a rating or a weight (4.5 is no "4", 0.9 kg no "1")
_ROUNDED_FROM = 20


def _spoken(value: Any) -> list[str]:
    """Ways a reply may state a catalog value: "129.99" as "$129.99" or "129.99",
    4.5 as "4.5", lists by any member, True/False as in stock or not."""
    if isinstance(value, bool):
        return ["in stock", "available"] if value else ["out of stock", "not in stock", "sold out"]
    if isinstance(value, (int, float)):
        forms = [f"{value:g}", f"{value:,.2f}", f"{value:.1f}", f"{value:,g}"]
        if value >= _ROUNDED_FROM or float(value).is_integer():
            forms.append(f"{value:,.0f}")
        return forms
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _said(form: str, reply: str) -> bool:
    """Is `form` in the reply, a figure as a whole figure ("4" is not in "$34.99")?"""
    if not re.fullmatch(r"[\d.,]+", form):
        return form.lower() in reply.lower()
    return re.search(rf"(?<![\d.,]){re.escape(form)}(?![\d]|[.,]\d)", reply) is not None


def _states(reply: str, want, metas, lists) -> tuple[bool, str]:
    wants = want if isinstance(want, list) else [want]
    missing = []
    for w in wants:
        item = _ids(w.get("item", "@1"), lists[:-1] or lists)[0]
        value = metas.get(item, {}).get(w.get("field", ""))
        if value is None or not any(_said(v, reply) for v in _spoken(value)):
            missing.append(f"{item}.{w.get('field')}={value!r}")
    return not missing, ("missing " + ", ".join(missing)) if missing else reply[:120]


# a capitalised word of any Latin script ("GrandPré", "Żuławski"): an upper-case
# letter, then letters, at least one of them lower-case
_WORD = r"[^\W\d_a-zß-ÿ][^\W\d_]*[a-zß-ÿ][^\W\d_]*"
_NAME = re.compile(rf"(?<![\w'])({_WORD}(?:[ -]{_WORD})+)")
# what a turn counts as, not what the user said: bookkeeping a check of the state ignores
_BOOKKEEPING = ("turns",)


def _state_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in after if k not in _BOOKKEEPING and after[k] != before.get(k))


def text_of(
    record: dict[str, Any], metas: dict[str, dict[str, Any]], lists, scan: TitleScan
) -> str:
    """What a reply may take names from: the user's words, and the records of the
    items shown so far and of the items the user or the reply names by title ("who
    directed Heat?" is answered from Heat's record, shown or not; a short one-word
    title counts when the user capitalises it: "who directed Jaws?")."""
    ids = {i for shown in lists for i in shown}
    for text in (record.get("user") or "", record.get("reply") or ""):
        ids.update(i for found in scan.named(text).values() for i in found)
    ids.update(i for found in scan.named_short(record.get("user") or "").values() for i in found)
    facts = [str(v) for i in ids for v in metas.get(i, {}).values()]
    return " ".join([record.get("user") or "", *facts])


def _invented_names(reply: str, allowed: str, scan: TitleScan) -> list[str]:
    """Runs of two or more capitalised words ("Jaren Jones", "Ridgeway Gear") that are
    neither in `allowed` nor a catalog title nor made of ordinary words."""
    known = _norm(allowed)
    out = []
    for name in _NAME.findall(reply):
        core = _norm(name)
        if core in known or scan.named(name):
            continue
        if all(w in COMMON_WORDS for w in core.split()):
            continue  # "Good Night", "My Pick"
        out.append(name)
    return out


def _state_has(state, want: dict[str, Any], lists) -> tuple[bool, str]:
    problems = []
    for key, value in want.items():
        have = getattr(state, key, None)
        if value == {} or value == []:  # "ranges: {}": nothing of that kind is left
            if have:
                problems.append(f"{key}={have}")
        elif isinstance(value, dict):
            for facet, expected in value.items():
                got = (have or {}).get(facet)
                if isinstance(expected, list) and key != "ranges":
                    ok = got is not None and set(expected) <= set(got)
                else:
                    ok = got == expected
                if not ok:
                    problems.append(f"{key}.{facet}={got}")
        elif isinstance(value, list):
            refs = any(isinstance(v, str) and v.startswith("@") for v in value)
            expected = _ids(value, lists) if key.endswith("ids") or refs else value
            if not set(expected) <= set(have or []):
                problems.append(f"{key}={have}")
        elif have != value:
            problems.append(f"{key}={have}")
    return not problems, "; ".join(problems)
