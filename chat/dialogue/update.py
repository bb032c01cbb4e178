"""Applying a read message to the dialogue state: the second half of
the state tracker (chat/understand/reader.py is the first). The input state is never modified;
later statements override earlier ones, a new topic clears the request, and
what the user said about items (seen, disliked, liked) is kept for good."""

from __future__ import annotations

import statistics
from typing import Any

import chat.understand.intents as cues
from chat.state import DialogueState
from chat.understand.lexicon import ValueHit
from chat.understand.reading import MessageReading
from chat.understand.text import as_list, singular, words
from chat.understand.vocabulary import CatalogVocabulary
from chat.understand.words import GENERIC_WORDS

YEAR_STEP = 1
PRICE_STEP = 0.01


def apply_message(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading
) -> DialogueState:
    new = state.copy()
    new.turns += 1
    if msg.language:
        new.language = msg.language
    if msg.intent in ("problem", "out_of_scope"):
        # an off-topic turn ("do you ship to Canada?") leaves the request as it was:
        # its words ("ship") are no wish about the items
        return new
    if msg.intent == "reset":
        new.clear_topic()
        new.shown = []
        return new
    if msg.intent == "accept_offer" and state.offer:
        _accept_offer(new, state.offer)
    if msg.intent in ("accept_offer", "decline_offer") or msg.constraints:
        new.offer = None
    if msg.new_topic:
        new.clear_topic()
    if state.pending:
        _answer_pending(new, state.pending, msg)
    _shown_thing(tracker, state, new, msg)
    _apply_constraints(tracker, state, new, msg)
    for item, kind in msg.feedback:
        apply_feedback(new, item, kind)
    _refuse_brand(tracker, new, msg)
    for title, kind in msg.titles:
        if kind == "named":  # a product asked for by name: its name says what is wanted
            name = words(str(tracker.metas.get(title.ids[0], {}).get("title") or ""))
            new.details += [w for w in name if tracker.describes(w) and w not in new.details]
        if kind == "anchor" and title.ids[0] not in new.anchors:
            new.anchors.append(title.ids[0])
        # "like the Bourne films": none of them; "books like Pride and Prejudice", no year
        # said: no entry of that title (the book, the film "Pride & Prejudice") in a
        # catalog of works; products of one name by several makers are several products
        whole = title.series or (not tracker.sells_products and title.exact and title.year is None)
        if kind == "anchor" and whole:
            new.excluded_ids += [i for i in title.ids[1:] if i not in new.excluded_ids]
    _apply_different(tracker, state, new, msg)
    _apply_avoid_terms(new, msg)
    _extend_request(tracker, state, new, msg)
    tracker.resolve_price_level(new)
    for facet in list(new.equals) + list(new.liked) + list(new.ranges):
        if facet not in new.answered:
            new.answered.append(facet)
    _block_other_versions(tracker, new)
    return new


def _refuse_brand(tracker: CatalogVocabulary, new: DialogueState, msg: MessageReading) -> None:
    """ "not the Voltera ones": shown items disliked by their maker's name, in the
    plural, refuse the maker, not only the items on screen."""
    disliked = {i for i, kind in msg.feedback if kind == "dislike"}
    for ref in msg.refs:
        said = [t.text for t in msg.tokens[ref.start : ref.end]]
        if ref.how != "name" or not said or said[-1] != "ones" or not set(ref.ids) <= disliked:
            continue
        for item in ref.ids:
            brand = tracker.metas.get(item, {}).get("brand")
            if isinstance(brand, str) and set(words(brand)) <= set(said):
                _add(new.excludes, "brand", brand)


def _block_other_versions(tracker: CatalogVocabulary, new: DialogueState) -> None:
    """An item ruled out (seen, disliked, liked, named as an example) rules out the
    catalog's other entries of the same work: "like Groundhog Day" must not bring back
    "Groundhog Day (1993)"."""
    blocked = new.blocked_ids()
    for item in sorted(blocked - set(new.excluded_ids)):
        for other in tracker.same_work(item):
            if other not in blocked and other not in new.excluded_ids:
                new.excluded_ids.append(other)


