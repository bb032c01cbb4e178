"""The dialogue policy: what to do with this message, and why.

Acts: RECOMMEND, ASK (one facet, with options), NO_MATCH (say so and offer the
nearest relaxation with the real figure), ANSWER (a question about an item, from
catalog facts), SMALLTALK, REFUSE (out of scope), RESET, CLARIFY (a reference
that points nowhere) and UNCLEAR. Every decision carries its reason; the session
logs it and puts it in the turn's debug record.

ASK or RECOMMEND: recommend when the user is specific (enough constraints and
descriptive words), when only a few items qualify, when the candidates are
already alike, when the user says "just show me", after a recommendation in this
topic, or once the question budget is spent (default 2 per topic). Otherwise ask
about the facet with the highest information gain over the current candidates:
for a facet with value shares p_v among the candidates that have it, asking
partitions them with entropy H = -Σ p_v log2 p_v, weighted by the share of
candidates that have the facet at all (values beyond the few options a question
can offer count as one answer, "something else"). Facets already answered or
asked are never asked again; names (brand, director …) and free-form tag lists
are not asked about, because no short list of options answers them.

NO_MATCH also covers the thing asked for existing only outside the limits ("a
laptop under $100": laptops exist, none that cheap), which other items would hide.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from chat.state import DialogueState
from chat.understand.words import GENERIC_WORDS
from retrieval import Facet, Filter

NOT_ASKED = {"in_stock", "currency", "rating", "rating_count", "tags", "title"}
MAX_ASKABLE_VALUES = 40


@dataclass
class PolicyConfig:
    max_questions: int = 2  # before the first recommendation of a topic
    specific_enough: float = 2.0  # state.specificity() at which we recommend at once
    min_gain_bits: float = 1.0  # below this the candidates are too alike to ask about
    small_pool: int = 6  # this many matching items or fewer: just show them
    max_options: int = 4


@dataclass
class Decision:
    act: str
    reason: str
    facet: str | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    offer: dict[str, Any] | None = None
    gains: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], {})}


_DIRECT = {
    "reset": ("reset", "the user asked to start over"),
    "smalltalk": ("smalltalk", "greeting, thanks or a question about the assistant"),
    "out_of_scope": ("refuse", "outside the catalog: redirect politely"),
    "question": ("answer", "a question about an item, answered from catalog facts"),
    "problem": ("clarify", "the message points at an item that is not there"),
    "unclear": ("unclear", "no word of the message relates to the catalog"),
    "decline_offer": ("acknowledge", "the user declined the relaxation"),
}


def need_known(state: DialogueState) -> bool:
    """Is it known what the user needs: a kind or a name they must have ("a war film",
    "Nolan"), a word of what it is for or about ("zombies", "for my runs"), or an
    example item? Then a question only delays the answer; without any of these
    ("a gift", "recommend me a movie") the policy asks. Once it has asked, an option
    picked from its question is no such word: the questions go on (up to the budget)
    until the user says something of their own."""
    named = [
        v
        for vs in (*state.equals.values(), *state.liked.values(), *state.head.values())
        for v in vs
        if not (isinstance(v, str) and v.lower() in GENERIC_WORDS)
    ]
    said = bool(state.details or state.anchors or state.liked_ids)
    return said or (bool(named) and not state.questions)


class Policy:
    def __init__(
        self,
        facets: dict[str, Facet],
        metas: Mapping[str, dict[str, Any]],
        config: PolicyConfig | None = None,
        *,
        hard: Set[str] = frozenset(),
        proper: Set[str] = frozenset(),
        kind_facet: str | None = None,
        count: Callable[[Filter], int] | None = None,
    ) -> None:
        self.facets = facets
        # `metas` may be a sample of a catalog too big to hold (retrieval CatalogMetas):
        # then `count` counts the pool in the item store
        self.metas = metas
        self.count = count
        self.config = config or PolicyConfig()
        self.proper = set(proper)
        self.kind_facet = kind_facet
        self.askable = {
            name
            for name, f in facets.items()
            if name not in NOT_ASKED
            and name not in self.proper
            and (
                (f.kind == "categorical" and len(f.values) <= MAX_ASKABLE_VALUES)
                or (f.kind == "numeric" and (name == "price" or name == "year"))
            )
        }

    # -- the candidate pool --------------------------------------------------------

    @staticmethod
    def specificity(state: DialogueState) -> float:
        """How much the user has said, without the words that say nothing of the thing
        ("a gift", "something"): a gift and a budget are one limit, and the policy asks."""
        return state.specificity(GENERIC_WORDS)

    def pool_size(self, flt: Filter) -> int:
        if self.count is not None:
            return self.count(flt)
        return sum(1 for i, m in self.metas.items() if flt.matches(i, m))

    # -- deciding --------------------------------------------------------------------

    def decide(
        self,
        state: DialogueState,
        intent: str,
        candidates: list[dict[str, Any]],
        pool: int,
        *,
        force: bool = False,
        said_what: bool | None = None,
    ) -> Decision:
        """The rules in the order they win: acts the intent settles alone, then
        "nothing matches", then the reasons to recommend without asking, and only
        then the most informative question. `said_what`: whether the request says what
        it wants without naming a thing (an item matches it strongly in meaning, or it
        describes what the thing does), None when that is not weighed (a catalog of
        films, where any genre or name says what)."""
        if intent in _DIRECT:
            return Decision(*_DIRECT[intent])
        if (no_match := self._no_match(state, intent, pool)) is not None:
            return no_match
        if (now := self._recommend_now(state, intent, pool, force, said_what)) is not None:
            return now
        return self._ask_or_recommend(state, candidates)

    def _no_match(self, state: DialogueState, intent: str, pool: int) -> Decision | None:
        """Nothing satisfies the constraints, or the thing asked for exists only
        outside them: say so, with the nearest relaxation."""
        if pool == 0:
            # none of the thing asked for passes: the nearest limit to move for it first
            # ("a laptop under $100": the cheapest laptop), else any constraint
            offer = (self.soft_no_match(state) if state.head_only else None) or self.relax(state)
            why = "no item satisfies the hard constraints"
            return Decision(
                "no_match",
                why + (f"; nearest relaxation: {offer}" if offer else "; nothing close"),
                offer=offer,
            )
        if intent in ("recommend", "refine"):
            offer = self.soft_no_match(state)
            if offer:
                return Decision(
                    "no_match",
                    f"no {offer['about']} within the limits (items without it do match); "
                    f"nearest relaxation: {offer}",
                    offer=offer,
                )
        return None

    def _recommend_now(
        self, state: DialogueState, intent: str, pool: int, force: bool, said_what: bool | None
    ) -> Decision | None:
        """The reasons to recommend without asking (see the module docstring)."""
        if intent == "feedback":
            return Decision("recommend", "feedback changes the list: show the next best items")
        if intent == "accept_offer":
            return Decision("recommend", "the user accepted the relaxation")
        cfg = self.config
        spec = self.specificity(state)
        if force or "*" in state.answered:
            return Decision("recommend", "the user asked to see recommendations now")
        if state.recommended:
            return Decision(
                "recommend", "already recommending in this topic: refine, do not interrogate"
            )
        if state.questions >= cfg.max_questions:
            return Decision(
                "recommend", f"question budget spent ({state.questions}/{cfg.max_questions})"
            )
        # in a shop, words of the catalog that name no thing ("he mowed our lawn all
        # summer", "a family with a toddler") say what only when an item matches them
        # strongly in meaning or they describe what it does; an answer to a question
        # says it in the user's own words
        known = said_what is not False or self._names_a_thing(state) or bool(state.questions)
        if spec >= cfg.specific_enough and known:
            return Decision(
                "recommend", f"specific request (specificity {spec:g} ≥ {cfg.specific_enough:g})"
            )
        if pool <= cfg.small_pool and known:  # a budget alone leaves the need open
            return Decision("recommend", f"only {pool} item(s) qualify")
        if need_known(state) and known:
            return Decision(
                "recommend", "the need is known (a kind, a name, a topic or an example)"
            )
        if said_what:
            return Decision(
                "recommend", "the request says what it wants (by its meaning or its use)"
            )
        return None

    def _names_a_thing(self, state: DialogueState) -> bool:
        """Has the user named the thing (a noun the catalog sells, a kind, an example)?"""
        kind = bool(self.kind_facet and state.equals.get(self.kind_facet))
        return bool(state.head or kind or state.anchors or state.liked_ids)

    def _ask_or_recommend(self, state: DialogueState, candidates: list[dict[str, Any]]) -> Decision:
        """Ask about the facet that splits the candidates best, unless none splits
        them enough to be worth a question."""
        gains = self.information_gain(state, candidates)
        if not gains:
            return Decision("recommend", "no facet left to ask about")
        facet, bits = max(gains.items(), key=lambda kv: (kv[1], kv[0]))
        if bits < self.config.min_gain_bits:
            return Decision(
                "recommend", f"candidates already alike (best gain {bits:.2f} bits)", gains=gains
            )
        options = self.options(facet, candidates)
        spec = self.specificity(state)
        return Decision(
            "ask",
            f"underspecified (specificity {spec:g}); {facet} splits {len(candidates)} candidates best ({bits:.2f} bits)",
            facet=facet,
            options=options,
            gains=gains,
        )

    # -- information gain ----------------------------------------------------------------

    def information_gain(
        self, state: DialogueState, candidates: list[dict[str, Any]]
    ) -> dict[str, float]:
        done = (
            set(state.answered)
            | set(state.asked)
            | set(state.equals)
            | set(state.liked)
            | set(state.ranges)
        )
        out = {}
        for name in sorted(self.askable - done):
            counts, have = self._distribution(name, candidates)
            if len(counts) < 2 or not candidates:
                continue
            # A question offers a few options (and "something else"): values beyond
            # those are one answer, so a long tail of rare values does not look
            # informative when no short list of options could split it.
            top = counts.most_common(self.config.max_options)
            rest = sum(counts.values()) - sum(c for _, c in top)
            counts = Counter(dict(top)) + (Counter({"\0other": rest}) if rest > 0 else Counter())
            total = sum(counts.values())
            entropy = -sum(c / total * math.log2(c / total) for c in counts.values())
            out[name] = round(entropy * have / len(candidates), 3)
        return out

    def _distribution(self, name: str, candidates: list[dict[str, Any]]) -> tuple[Counter, int]:
        counts: Counter = Counter()
        have = 0
        facet = self.facets[name]
        for meta in candidates:
            value = meta.get(name)
            if value is None or value == []:
                continue
            have += 1
            if facet.kind == "numeric":
                counts[self._bin(name, value, candidates)] += 1
            elif isinstance(value, list):
                for v in value:  # each value is an answer that keeps this item
                    counts[str(v)] += 1
            else:
                counts[str(value)] += 1
        return counts, have

    def _bin(self, name: str, value: float, candidates: list[dict[str, Any]]) -> str:
        if name == "year":
            return f"{int(value) // 10 * 10}s"
        cuts = self._price_cuts(candidates)
        return "low" if value < cuts[0] else "mid" if value < cuts[1] else "high"

    def _price_cuts(self, candidates: list[dict[str, Any]]) -> tuple[float, float]:
        prices = sorted(m["price"] for m in candidates if isinstance(m.get("price"), (int, float)))
        if not prices:
            return (0.0, 0.0)
        return (_nice(prices[len(prices) // 3]), _nice(prices[2 * len(prices) // 3]))

    def options(self, name: str, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What the question offers; each option says how it changes the state."""
        n = self.config.max_options
        if name == "price":
            low, high = self._price_cuts(candidates)
            return [
                {"label": f"under ${low:,.0f}", "ranges": {"price": [None, low]}},
                {"label": f"${low:,.0f}–${high:,.0f}", "ranges": {"price": [low, high]}},
                {"label": f"over ${high:,.0f}", "ranges": {"price": [high, None]}},
            ]
        counts, _ = self._distribution(name, candidates)
        top = [v for v, _ in counts.most_common(n)]
        if name == "year":
            return [
                {"label": f"the {v}", "ranges": {"year": [int(v[:-1]), int(v[:-1]) + 9]}}
                for v in sorted(top)
            ]
        target = "equals" if name == self.kind_facet or name in self._hard() else "liked"
        return [{"label": v, target: {name: v}} for v in top]

    def _hard(self) -> set[str]:
        return {self.kind_facet} if self.kind_facet else set()

    # -- nothing matches: the nearest relaxation ------------------------------------

    def soft_no_match(self, state: DialogueState) -> dict[str, Any] | None:
        """The thing asked for ("a laptop under $100": the head noun, a descriptive
        value) exists in the catalog, but none within the numeric limits; showing other
        items would hide that, so say it and offer the nearest one."""
        if not state.ranges or not state.head:
            return None
        flt = state.filter()
        flt.equals = {**flt.equals, **{f: list(v) for f, v in state.head.items()}}
        if self.pool_size(flt) > 0:
            return None
        offer = self.relax_filter(flt, numeric_only=True)
        if offer:
            offer["about"] = next(iter(state.head.values()))[0]
        return offer

    def relax(self, state: DialogueState) -> dict[str, Any] | None:
        return self.relax_filter(state.filter())

    def relax_filter(self, flt: Filter, *, numeric_only: bool = False) -> dict[str, Any] | None:
        best: tuple[float, dict[str, Any]] | None = None
        for facet, (low, high) in flt.ranges.items():
            others = Filter(
                flt.equals,
                flt.excludes,
                {k: v for k, v in flt.ranges.items() if k != facet},
                flt.exclude_ids,
            )
            valued = [
                (m[facet], i)
                for i, m in self.metas.items()
                if isinstance(m.get(facet), (int, float)) and others.matches(i, m)
            ]
            if high is not None:
                above = [(v, i) for v, i in valued if v > high and (low is None or v >= low)]
                if above:
                    v, i = min(above)
                    cost = (v - high) / max(abs(high), 1.0)
                    offer = {
                        "range": [facet, [low, v]],
                        "item": i,
                        "value": v,
                        "side": "high",
                        "facet": facet,
                        "was": high,
                    }
                    best = min(best or (cost, offer), (cost, offer), key=lambda p: p[0])
            if low is not None:
                below = [(v, i) for v, i in valued if v < low and (high is None or v <= high)]
                if below:
                    v, i = max(below)
                    cost = (low - v) / max(abs(low), 1.0)
                    offer = {
                        "range": [facet, [v, high]],
                        "item": i,
                        "value": v,
                        "side": "low",
                        "facet": facet,
                        "was": low,
                    }
                    best = min(best or (cost, offer), (cost, offer), key=lambda p: p[0])
        for facet, values in [] if numeric_only else flt.equals.items():
            others = Filter(
                {k: v for k, v in flt.equals.items() if k != facet},
                flt.excludes,
                flt.ranges,
                flt.exclude_ids,
            )
            count = self.pool_size(others)
            if count:
                offer = {"drop": facet, "values": list(values), "count": count, "facet": facet}
                # the kind of item is dropped last: "without outdoor" loses what was asked
                cost = 2.5 if facet == self.kind_facet else 2.0
                best = min(best or (cost, offer), (cost, offer), key=lambda p: p[0])
        return best[1] if best else None


def _nice(value: float) -> float:
    """Round a price cut to a figure people say ($20, $45, $150)."""
    if value < 20:
        return float(max(1, round(value)))
    step = 5 if value < 100 else 10 if value < 500 else 50
    return float(round(value / step) * step)
