"""One conversation. Each user message runs through guard → state tracker →
policy → (recall → rank → copy) and yields typed events; the turn is persisted
only when it completes, so a rejected message leaves the stored session as it was.

Every turn records its decision (intent, act, the policy's reason, the copy
checks) in `Done.debug` and in the log, so a debug view can show why the bot
asked instead of recommending, or why the copy was replaced.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import chat.dialogue.acts as acts
from chat.config import TurnSettings
from chat.dialogue.phrases import say
from chat.dialogue.policy import Decision, Policy
from chat.dialogue.tracker import StateTracker
from chat.dialogue.update import apply_feedback
from chat.errors import InputError
from chat.events import (
    Done,
    ErrorEvent,
    Event,
    FeedbackApplied,
    ItemsShown,
    Question,
    TextDelta,
    TextReplace,
)
from chat.persist.database import Database, StoredMessage
from chat.persist.feedback import KINDS, FeedbackLog
from chat.recommend import (
    holds_together,
    in_order,
    matches_strongly,
    named_otherwise,
    ranked_cards,
    request_state,
    said_loosely,
    shortlist,
)
from chat.reply.claims import lead
from chat.reply.copywriter import CopyWriter
from chat.state import DialogueState
from chat.tracing import stage
from chat.understand.guard import MessageRejected, clean_message
from chat.understand.llm_reading import LLMReader
from chat.understand.reading import NOTHING_SHOWN, MessageReading
from chat.understand.text import words
from retrieval import ItemStore, measures_meaning

if TYPE_CHECKING:  # the recommender (scipy, the pipeline) loads with the app
    from retrieval import Recommender, Shortlist

log = logging.getLogger(__name__)

# intents whose answer depends on the candidates
_RETRIEVING = {"recommend", "refine", "answer", "feedback", "accept_offer"}
UNSUPPORTED = "I can only chat in English or Chinese (中文) for now. Please write your message in one of those."


class Session:
    def __init__(
        self,
        session_id: str,
        *,
        store: ItemStore,
        recommender: Recommender,
        tracker: StateTracker,
        writer: CopyWriter,
        db: Database,
        config: TurnSettings,
        policy: Policy,
        user_id: str | None = None,
        llm_reader: LLMReader | None = None,
    ) -> None:
        self.id = session_id
        self.user_id = user_id
        self.store, self.recommender, self.tracker, self.writer, self.db = (
            store,
            recommender,
            tracker,
            writer,
            db,
        )
        self.config = config
        self.metas = tracker.metas or store.all_metas()
        self.policy = policy
        self.llm_reader = llm_reader
        self.feedback_log = FeedbackLog(db)
        self.state = DialogueState.from_dict(db.load_state(session_id))

    # -- a message -----------------------------------------------------------------------

    def turn(self, text: str) -> Iterator[Event]:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        try:
            text = clean_message(text, self.config.max_message_chars)
        except MessageRejected as e:
            yield ErrorEvent(e.code, str(e))
            return

        t = time.perf_counter()
        with stage("state") as span:
            msg = self.tracker.read(self.state, text)
            if self.llm_reader is not None:  # the LLM's reading, where the rules are unsure
                t = _lap(timings, "rules", t)
                msg = self.llm_reader.improve(self.tracker, self.state, msg)
                t = _lap(timings, "reading", t)
            self._by_meaning(msg)
            span.set_attribute("recochat.intent", msg.intent)
            refusal = _refusal(msg)
            if refusal is None:
                state = self.tracker.apply(self.state, msg)
        if refusal is not None:
            yield refusal
            return
        t = _lap(timings, "state", t)

        for item_id, kind in msg.feedback:  # the online learners hear it before recall
            self.recommender.feedback(self.id, item_id, kind, shown=len(self.state.shown))
        stages: dict[str, float] = {}  # the pipeline's own stages (filled in as they run)
        recalled: Shortlist | None = None
        pool: int | None = None
        if msg.intent in _RETRIEVING:
            with stage("recall") as span:
                recalled, pool = self._retrieve(
                    state, stages, said_now=state.head != self.state.head
                )
                span.set_attribute("recochat.pool", pool)
            t = _lap(timings, "recall", t)
        candidates = [i.meta for i in recalled.items] if recalled else []
        said_what = (
            not msg.vague
            and (msg.says_what or (recalled is not None and matches_strongly(recalled)))
            if self._by_closeness
            else None
        )
        decision = self.policy.decide(
            state, msg.intent, candidates, pool or 0, force=msg.force, said_what=said_what
        )
        _lap(timings, "policy", t)
        debug: dict[str, Any] = {
            "intent": msg.intent,
            "language": state.language,
            **decision.to_dict(),
            "specificity": self.policy.specificity(state),
            "pool": pool,
            "candidates": len(candidates),
            "channels": recalled.channels if recalled else {},
            "stages_ms": stages,
            "feedback": msg.feedback,
            "reading": msg.notes,
            "state": _state_summary(state),
        }
        log.info(
            "session %s turn %d: intent=%s act=%s (%s)",
            self.id,
            state.turns,
            msg.intent,
            decision.act,
            decision.reason,
        )

        reply, items = yield from self._play(decision, msg, state, recalled, timings, debug)
        timings["total"] = round(time.perf_counter() - started, 4)
        debug["stages_ms"] = {k: round(v * 1000, 3) for k, v in stages.items()}
        self._save(text, reply, items, msg, state, {"timings": timings, "debug": debug})
        yield Done(self.id, reply, timings, debug)

    @property
    def _by_closeness(self) -> bool:
        """Are decisions made on closeness in meaning here: a shop's products (a film's
        genre or name says what, whatever the closeness), embedded by a model?"""
        return self.tracker.sells_products and measures_meaning(self.store.embedder)

    def _by_meaning(self, msg: MessageReading) -> None:
        """A message no word of which the catalog uses ("a rukksak 4 hikin"), or one a
        learned label took off topic without being sure ("air purifyer 4 my hayfever"),
        is a request when an item matches it strongly in meaning. Products only."""
        ruled = "unclear" if msg.intent == "unclear" else msg.unsure_of
        if ruled is None or not self._by_closeness:
            return
        if matches_strongly(shortlist(self.recommender, request_state(msg.prepared), 1)):
            msg.intent = "recommend" if ruled == "unclear" else ruled
            msg.notes.append("an item matches the message strongly in meaning: a request")

    def _retrieve(
        self, state: DialogueState, stages: dict[str, float], said_now: bool = True
    ) -> tuple[Shortlist | None, int]:
        """How many items pass the constraints, and the shortlist when any do. When
        any of them is the thing asked for (the head noun), only those are: one
        daypack is a better answer than a daypack beside a hammock, and fewer cards
        say that there are only so many (CatalogVocabulary.stands_alone). When the
        catalog sells the thing but none passes, none is shown and the policy says so;
        other kinds come only when the head is no thing sold. A thing said in this
        turn (`said_now`: the head changed) may prove to be said loosely (_loosely); one
        carried from earlier turns is not weighed against words that do not describe it
        ("cheaper?")."""
        state.head_only = False
        pool = self.policy.pool_size(state.filter())
        if not pool and state.passed:  # passed over everything: start the round again
            state.passed = []
            pool = self.policy.pool_size(state.filter())
        if pool and state.head:
            state.head_only = True
            said = state.head
            narrowed = self.policy.pool_size(state.filter())
            if narrowed < 2:  # "a chair": the camp chair tagged so, and the office-chairs
                state.head = self.tracker.wider_head(said)
                narrowed = self.policy.pool_size(state.filter())
            alone = bool(narrowed) and self.tracker.stands_alone(said, narrowed)
            sold = not narrowed and self.tracker.sells(said)  # but none within the limits
            loose = self._loosely(state, state.head, sold) if said_now and (alone or sold) else None
            if loose is not None:  # the whole request says what is wanted, not its noun
                for facet, values in state.head.items():
                    kept = [v for v in state.liked.get(facet, []) if v not in values]
                    state.liked.pop(facet, None)
                    if kept:
                        state.liked[facet] = kept
                state.head, state.head_only, state.equals = {}, False, loose.equals
                pool = self.policy.pool_size(state.filter())
            elif alone:
                pool = narrowed
            else:
                state.head = said
                if sold:
                    pool = 0  # the thing is sold, none within the limits: say so
                else:  # the closest others
                    state.head_only = False
        return (self._recall(state, stages) if pool else None), pool

    def _loosely(
        self, state: DialogueState, said: dict[str, list[str]], sold: bool
    ) -> DialogueState | None:
        """The request without the thing asked for (`said`) as its limit (no head-only
        list, no kind only the head implied) when the head is a word said loosely, or,
        when none of the thing is within the other limits (`sold`), when another item
        within them is as close to the request as the thing itself (a skillet for "a
        cast iron frying pan under 40"); else None. See recommend.said_loosely."""
        if not self.tracker.sells_products:
            return None
        # the message's own words, not the values read from them nor the topic's earlier
        # requests ("a lantern … and sleeping bags": the bags)
        wide = state.copy()
        wide.head_only, wide.head, wide.liked = False, {}, {}
        wide.request = wide.request[-1:]
        kind = self.tracker.kind_facet
        head = [(f, v) for f, vs in said.items() for v in vs]
        if kind and set(wide.equals.get(kind, ())) <= self.tracker.head_kinds(head):
            wide.equals.pop(kind, None)
        if not sold:
            return wide if said_loosely(self.recommender, wide, said) else None
        thing = wide.copy()  # the thing itself, whatever the other limits
        thing.head, thing.head_only = said, True
        thing.equals, thing.ranges, thing.excludes = {}, {}, {}
        return wide if named_otherwise(self.recommender, wide, thing) else None

    def _play(
        self,
        decision: Decision,
        msg: MessageReading,
        state: DialogueState,
        recalled: Shortlist | None,
        timings: dict[str, float],
        debug: dict[str, Any],
    ) -> Generator[Event, None, tuple[str, list[dict[str, Any]]]]:
        """Yield the act's events and return what is stored of it: the reply as the
        user ends up seeing it (a replacement wins over the streamed words) and
        the cards shown."""
        parts: list[str] = []
        items: list[dict[str, Any]] = []
        for event in self._act(decision, msg, state, recalled, timings, debug):
            if isinstance(event, TextDelta):
                parts.append(event.text)
            elif isinstance(event, TextReplace):
                parts = [event.text]
            elif isinstance(event, ItemsShown):
                items = [c.__dict__ for c in event.items]
            yield event
        return "".join(parts).strip(), items

    def _save(
        self,
        text: str,
        reply: str,
        items: list[dict[str, Any]],
        msg: MessageReading,
        state: DialogueState,
        record: dict[str, Any],
    ) -> None:
        """Persist the completed turn; only now does the session take its new state."""
        now = time.time()
        self.db.save_turn(
            self.id,
            state.to_dict(),
            [
                StoredMessage("user", text, [], {}, now),
                StoredMessage("assistant", reply, items, record, now),
            ],
        )
        for item_id, kind in msg.feedback:
            self.feedback_log.record(self.id, item_id, kind, "text")
        self.state = state

    # -- the acts ------------------------------------------------------------------------

    def _act(
        self,
        decision: Decision,
        msg: MessageReading,
        state: DialogueState,
        recalled: Shortlist | None,
        timings: dict[str, float],
        debug: dict[str, Any],
    ) -> Iterator[Event]:
        lang = state.language
        act = decision.act
        if act == "recommend":
            yield from self._recommend(msg, state, recalled, timings, debug)
            return
        if act == "ask":
            assert decision.facet is not None  # the policy always asks about a facet
            text = acts.question(decision, lang, self.tracker.kind_facet, msg)
            state.asked.append(decision.facet)
            state.questions += 1
            state.pending = {"facet": decision.facet, "options": decision.options}
            yield Question(text, decision.facet, [o["label"] for o in decision.options])
        elif act == "no_match":
            text = acts.no_match(decision, state, self.metas, self.tracker.kind_facet, lang)
            state.offer = decision.offer  # the cards shown before stay on screen
        elif act == "answer":
            text = acts.answer(msg, self.metas, lang)
            if len(msg.targets) == 1:
                state.focus = msg.targets[0]
        elif act == "smalltalk":
            text = acts.smalltalk(msg, lang)
        elif act in ("refuse", "unclear", "reset", "acknowledge"):
            text = say(lang, act)
        elif act == "clarify":  # a reference before anything was shown (see _refusal)
            text = say(lang, NOTHING_SHOWN)
        else:  # pragma: no cover - every act of the policy is handled above
            text = say(lang, "unclear")
        yield from _words(text)

    def _recommend(
        self,
        msg: MessageReading,
        state: DialogueState,
        recalled: Shortlist | None,
        timings: dict[str, float],
        debug: dict[str, Any],
    ) -> Iterator[Event]:
        t = time.perf_counter()
        stages = debug["stages_ms"]
        if recalled is None:
            with stage("recall"):
                recalled = self._recall(state, stages)
        k = self.config.recommend_k
        with stage("rank", **{"recochat.candidates": len(recalled.items)}):
            # "cheapest first": the order of every match, not of the best k
            n = len(recalled.items) if state.order else k
            found = ranked_cards(self.recommender, recalled, state, n, timings=stages)
            if self.tracker.sells_products and not state.head_only:
                found = holds_together(found, self.tracker.item_kind)
            if state.order:
                found = in_order(found, state.order, state.order_limit or k)
        cards = found.cards
        t_rank = time.perf_counter()
        timings["rank"] = round(t_rank - t, 4)
        if self._same_again(msg, state, cards):
            debug.update(act="acknowledge", reason="nothing read changes the list on screen")
            yield from _words(acts.nothing_new(msg, state.language, len(state.shown)))
            return
        state.shown = [c.id for c in cards]
        state.recommended = True
        state.pending = None
        state.focus = cards[0].id if len(cards) == 1 else None
        note = acts.acknowledge(msg, self.metas, state.language)
        if cards:
            yield ItemsShown(cards)
        prefix = ""
        if note:
            prefix = note + ("" if state.language == "zh" else " ")
            yield TextDelta(prefix)
        writer = self.writer
        request = " ".join(state.request[-2:]) or msg.text
        with stage("llm", **{"recochat.model": writer.llm.name}) as span:
            for piece in writer.write(
                request,
                cards,
                [i.meta for i in found.items],
                state.language,
                wants="",  # small models echo it; the reasons already say what matched
                allowed_ids=set(state.anchors) | set(state.liked_ids),
            ):
                if piece.replace:
                    yield TextReplace(prefix + piece.text, piece.reason)
                else:
                    yield TextDelta(piece.text)
            result = writer.last
            span.set_attribute("recochat.copy_source", result.source)
        if result.first_token_s is not None:
            timings["llm_first_token"] = round(result.first_token_s, 4)
        if result.first_text_s is not None:  # the first checked words the user sees
            timings["first_text"] = round(result.first_text_s, 4)
        timings["llm_total"] = round(time.perf_counter() - t_rank, 4)
        first = lead(result.text, [c.title for c in cards])
        debug["copy"] = {
            "source": result.source,
            "problems": result.problems,
            "replaced": result.replaced,
            "trimmed": result.trimmed,
            # does the reply lead with the top card? (None: it names no card)
            "leads_with_top": None if first is None else first == cards[0].title,
        }
        debug["shown"] = state.shown

    def _same_again(self, msg: MessageReading, state: DialogueState, cards: list) -> bool:
        """Would a message about the list in which the reader found nothing ("how
        many did you sell?", "only the later ones, 96 onwards" when "96" is not read)
        show the cards on screen again, having changed nothing the list depends on? A
        second showing of the same list would pass for an answer to what was not
        understood."""
        # a request said again ("retry"), or one the learned intent takes for a request in
        # words the catalog does not use, gets its list, whichever cards it holds
        said_before = set(words(msg.prepared)) <= set(words(" ".join(self.state.request)))
        request = msg.learned is not None and msg.learned.label == "request"
        return (
            msg.intent == "refine"
            and not (said_before or request)
            and msg.reads_nothing
            and self.state.recommended
            and bool(cards)
            and {c.id for c in cards} == set(self.state.shown)
            and state.same_list_as(self.state)
        )

    def _recall(self, state: DialogueState, stages: dict[str, float]) -> Shortlist:
        """The learning recommender's shortlist for the dialogue state, with this
        session's online learners (key: the session id) and the user's history."""
        return shortlist(
            self.recommender,
            state,
            self.config.recommend_k,
            limit=self.config.shortlist_k,
            key=self.id,
            user_id=self.user_id,
            timings=stages,
        )

    # -- feedback from a button ------------------------------------------------------------

    def feedback(self, item_id: str, kind: str, source: str = "ui") -> FeedbackApplied:
        """Like / dislike / seen (or click) on an item, from the UI or the API. The next
        turn sees it at once; it is saved with the session. Unknown items or kinds
        raise InputError and change nothing."""
        if kind not in KINDS:
            raise InputError(f"Unknown feedback '{kind}'. Use one of: {', '.join(KINDS)}.")
        meta = self.store.get(item_id) if isinstance(item_id, str) else None
        if meta is None:
            raise InputError(
                f"Unknown item id {item_id!r}. Feedback applies to items in the catalog, "
                "such as the ones shown in this conversation."
            )
        state = self.state.copy()
        message = ""
        if kind != "click":
            apply_feedback(state, item_id, kind)
            state.focus = item_id
            message = say(state.language, kind, title=_named(meta, item_id))
        self.db.save_turn(self.id, state.to_dict(), [])
        self.feedback_log.record(self.id, item_id, kind, source)
        self.recommender.feedback(self.id, item_id, kind, shown=len(state.shown))
        self.state = state
        return FeedbackApplied(item_id, kind, message)


def _lap(timings: dict[str, float], stage: str, since: float) -> float:
    """Record a stage's seconds since `since`; the time now starts the next stage."""
    now = time.perf_counter()
    timings[stage] = round(now - since, 4)
    return now


def _refusal(msg: MessageReading) -> ErrorEvent | None:
    """A message the turn stops at: a language we do not speak, or a reference to
    nothing (e.g. "the third one" when two were shown). A reference before anything
    was shown is no refusal: the policy's "clarify" act answers it."""
    if msg.unsupported:
        return ErrorEvent("unsupported_language", UNSUPPORTED)
    if msg.intent == "problem" and msg.problem and msg.problem[0] != NOTHING_SHOWN:
        return ErrorEvent(*msg.problem)
    return None


def _words(text: str) -> Iterator[TextDelta]:
    """Stream a fixed reply in word-sized pieces, like the model's copy."""
    for m in re.finditer(r"\S+\s*", text):
        yield TextDelta(m.group(0))


def _state_summary(state: DialogueState) -> dict[str, Any]:
    return {
        k: v
        for k, v in {
            "equals": state.equals,
            "excludes": state.excludes,
            "ranges": state.ranges,
            "liked": state.liked,
            "avoid": state.avoid,
            "avoid_terms": state.avoid_terms,
            "price_level": state.price_level,
            "anchors": state.anchors,
            "liked_ids": state.liked_ids,
            "disliked_ids": state.disliked_ids,
            "seen_ids": state.seen_ids,
            "asked": state.asked,
            "answered": state.answered,
            "questions": state.questions,
            "query": state.query_text(),
        }.items()
        if v not in (None, [], {}, 0, "")
    }


def _named(meta: dict[str, Any], item_id: str) -> str:
    """An item as a feedback note names it: its title, and its brand when it has one
    (three "Sport Wireless Earbuds" are told apart by maker)."""
    title = str(meta.get("title", item_id))
    return f"{title} ({meta['brand']})" if meta.get("brand") else title