def _shown_thing(
    tracker: CatalogVocabulary, state: DialogueState, new: DialogueState, msg: MessageReading
) -> None:
    """ "anything cheaper?", "not that brand", "sort them by price" after a list whose
    request named no thing the catalog tags ("a cast iron pan"): the refinement is about
    the things shown, so the thing they all are (their titles' head noun, as a value
    every one of them carries) becomes the thing asked for."""
    if new.head or msg.new_topic or not state.shown:
        return  # a thing the message names itself replaces this one (_apply_constraints)
    if msg.intent not in ("refine", "feedback"):
        return
    metas = [tracker.metas[i] for i in state.shown if i in tracker.metas]
    if len(metas) < 2:
        return
    titled = [[singular(w) for w in words(str(m.get("title") or ""))] for m in metas]
    things: list[tuple[int, str, str]] = []  # (-place in the titles, facet, value)
    for facet in tracker.lexicon.facets:
        if facet in tracker.lexicon.proper or facet == tracker.kind_facet:
            continue
        shared = set.intersection(*({str(v) for v in as_list(m.get(facet)) if v} for m in metas))
        for v in shared:
            noun = singular(words(v)[-1]) if words(v) else ""
            if all(noun in t for t in titled):
                # of "Cast Iron Skillet", the skillet: English compounds end with their head
                things.append((-min(t.index(noun) for t in titled), facet, v))
    if not things:
        return
    _, facet, value = min(things)
    new.head = {facet: [value]}
    kind = tracker.kind_facet
    kinds = {m.get(kind) for m in metas} if kind else set()
    if kind and len(kinds) == 1 and None not in kinds and not new.equals.get(kind):
        new.equals[kind] = [str(kinds.pop())]


def _answer_pending(new: DialogueState, pending: dict[str, Any], msg: MessageReading) -> None:
    """The reply to the question asked last turn: an option, or "no preference"."""
    facet = pending.get("facet")
    if msg.option:
        _apply_option(new, msg.option)
        if facet is not None:
            new.answered.append(facet)
    elif (msg.no_preference or msg.force) and facet is not None:
        new.answered.append(facet)
    new.pending = None


def _apply_constraints(
    tracker: CatalogVocabulary, state: DialogueState, new: DialogueState, msg: MessageReading
) -> None:
    """What the message says the items must or must not be: the head noun, the facet
    values (wanted or not) and the ranges."""
    if msg.head and not _describes_the_thing(tracker, new, msg):
        new.head = {}
        for facet, value in _spelled_head(tracker, msg):
            _add(new.head, facet, value)
        _implied_kind(tracker, new, msg)
    if msg.order:
        new.order, new.order_limit = list(msg.order), msg.order_limit
    if msg.in_stock and "in_stock" in tracker.fields:
        new.equals["in_stock"] = [True]
    also = bool(cues.ALSO.search(msg.prepared.lower()))
    replaced: set[str] = set()
    wanted = {(hit.facet, hit.value) for hit, polarity in msg.values if polarity == "+"}
    refused_ends = {hit.end for hit, polarity in msg.values if polarity != "+"}
    for hit, polarity in msg.values:
        if polarity != "+" and (
            (hit.facet, hit.value) in wanted
            or (hit.start in refused_ends and _compound_head(tracker, msg, hit))
        ):
            continue  # "no blade grinders": a variety of the thing is refused, not the thing
        _apply_value(tracker, new, msg, hit, polarity, also, replaced)
    _apply_ranges(tracker, state, new, msg)


def _apply_avoid_terms(new: DialogueState, msg: MessageReading) -> None:
    asked_for = {singular(w.lower()) for part in new.request for w in part.split()}
    asked_for |= {singular(w) for w in msg.content}
    for term in [] if msg.no_preference else msg.avoid_terms:
        # "no blade grinders" while asking for a grinder: avoid blades, not grinders
        if term not in new.avoid_terms and term not in asked_for:
            new.avoid_terms.append(term)


def _apply_different(
    tracker: CatalogVocabulary, state: DialogueState, new: DialogueState, msg: MessageReading
) -> None:
    """ "a different brand": the values of that field among the items just shown are
    ruled out (those of the item talked about, when there is one). When that leaves
    none of the thing asked for (every shown brand was all the shop has of it), only
    the top pick's value is: "a different brand" than the one recommended."""
    items = [state.focus] if state.focus in state.shown else list(state.shown)
    if len(items) > 1 and msg.different and not _thing_left(tracker, new, msg.different, items):
        items = items[:1]
    for facet in msg.different:
        for item in items:
            value = tracker.metas.get(item, {}).get(facet)
            for v in value if isinstance(value, list) else [value]:
                if v is not None:
                    _remove(new.equals, facet, v)
                    _remove(new.liked, facet, v)
                    _add(new.excludes, facet, v)


def _thing_left(
    tracker: CatalogVocabulary, new: DialogueState, facets: list[str], items: list[str]
) -> bool:
    """Is any item of the thing asked for left once the items' values of `facets`
    are ruled out?"""
    flt = new.filter()
    flt.equals = {**flt.equals, **{f: list(v) for f, v in new.head.items() if v}}
    for facet in facets:
        values = [
            v
            for item in items
            for v in as_list(tracker.metas.get(item, {}).get(facet))
            if v is not None
        ]
        flt.excludes = {**flt.excludes, facet: list(flt.excludes.get(facet, [])) + values}
    return any(flt.matches(i, m) for i, m in tracker.metas.items())


def _extend_request(
    tracker: CatalogVocabulary, state: DialogueState, new: DialogueState, msg: MessageReading
) -> None:
    """What the user is talking about and asking for, in their words (the dense
    query), and the items they are done with."""
    if msg.targets:
        new.focus = msg.targets[-1]
    new.focus_fields = list(msg.fields) if msg.intent == "question" else []
    if msg.intent == "refine" and (msg.others or cues.MORE_OPTIONS.search(msg.prepared.lower())):
        new.passed += [i for i in state.shown if i not in new.passed]
    wanted = bool(msg.content) or any(p == "+" for _, p in msg.values)
    if msg.intent in ("recommend", "refine", "answer", "feedback") and msg.positive_text.strip():
        # "the second one is too pricey, anything cheaper?" says nothing new about what
        # the item is: its words would only blur the dense query of the request
        if msg.intent == "recommend" or wanted:
            new.request.append(msg.positive_text.strip())
    if (msg.intent in ("recommend", "refine", "answer") or msg.constraints) and not msg.vague:
        # a detail says what the thing is or is for, in words the catalog uses: who it
        # is for and the occasion ("my coworker is leaving") leave the need open
        for word in msg.content:
            if tracker.describes(word) and tracker.lexicon.known_word(word):
                if word not in new.details:
                    new.details.append(word)
        if state.questions and not msg.option:
            # after a question, a value said in their own words (not an option picked
            # from it) shows what they want: "he is mad about dinosaurs"
            # a kind said inside a sentence of their own ("he's mad about his garden") is
            # theirs too; said alone ("garden") it is an option picked by name
            own_sentence = len(msg.content) >= 3
            for hit, polarity in msg.values:
                spoken = [t.text for t in msg.tokens[hit.start : hit.end]]
                described = polarity == "+" and (hit.facet not in tracker.hard or own_sentence)
                if described and any(tracker.describes(w) for w in spoken):
                    if str(hit.value) not in new.details:
                        new.details.append(str(hit.value))
    if msg.force:
        new.answered = list(dict.fromkeys(new.answered + ["*"]))


def _describes_the_thing(
    tracker: CatalogVocabulary, new: DialogueState, msg: MessageReading
) -> bool:
    """Does a head of another field than the thing asked for so far ("and in black?"
    after a kettle: a colour) only describe that thing (`new`: the state after any
    reset)? Then the thing stays the head: a colour is no kind of item."""
    return bool(
        new.head
        and tracker.kind_facet
        and not msg.new_topic
        and not any(facet in new.head for facet, _ in msg.head)
    )


def _thing(new: DialogueState, msg: MessageReading, facet: str) -> list[tuple[str, str]]:
    """The values of the thing talked about (the head noun, of this message or of the
    request so far), other than those of `facet`."""
    heads = [(f, v) for f, v in msg.head if f != facet]
    return heads or [(f, v) for f, vs in new.head.items() if f != facet for v in vs]


def _version(
    tracker: CatalogVocabulary, new: DialogueState, msg: MessageReading, hit: ValueHit
) -> bool:
    """ "got it in white?", "the same jacket in black", "a mug in blue": a value of a
    facet an item has one of, said after "in" when the thing is known, asks for that
    version of the thing: a filter (an honest no-match when there is none), not a
    leaning. "Something in black" names no thing: black only leans."""
    before = [t.text for t in msg.tokens[max(0, hit.start - 2) : hit.start]]
    if before[-1:] in (["a"], ["an"]):
        before = before[:-1]
    # the thing is another word than this one ("skincare ... in winter": "winter" read as
    # a season and a tag is no thing that comes in winter)
    heads = [f for f, v in msg.head if words(str(v)) != words(str(hit.value))]
    heads += [f for f, vs in new.head.items() if any(words(v) != words(hit.value) for v in vs)]
    thing = any(f != hit.facet for f in heads) or new.equals.get(tracker.kind_facet or "")
    return hit.facet in tracker.single and before[-1:] == ["in"] and bool(thing)


def _compound_head(tracker: CatalogVocabulary, msg: MessageReading, hit: ValueHit) -> bool:
    """Is the hit a compound value said by its head noun alone ("grinders")?"""
    said = tuple(t.text for t in msg.tokens[hit.start : hit.end])
    return said in tracker.lexicon.compound_heads


def _spelled_head(tracker: CatalogVocabulary, msg: MessageReading) -> list[tuple[str, str]]:
    """The head noun's values as the user spelled them, or a synonym that is what the
    catalog's titles call its items ("couch" → sofa); not a looser synonym or a
    misspelling ("headphones" is no "over-ear"), and not the kind itself
    ("electronics" names the category, not the tag "electronic")."""
    kinds = {(h.start, h.end) for h, p in msg.values if h.facet == tracker.kind_facet}
    return [
        (hit.facet, hit.value)
        for hit, _ in msg.values
        if (hit.facet, hit.value) in msg.head
        and (hit.start, hit.end) not in kinds
        and (
            tracker.lexicon.spells(
                tuple(t.text for t in msg.tokens[hit.start : hit.end]), hit.value
            )
            or (not hit.fuzzy and tracker.names_its_items(hit.facet, hit.value, as_noun=True))
        )
    ]


def _implied_kind(tracker: CatalogVocabulary, new: DialogueState, msg: MessageReading) -> None:
    """ "an office chair": when every item the head noun describes is of one kind
    (category), the request is for that kind, as if the user had named it, so a
    price limit does not let lawn mowers in. A kind the user names wins."""
    kind = tracker.kind_facet
    # "a kettlebell for working out at home": a kind said as a place or a use names
    # no kind; the head noun's does
    named = any(
        h.facet == kind and not tracker.plain_use(msg, h) for h, p in msg.values if p == "+"
    )
    if not kind or named or new.equals.get(kind):
        return
    kinds = tracker.head_kinds(msg.head)
    if len(kinds) > 1:
        # "gloves for pruning roses": of the kinds the head noun spans (garden, sports,
        # fashion), the one the other words of the request also describe
        heads = set(msg.head)
        described: set[str] = set()
        for hit, polarity in msg.values:
            if polarity == "+" and hit.facet != kind and (hit.facet, hit.value) not in heads:
                if hit.facet not in tracker.lexicon.proper:
                    described |= tracker.kinds_of(hit.facet, hit.value)
        kinds &= described
    if len(kinds) == 1:
        new.equals[kind] = list(kinds)


def _apply_value(
    tracker: CatalogVocabulary,
    new: DialogueState,
    msg: MessageReading,
    hit: ValueHit,
    polarity: str,
    also: bool,
    replaced: set[str],
) -> None:
    facet, value = hit.facet, hit.value
    spoken = tuple(t.text for t in msg.tokens[hit.start : hit.end])
    # "Nolan films" where "Film" is a genre: a word that names the domain only ranks
    generic = len(spoken) == 1 and spoken[0] in GENERIC_WORDS
    version = polarity == "+" and _version(tracker, new, msg, hit)
    hard = (
        facet in tracker.hard
        and not generic
        and not (facet == tracker.kind_facet and tracker.plain_use(msg, hit))
    ) or version
    if polarity == "+":
        if not hard and tracker.place_of_use(msg, hit):
            return  # "headphones for the train": where they are used, no wish
        _remove(new.excludes, facet, value)
        _remove(new.avoid, facet, value)
        if hard:
            if facet not in replaced and not also:
                new.equals[facet] = []  # a later statement overrides an earlier one
            replaced.add(facet)
            _add(new.equals, facet, value)
        if version:
            # "in black" is the thing in any black ("matte black"), and the thing
            # itself must be had: a black kettle, not any black item of the kitchen
            said = words(str(value))
            for other in tracker.lexicon.values_of(facet):
                if words(other)[-len(said) :] == said:
                    _add(new.equals, facet, other)
            for head_facet, head_value in _thing(new, msg, facet):
                _add(new.equals, head_facet, head_value)
        if not hard:
            _add(new.liked, facet, value)
        return
    _remove(new.equals, facet, value)
    _remove(new.liked, facet, value)
    if value in new.head.get(facet, []):  # "forget pillows": no longer the thing asked for
        new.head = {}
    if polarity == "hard" or (polarity == "dislike" and hard):
        _add(new.excludes, facet, value)
    else:
        _add(new.avoid, facet, value)


def _apply_ranges(
    tracker: CatalogVocabulary, old: DialogueState, new: DialogueState, msg: MessageReading
) -> None:
    explicit_price = False
    for hit in sorted(msg.reading.ranges, key=lambda h: h.start):  # the later one wins
        before = new.ranges.get(hit.facet, [None, None])
        low = hit.low if hit.low is not None else before[0]
        high = hit.high if hit.high is not None else before[1]
        if low is not None and high is not None and low > high:  # contradicts the old side
            low, high = hit.low, hit.high  # so drop it
        new.ranges[hit.facet] = [low, high]
        explicit_price = explicit_price or hit.facet == "price"
        if hit.facet == "price" and hit.high is not None:  # "over $100" leaves the budget
            new.budget = hit.high
    if explicit_price:
        new.price_level = None
    elif msg.reading.levels:
        new.price_level = msg.reading.levels[-1][1]
    shown = [tracker.metas[i] for i in old.shown if i in tracker.metas]
    # "is the second one cheaper than the first?" asks; it does not narrow the request
    comparatives = [] if msg.intent == "question" else msg.reading.comparatives
    # "more expensive, over $100": the figure says how much, the comparative only which way
    stated = {hit.facet for hit in msg.reading.ranges}
    comparatives = [c for c in comparatives if c.facet not in stated]
    for comp in comparatives:
        values = [m[comp.facet] for m in shown if isinstance(m.get(comp.facet), (int, float))]
        if msg.targets:  # "cheaper than the first one"
            values = [
                tracker.metas[t][comp.facet]
                for t in msg.targets
                if isinstance(tracker.metas.get(t, {}).get(comp.facet), (int, float))
            ] or values
        step = (
            PRICE_STEP
            if comp.facet == "price"
            else YEAR_STEP
            if comp.facet == tracker.ranges.year
            else 0.01  # "too heavy": any lighter
        )
        before = new.ranges.get(comp.facet, [None, None])
        # "cheaper" than what was shown: below the middle of those prices, so the
        # cheaper half stays in reach ("cheaper than the first one": below that one;
        # "less than every one of them": below them all)
        if values and comp.direction == "lower":
            pivot = min(values) if comp.beyond_all else statistics.median_low(values)
            new.ranges[comp.facet] = [
                None if before[0] and before[0] >= pivot else before[0],
                round(pivot - step, 2),
            ]
        elif values:
            pivot = max(values) if comp.beyond_all else statistics.median_high(values)
            new.ranges[comp.facet] = [
                round(pivot + step, 2),
                None if before[1] and before[1] <= pivot else before[1],
            ]
        elif comp.facet == "price":
            new.price_level = "low" if comp.direction == "lower" else "high"
        if comp.facet == "price" and values:
            new.price_level = None


def apply_feedback(new: DialogueState, item: str, kind: str) -> None:
    lists = {"like": new.liked_ids, "dislike": new.disliked_ids, "seen": new.seen_ids}
    for name, ids in lists.items():
        if item in ids and name != kind:
            ids.remove(item)  # a later statement overrides an earlier one
    if kind in lists and item not in lists[kind]:
        lists[kind].append(item)


def _accept_offer(new: DialogueState, offer: dict[str, Any]) -> None:
    if offer.get("range"):
        facet, bounds = offer["range"]
        new.ranges[facet] = list(bounds)
        if facet == "price":
            new.price_level = None
    if offer.get("drop"):
        new.equals.pop(offer["drop"], None)


def _apply_option(new: DialogueState, option: dict[str, Any]) -> None:
    for facet, value in (option.get("equals") or {}).items():
        new.equals[facet] = [value]
    for facet, value in (option.get("liked") or {}).items():
        _add(new.liked, facet, value)
    for facet, bounds in (option.get("ranges") or {}).items():
        new.ranges[facet] = list(bounds)
        if facet == "price":
            new.price_level = None


def _add(target: dict[str, list[Any]], facet: str, value: Any) -> None:
    values = target.setdefault(facet, [])
    if value not in values:
        values.append(value)


def _remove(target: dict[str, list[Any]], facet: str, value: Any) -> None:
    if value in target.get(facet, []):
        target[facet].remove(value)
        if not target[facet]:
            del target[facet]
