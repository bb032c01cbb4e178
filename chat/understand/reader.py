"""Reading one message (`read_message`): the first half of the state tracker
(chat/dialogue/update.py applies what was read to the state).

Reading order matters: numbers first (so "90s" or "$50" are not read as
words), then references to shown items, then titles, then facet values, so that
each word is read once. Negation is read per value from the words before it in
the same clause ("no horror or gore": both negated; "no horror, but I like
comedy": only horror).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import chat.understand.intents as cues
from chat.state import DialogueState
from chat.understand import cue_phrases, learned_intent, refinements
from chat.understand.foreign import is_foreign_word
from chat.understand.lexicon import ValueHit, proper_noun_facet
from chat.understand.ranges import Comparative, marked_amount
from chat.understand.reading import NOTHING_SHOWN, MessageReading
from chat.understand.references import (
    ORDINALS,
    TitleHit,
    shared_name,
    shown_refs,
    title_core,
)
from chat.understand.text import as_list, singular, stem, tokenize, words
from chat.understand.vocabulary import NEGATIONS, CatalogVocabulary
from chat.understand.words import AUDIENCE, COLOUR_WORDS, is_rare_word

# pronouns of a person, never of an item ("it", "they" may be either)
_PERSON = frozenset("he him his she her hers".split())


def read_message(tracker: CatalogVocabulary, state: DialogueState, text: str) -> MessageReading:
    unmarked = cues.without_markup(text)
    planted = bool(unmarked) and unmarked != text
    text = unmarked or text  # a message that is all markup is read (and refused) as it is
    detected = tracker.detect(text)
    prepared = tracker.prepare(text)
    if detected.written_in:  # "una mochila ligera" → "una backpack lightweight"
        prepared = _translated(tracker, prepared, detected.written_in)
    low = prepared.casefold() if len(prepared.casefold()) == len(prepared) else prepared.lower()
    reset = cues.RESET.search(low)
    if reset:  # read as a reset, not as words: the rest of the message is the new request
        # and what came before it is taken back ("a weekender bag… actually no, scrap
        # that, a hiking backpack")
        blank = "." + " " * (reset.end() - 1)
        prepared = blank + prepared[reset.end() :]
        low = blank + low[reset.end() :]
    msg = MessageReading(
        text,
        prepared,
        tokenize(prepared),
        detected.language,
        detected.unsupported_script,
        detected.written_in,
    )
    msg.reset = bool(reset)
    if planted:
        msg.notes.append("markup in the message (role blocks, tags) not read")
    asked = cues.order_asked(low)
    if asked:  # read as an order, not as words: "cheapest" sets no price level here
        m, name, down, one = asked
        role = {"price": tracker.ranges.price, "year": tracker.ranges.year}.get(name, name)
        if role in tracker.fields:
            msg.order, msg.order_limit = [role, "desc" if down else "asc"], (1 if one else None)
            blank = "." + " " * (m.end() - m.start() - 1)
            prepared = prepared[: m.start()] + blank + prepared[m.end() :]
            low = low[: m.start()] + blank + low[m.end() :]
            msg.prepared, msg.tokens = prepared, tokenize(prepared)
    msg.reading = tracker.ranges.read(low)
    _read_quoted_price(tracker, state, msg, low)
    # token positions already read: each word is read once, in the order of the docstring
    used = {i for i, t in enumerate(msg.tokens) if msg.reading.covers(t.start, t.end)}
    _read_refs(tracker, state, msg, used)
    titles = _read_titles(tracker, state, msg, used)
    _read_values(tracker, msg, used)
    _read_person(tracker, state, msg, used)
    _read_missing_colour(tracker, msg, used)
    switch = cues.IN_ENGLISH.search(low)
    if switch:  # the chat's language, no limit: "sorry, English is easier - …"
        msg.values = [(h, p) for h, p in msg.values if msg.tokens[h.start].start >= switch.end()]
    msg.head = _head(tracker, msg)
    _drop_unheld(tracker, state, msg)
    _read_feedback(tracker, state, msg, low, titles)
    _read_words(tracker, state, msg, used)
    _read_intent(tracker, state, msg, low)
    learned_intent.weigh(tracker, state, msg, low)
    refinements.apply(tracker, state, msg)
    return msg


def _read_quoted_price(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, low: str
) -> None:
    """ "$899, for a student?!": the price of a shown item said back bare (no "under",
    "max" …) is a complaint about that price, so something cheaper than it, not a
    budget that keeps it."""
    price = tracker.ranges.price
    if not price or not state.shown:
        return
    values = [tracker.metas.get(i, {}).get(price) for i in state.shown]
    prices = [float(p) for p in values if isinstance(p, (int, float))]
    for hit in msg.reading.ranges:
        bare = marked_amount(low[hit.start : hit.end])
        said = hit.high if hit.low is None else None
        if hit.facet != price or not bare or said is None:
            continue
        if any(abs(p - said) <= max(1.0, 0.01 * p) for p in prices):
            msg.reading.ranges.remove(hit)
            msg.reading.comparatives.append(Comparative(price, "lower", hit.start, hit.end))
            msg.notes.append("a shown price said back: something cheaper")
            return


def _translated(tracker: CatalogVocabulary, prepared: str, language: str) -> str:
    """The message with its words mapped onto the catalog's English; amounts ("50
    Euro"), the catalog's own words ("noir") and capitalised words of its names
    ("von Kestrel", "mit Jim Carrey") stay as they are."""
    prepared = cue_phrases.in_english(prepared, language)
    amounts = tracker.ranges.read(prepared.lower())

    def keep(start: int, end: int) -> bool:
        word = prepared[start:end]
        return (
            amounts.covers(start, end)
            or word.lower() in cue_phrases.ENGLISH
            or (
                bool(tracker.lexicon.find(tokenize(word), fuzzy=False))
                and not is_foreign_word(word.lower(), language)
            )
            or (word[0].isupper() and word.lower() in tracker.name_words)
        )

    return tracker.foreign.translate(prepared, language, keep)


def _on_screen(tracker: CatalogVocabulary, state: DialogueState) -> list[tuple[str, dict]]:
    """The items on screen with their records, in order."""
    return [(i, tracker.metas[i]) for i in state.shown if i in tracker.metas]


def _read_refs(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, used: set[int]
) -> None:
    """References to the items on screen ("the second one"); one that points past
    them becomes the message's problem."""
    shown = _on_screen(tracker, state)
    low = msg.prepared.lower()
    # an item named by part of its title is asked about or judged, not requested
    by_name = cues.is_question(low) or cues.feedback_kind(low) is not None
    msg.refs = shown_refs(
        msg.tokens, shown, tracker.lexicon, by_name=by_name, bare_names=_asks_a_field(tracker, low)
    )
    for ref in msg.refs:
        used |= set(range(ref.start, ref.end))
        if ref.missing is not None and not state.shown:
            # "the last one" before any list: an ordinary message, answered in the chat
            msg.problem = (NOTHING_SHOWN, "Nothing has been shown yet.")
        elif ref.missing is not None:
            n = len(state.shown)
            which = "the last one" if ref.missing == -1 else f"item {ref.missing}"
            msg.problem = (
                "bad_reference",
                f"I showed {n} item{'s' if n != 1 else ''}, so there is no {which}. "
                + ("Say which one you mean: " + ", ".join(str(k) for k in range(1, n + 1)) + "."),
            )


def _asks_a_field(tracker: CatalogVocabulary, low: str) -> bool:
    """A question about a field of an item ("who's in …", "how many pages is …"): the
    item may be named without "the" or capitals."""
    return cues.is_question(low) and bool(cues.attributes_asked(low, tracker.fields))


def _read_titles(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, used: set[int]
) -> list[TitleHit]:
    """Catalog titles named in the message (those on screen preferred)."""
    if not tracker.titles.keys:
        return []
    tokens = msg.tokens
    titles = tracker.titles.find(
        tokens,
        msg.prepared,
        skip=used,
        prefer=state.shown,
        is_value=tracker.lexicon.has_form,
        asked=_asks_a_field(tracker, msg.prepared.lower()),
    )
    taken = used | {j for h in titles for j in range(h.start, h.end)}
    titles = sorted(
        titles + tracker.titles.series(tokens, taken, tracker.lexicon.has_form),
        key=lambda h: h.start,
    )
    for hit in titles:
        used |= set(range(hit.start, hit.end))
        # "Halloween from 1978": the year picks the version, it is no year filter
        end = tokens[hit.end - 1].end
        msg.reading.ranges = [
            r
            for r in msg.reading.ranges
            if not (r.low == r.high and 0 <= r.start - end <= 8 and r.facet == tracker.ranges.year)
        ]
    return titles


def _read_values(tracker: CatalogVocabulary, msg: MessageReading, used: set[int]) -> None:
    """Facet values, each with its polarity from the words before it."""
    previous = None
    found = tracker.lexicon.find(msg.tokens, skip=used, fuzzy=not msg.written_in)
    found = [h for h in found if not _lower_case_word(tracker, msg, h)]
    for hit in _one_role_per_name(tracker, _shared_heads(tracker, msg, found)):
        if _verb_position(msg, hit.start):
            continue  # "I can stretch to 40": a verb, not the tag "stretch"
        polarity = tracker.negation_of(msg, hit.start)
        if (
            polarity != "+"
            and hit.facet == tracker.kind_facet
            and previous is not None
            and previous.end == hit.start
        ):
            polarity = "+"  # "I hate plastic toys": the negation is about plastic, not toys
        if hit.end < len(msg.tokens) and msg.tokens[hit.end].text in ("instead", "rather"):
            polarity = "+"  # "forget the kettle, a grinder instead": the one wanted now
        msg.values.append((hit, polarity))
        used |= set(range(hit.start, hit.end))
        previous = hit


_SUBJECTS = frozenset("i we you they he she".split())
_MODALS = frozenset("can could will would might may should ll d".split())


def _verb_position(msg: MessageReading, start: int) -> bool:
    """Is the word right after a subject and a modal ("we could stretch", "I'll run"),
    so a verb whatever else it spells?"""
    texts = [t.text for t in msg.tokens]
    return start >= 2 and texts[start - 1] in _MODALS and texts[start - 2] in _SUBJECTS


def _shared_heads(
    tracker: CatalogVocabulary, msg: MessageReading, hits: list[ValueHit]
) -> list[ValueHit]:
    """ "board or card games", "road and trail shoes": the first word of a pair shares
    the noun after the second, so it is read with it ("board games"), when the two
    words make a value, instead of alone ("board" → cutting board)."""
    words_ = [t.text for t in msg.tokens]
    out = list(hits)
    for i in range(len(words_) - 3):
        if words_[i + 1] not in ("or", "and", "/", "nor"):
            continue
        pair = tracker.lexicon.index.get((words_[i], words_[i + 3]))
        if not pair:
            continue
        out = [h for h in out if not (h.start == i and h.end == i + 1)]
        out += [ValueHit(f, v, i, i + 1) for f, v in sorted(pair)]
    return sorted(out, key=lambda h: (h.start, h.end))


def _read_person(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, used: set[int]
) -> None:
    """ "what else has he made?", "any other books by her?" right after a question
    about a person of the item talked about ("who directed it?"): "he" is that
    person, so the wanted items share that field's value with the item."""
    if not state.focus or not state.focus_fields:
        return
    at = next((i for i, t in enumerate(msg.tokens) if t.text in _PERSON), None)
    if at is None or at in used:
        return
    meta = tracker.metas.get(state.focus, {})
    for facet in state.focus_fields:
        value = meta.get(facet)
        names = [v for v in (value if isinstance(value, list) else [value]) if v]
        if not names or not all(isinstance(v, str) for v in names):
            continue
        if not proper_noun_facet(names):
            continue  # a field of words, not of names ("what genre is it?")
        # one person: the first named, in each spelling the item has ("J. K. Rowling",
        # "J.K. Rowling"), not the illustrator or the supporting cast
        surname = words(names[0])[-1:]
        for v in names:
            if words(v)[-1:] == surname:
                msg.values.append((ValueHit(facet, v, at, at + 1), "+"))
    used.add(at)


def _read_missing_colour(tracker: CatalogVocabulary, msg: MessageReading, used: set[int]) -> None:
    """ "in turquoise?" where nothing in the catalog is turquoise: said so, rather than
    showing another colour as if it were that one. (A colour the catalog has but not
    for this thing is a filter, answered by the honest no-match.)"""
    have = tracker.colour_words
    if have is None or msg.problem:
        return
    for i, tok in enumerate(msg.tokens):
        if i not in used and tok.text in COLOUR_WORDS and tok.text not in have:
            if tracker.negation_of(msg, i) == "+":
                msg.problem = ("missing_value", f"Nothing in the catalog comes in {tok.text}.")
                return


def _one_role_per_name(tracker: CatalogVocabulary, hits: list[ValueHit]) -> list[ValueHit]:
    """ "Tom Hanks" is a star, a director and a writer in some catalogs: as a constraint
    on all three only films he starred in, directed and wrote would do. The name keeps
    the role it has most often (Hanks: stars; Nolan: director). Likewise a surname two
    people share across roles ("a Dickens novel": the actress Kim Dickens and the
    writer Charles Dickens) is one person, the one with the most items, not both."""
    counts = tracker.lexicon.counts
    best: dict[tuple[int, int], ValueHit] = {}
    for h in hits:
        if h.facet in tracker.lexicon.proper:
            key = (h.start, h.end)
            old = best.get(key)
            if old is None or counts[h.facet][h.value] > counts[old.facet][old.value]:
                best[key] = h
    # several values of the one role stay ("detective": the genres Crime and Mystery)
    return [
        h
        for h in hits
        if h.facet not in tracker.lexicon.proper or best[(h.start, h.end)].facet == h.facet
    ]


def _lower_case_word(tracker: CatalogVocabulary, msg: MessageReading, hit: ValueHit) -> bool:
    """A person's surname alone, written in lower case, that is an ordinary English
    word ("some Agatha Christie for the beach": no Michael Beach): a word, not a name.
    A rare word stays a name however written ("a spielberg film")."""
    token = msg.tokens[hit.start]
    return (
        hit.end - hit.start == 1
        and hit.facet in tracker.lexicon.proper
        and len(words(hit.value)) > 1
        and not token.raw[:1].isupper()
        and not is_rare_word(token.text)
    )


_AFTER_HEAD = frozenset(
    "for under below over above with without from that which to in on at by less more "
    "around about between and but or please big large small enough so as like i we you "
    "he she they it instead rather not maybe perhaps ideally preferably too also then though "
    "first now today only again".split()
)
# a verb after the shop's thing: it was the subject ("your slow cooker comes with …";
# not "my kids' school is retiring", "the lawn is a jungle")
_VERB_AFTER = frozenset(
    "is are was were has have had comes come came looks works does keeps gets makes costs".split()
)


def _yours(msg: MessageReading, hit: ValueHit) -> bool:
    """Is the value said of the shop's own item ("your slow cooker")?"""
    return "your" in (t.text for t in msg.tokens[max(0, hit.start - 3) : hit.start])


def _head(tracker: CatalogVocabulary, msg: MessageReading) -> list[tuple[str, str]]:
    """The values of the head noun: the first wanted descriptive value that ends its
    noun phrase ("wireless earbuds for running": earbuds; "an electric kettle for
    tea": kettle). Kinds and names (hard facets) are constraints already."""
    positive = [h for h, p in msg.values if p == "+" and h.facet not in tracker.hard]
    # never the thing: its colour ("crème"), whom it is for ("with the kids"), what
    # someone loves ("a present for my nan who loves birds")
    positive = [
        h
        for h in positive
        if h.facet != tracker.colour_field
        and not set(words(h.value)) <= AUDIENCE
        and not _interest(msg, h.start)
    ]
    if tracker.kind_facet:
        # a thing sold before a word that describes one ("a light": not the toy dinosaur
        # tagged "lights"), and a value after "for" ("something for running, a watch
        # maybe"), a use, last
        positive.sort(
            key=lambda h: (
                not tracker.is_thing(h.facet, h.value),
                h.start > 0 and msg.tokens[h.start - 1].text == "for",
            )
        )
    # a long message ("we're going camping with the kids … what I really need is a
    # tent"): the thing is named after the words that say what is needed
    cue = cues.REQUEST.search(msg.prepared.lower())
    if cue and re.search(r"[.!?;:]\s|\s[-–—]+\s", msg.prepared[: cue.start()]):
        after_cue = [h for h in positive if msg.tokens[h.start].start >= cue.end()]
        positive = after_cue or positive
    if msg.written_in:
        # not English word order ("una mochila ligera"): the first thing read is the
        # thing ("… mit dem Laufen an und suche Laufschuhe": the shoes, not the running;
        # "crème hydratante": a colour and a use to the catalog, so none)
        things = sorted(
            (h for h in positive if tracker.is_thing(h.facet, h.value)), key=lambda h: h.start
        )
        return [(h.facet, h.value) for h in things if h.start == things[0].start]
    words_ = [t.text for t in msg.tokens]
    for hit in positive:
        after = words_[hit.end] if hit.end < len(words_) else None
        covered = hit.end < len(msg.tokens) and msg.reading.covers(
            msg.tokens[hit.end].start, msg.tokens[hit.end].end
        )
        # "a cosy throw blanket, something soft": a comma or a stop ends the phrase
        gap = (
            ""
            if after is None
            else msg.prepared[msg.tokens[hit.end - 1].end : msg.tokens[hit.end].start]
        )
        # "a speaker loud enough for a film": an adjective with "enough" follows the noun
        then = words_[hit.end + 1] if hit.end + 1 < len(words_) else None
        if (
            after is None
            or after in _AFTER_HEAD
            or (after in _VERB_AFTER and _yours(msg, hit))
            or then == "enough"
            or covered
            or re.search(r"[,;:.!?]", gap)
        ):
            same = [h for h in positive if (h.start, h.end) == (hit.start, hit.end)]
            return [(h.facet, h.value) for h in same]
    return []


_LOVES = frozenset("love loves loved adore adores likes enjoy enjoys into about".split())


def _drop_unheld(tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading) -> None:
    """A wish for a field the thing asked for never has is no limit on it: "English
    breakfast tea", "sorry, English is easier - blackout curtains" (no tea or curtain
    has a language). Only for a thing the catalog sells, said now or earlier."""
    head = msg.head or [(f, v) for f, vs in state.head.items() for v in vs]
    if not head or not any(tracker.is_thing(f, v) for f, v in head):
        return
    held = tracker.fields_of(head)
    if not held:
        return
    dropped = [
        (h, p)
        for h, p in msg.values
        if p == "+"
        and h.facet in tracker.hard
        and h.facet != tracker.kind_facet
        and h.facet not in held
    ]
    for pair in dropped:
        msg.values.remove(pair)
        msg.notes.append(f"{pair[0].value} ({pair[0].facet}): no such field on the thing asked for")
    _drop_other_kinds(tracker, msg)


def _drop_other_kinds(tracker: CatalogVocabulary, msg: MessageReading) -> None:
    """A kind the thing named in the same message never is describes something else:
    the occasion ("outdoor film night in the garden — we need a speaker": the speaker
    is electronics) or what comes with it ("your slow cooker comes with a free recipe
    book"). Only for a thing named in its own words (not "board" for a cutting board),
    or after the words that say what is needed, with the kind said before them."""
    heads = [h for h, _ in msg.values if (h.facet, h.value) in msg.head]
    if not heads or not tracker.kind_facet:
        return
    cue = cues.REQUEST.search(msg.prepared.lower())
    after_cue = cue is not None and msg.tokens[heads[0].start].start >= cue.end()
    words_ = [t.text for t in msg.tokens]
    own_words = all(
        tracker.lexicon.own_form(tuple(words_[h.start : h.end]), h.value) for h in heads
    )
    if not (after_cue or own_words):
        return
    said: dict[str, list[str]] = {}
    for facet, value in msg.head:  # the head's values are alternatives ("lawn mower")
        said.setdefault(facet, []).append(value)
    # the kinds of the items it names, by tag, by title or as a compound ("desk-lamp")
    wide = tracker.wider_head(said)
    held = tracker.head_kinds([(f, v) for f, vs in wide.items() for v in vs])
    if not held:
        return
    spans = {(h.start, h.end) for h in heads}
    kinds = [
        (h, p)
        for h, p in msg.values
        if p == "+"
        and h.facet == tracker.kind_facet
        and (h.start, h.end) not in spans  # "the kitchen": the kind and the tag of one word
        and (own_words or (cue is not None and msg.tokens[h.end - 1].end <= cue.start()))
    ]
    for pair in kinds:
        value = pair[0].value
        if value not in held:
            msg.values.remove(pair)
            msg.notes.append(f"{value} ({tracker.kind_facet}): not a kind of the thing asked for")


def _interest(msg: MessageReading, start: int) -> bool:
    """Is the word what someone loves, is into or mad about ("who loves birds",
    "obsessed with dinosaurs", "a fan of jazz")?"""
    before = [t.text for t in msg.tokens[max(0, start - 2) : start]]
    return bool(before) and (
        before[-1] in _LOVES or before in (["obsessed", "with"], ["fan", "of"])
    )


def _likeness_or_use(msg: MessageReading, start: int, end: int) -> bool:
    """Is the value what the thing is like ("something cosy", "anything bath-ish") or
    the use of the goods named after it ("camping gear", "home gym bits")?"""
    before = start > 0 and msg.tokens[start - 1].text in ("something", "anything")
    return before or (end < len(msg.tokens) and msg.tokens[end].text in cues.GOODS)


def _span_of(msg: MessageReading, start: int, end: int) -> tuple[int, int]:
    return msg.tokens[start].start, msg.tokens[end - 1].end


def _read_feedback(
    tracker: CatalogVocabulary,
    state: DialogueState,
    msg: MessageReading,
    low: str,
    titles: list[TitleHit],
) -> None:
    """Feedback and item targets, clause by clause: "seen the first, but I like the second"."""
    for c_start, c_end in cues.clauses(low):
        clause = low[c_start:c_end]
        kind = cues.feedback_kind(clause)

        def inside(s: int, e: int, c_start: int = c_start, c_end: int = c_end) -> bool:
            return c_start <= s and e <= c_end

        targets: list[str] = []
        for ref in msg.refs:
            if ref.ids and inside(*_span_of(msg, ref.start, ref.end)):
                targets += list(ref.ids)
        clause_titles = [h for h in titles if inside(*_span_of(msg, h.start, h.end))]
        for hit in clause_titles:
            if (
                hit.series
                and kind in (None, "dislike")
                and not _example_cue(msg, hit.start)
                and tracker.negation_of(msg, hit.start) == "+"
            ):
                # "the Harry Potter books, not the films": asked for, neither an example
                # nor what the clause's "not" is about
                continue
            item = hit.ids[0]
            if hit.series and kind:  # "seen both Kill Bills": each of them
                targets += list(hit.ids[1:])
            title_kind = kind or "anchor"
            if not kind and tracker.sells_products and not _example_cue(msg, hit.start):
                # "eucalyptus shower gel": a product asked for by its name is wanted, not
                # an example of what is wanted (films and books are talked about by title)
                title_kind = "named"
            if not kind and tracker.negation_of(msg, hit.start) != "+":
                # "DiCaprio films but not Titanic": a title ruled out, no example
                title_kind = "dislike"
                msg.feedback.append((item, title_kind))
            msg.titles.append((hit, title_kind))
            targets.append(item)
        if not kind:
            # "something like the first one": a shown item as an example, like a title
            # ("more like the first two": each of them)
            for ref in msg.refs:
                if ref.ids and inside(*_span_of(msg, ref.start, ref.end)):
                    if _example_cue(msg, ref.start):
                        for item in ref.ids:
                            msg.titles.append((TitleHit((item,), ref.start, ref.end), "anchor"))
        if not targets and kind:
            found, why = tracker.pronoun_targets(clause, state)
            if why == "ambiguous" and not msg.problem:
                n = len(state.shown)
                msg.problem = (
                    "ambiguous_reference",
                    f"Which one do you mean? Say a number from 1 to {n}, or its name.",
                )
            targets = found
        if kind and targets:
            for item in dict.fromkeys(targets):
                msg.feedback.append((item, kind))
        msg.targets += [t for t in targets if t not in msg.targets]


_EXAMPLE_CUES = (("like",), ("similar", "to"), ("as",), ("more", "like"), ("same", "as"))


def _example_cue(msg: MessageReading, start: int) -> bool:
    """Is the reference at token `start` introduced as an example ("like the first one",
    "similar to the second")?"""
    words_ = [t.text for t in msg.tokens[:start]]
    if words_ and words_[-1] in ("the", "that", "this"):
        words_ = words_[:-1]
    return any(tuple(words_[-len(cue) :]) == cue for cue in _EXAMPLE_CUES)


def _read_words(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, used: set[int]
) -> None:
    """Descriptive words of the request, words to avoid, and the positive text for
    the dense query (negated words left out, so "no horror" does not pull horror up)."""
    negated: set[int] = set()
    for hit, polarity in msg.values:
        if polarity != "+":
            negated |= set(range(hit.start, hit.end))
    negation_words = {w for phrase, _ in NEGATIONS for w in phrase}
    # "zero clue what to get him", "not sure": saying they do not know is no detail
    low = msg.prepared.lower()
    unsure = [m.span() for m in cues.NO_PREFERENCE.finditer(low)]
    for i, tok in enumerate(msg.tokens):
        if any(s <= tok.start and tok.end <= e for s, e in unsure):
            used.add(i)
    for i, tok in enumerate(msg.tokens):
        if i in used or (tok.text in negation_words and _cue_at(tracker, msg, i)):
            continue  # "not a fan of horror": "fan" is part of the cue, no word to avoid
        polarity = tracker.negation_of(msg, i)
        if polarity != "+":
            negated.add(i)
            if tracker.is_content(tok.text) and not tracker.lexicon.has_form((tok.text,)):
                msg.avoid_terms.append(tracker.avoid_stem(tok.text))
        elif tracker.is_content(tok.text):
            msg.content.append(tok.text)
    # keep the words that are not negated and not a negation cue
    referring = {i for r in msg.refs for i in range(r.start, r.end)}
    kept = [
        t.raw
        for i, t in enumerate(msg.tokens)
        if i not in negated
        and i not in referring
        and not (t.text in negation_words and _cue_at(tracker, msg, i))
    ]
    msg.positive_text = " ".join(kept)


def _cue_at(tracker: CatalogVocabulary, msg: MessageReading, i: int) -> bool:
    """Is token i part of a negation cue for the word after it?"""
    return i + 1 < len(msg.tokens) and tracker.negation_of(msg, i + 1) != "+"


def _read_reset(tracker: CatalogVocabulary, msg: MessageReading, low: str, wants: bool) -> None:
    """ "forget all that, I need a bike lock": a reset that carries a new request
    starts the new topic with it instead of dropping it; a bare one starts over."""
    rest = [w for w in re.findall(r"[a-z]+", low) if tracker.is_content(w)]
    carries = bool(wants or msg.reading.ranges or msg.head or rest)
    msg.intent = "recommend" if carries else "reset"
    msg.new_topic = msg.new_topic or carries
    if carries:
        msg.notes.append("reset with a new request")


def _read_intent(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, low: str
) -> None:
    if state.shown:
        msg.different = cues.different_fields(low, tracker.fields)
    positive = [h for h, p in msg.values if p == "+"]
    request = bool(cues.REQUEST.search(low))
    msg.force = bool(cues.FORCE.search(low))
    msg.says_what = bool(cues.USE_DESCRIBED.search(low)) or any(
        p == "+" and (_interest(msg, h.start) or _likeness_or_use(msg, h.start, h.end))
        for h, p in msg.values
    )
    msg.no_preference = bool(cues.NO_PREFERENCE.search(low.strip(" .!?")))
    domain = bool(msg.values or msg.reading.ranges or msg.reading.levels or msg.titles or msg.refs)
    domain = domain or bool(msg.reading.comparatives) or request or bool(msg.feedback)
    domain = domain or learned_intent.shopping_cue(state, msg, low)
    domain = domain or bool(msg.different)
    msg.in_stock = bool(cues.IN_STOCK.search(low)) and (
        not cues.is_question(low) or bool(cues.WHICH_OF.search(low))
    )
    domain = domain or msg.in_stock or bool(msg.order)
    known_content = [w for w in msg.content if tracker.lexicon.known_word(w)]

    # a pending question may be answered with an option number or "no preference"
    if state.pending and not msg.constraints:
        options = state.pending.get("options") or []
        picked = [r for r in msg.refs if r.how == "ordinal"]
        number = next((t.text for t in msg.tokens if t.text.isdigit()), None)
        index = None
        if picked and picked[0].start is not None:
            index = ORDINALS.get(msg.tokens[picked[0].start].text)
        elif number and len(msg.tokens) <= 3:
            index = int(number)
        if index is not None and options and (1 <= index <= len(options) or index == -1):
            msg.option = options[index - 1] if index > 0 else options[-1]
            msg.refs, msg.feedback, msg.targets, msg.problem = [], [], [], None
    if cues.INSTRUCTIONS.search(low):
        msg.intent = "out_of_scope"
        msg.notes.append("instructions to the assistant: refused")
    elif cues.OTHERS_DATA.search(low):
        msg.intent = "out_of_scope"
        msg.notes.append("other people's personal data: refused")
    elif (
        cues.ARITHMETIC.search(low) and not msg.reading.ranges and not msg.feedback
    ) or cues.AMOUNTS_COMPARED.search(low):
        msg.intent = "out_of_scope"
        msg.notes.append("a sum to work out: off topic")
    elif msg.reset:
        _read_reset(tracker, msg, low, bool(positive))
    elif msg.problem and not msg.option:
        msg.intent = "problem"
    elif state.offer and cues.YES.search(low) and not msg.constraints:
        msg.intent = "accept_offer"
    elif state.offer and cues.NO.search(low) and not msg.constraints:
        msg.intent = "decline_offer"
    elif msg.option or (state.pending and msg.no_preference and not msg.constraints):
        msg.intent = "answer"
    elif msg.feedback:
        msg.intent = "feedback"
    elif (
        cues.SHOP_SERVICE.search(low)
        and not request
        and not (msg.refs or msg.titles)
        and not any(h.facet in tracker.hard for h in positive)
    ):
        msg.intent = "out_of_scope"
        msg.notes.append("a question about the shop's service, not its items")
    elif _is_item_question(tracker, state, msg, low, positive):
        msg.intent = "question"
    elif _bare_reference(msg):
        msg.intent = "question"  # "the cheaper one": tell me about it
    elif cues.OUT_OF_SCOPE.search(low) and (
        not domain
        # "what's the capital of Australia?": a question of another kind, even when a
        # word of it is in the catalog, unless it asks for items or points at them
        or (
            cues.is_question(low)
            and not (request or msg.refs or msg.titles or msg.head)
            and not any(h.facet in tracker.hard for h in positive)
            and not _asks_for_values(msg, low, positive)
        )
    ):
        msg.intent = "out_of_scope"
    elif not domain and (
        cues.GREETING.search(low)
        or cues.THANKS.search(low)
        or cues.BYE.search(low)
        or cues.ABOUT_BOT.search(low)
    ):
        msg.intent = "smalltalk"
    elif not domain and not known_content and not msg.force and msg.content:
        msg.intent = "unclear"
    elif not domain and not msg.content and not msg.force and not cues.REFINE.search(low):
        msg.intent = "smalltalk" if not state.shown else "refine"
    else:
        msg.intent = (
            "refine"
            if (state.request or state.shown) and not _new_topic(tracker, state, msg, low)
            else "recommend"
        )
    msg.new_topic = msg.intent == "recommend" and bool(state.request)


def _is_item_question(
    tracker: CatalogVocabulary,
    state: DialogueState,
    msg: MessageReading,
    low: str,
    positive: list[ValueHit],
) -> bool:
    if not cues.is_question(low) or msg.in_stock:
        return False  # "which of those can I actually get today?" filters the list
    compares = bool(cues.COMPARES_ITEMS.search(low))
    if (
        msg.reading.comparatives
        and not compares
        and (cues.ALTERNATIVES.search(low) or not cues.opens_question(low))
    ):
        # "the second one is too pricey, anything cheaper?": the item is the yardstick
        # of a refinement, not the subject of a question about its price
        return False
    msg.fields = cues.attributes_asked(low, tracker.fields)
    if compares:  # "is the second one lighter?" asks for the measure compared
        msg.fields += [
            c.facet
            for c in msg.reading.comparatives
            if c.facet in tracker.fields and c.facet not in msg.fields
        ]
    about = bool(cues.MORE_ABOUT.search(low))
    # "is it cheaper than the others?" compares; it sets no limit
    only_comparing = compares and not (msg.reading.ranges or msg.reading.levels or positive)
    # "how long does its battery last": "battery" names the field asked, no wish;
    # "what does the oil smell of?" (a beard oil and a hair oil on screen): a word
    # naming every shown item points at them all, no wish either
    field_words = {w for f in msg.fields for w in f.split("_")}
    naming = shared_name(low, _on_screen(tracker, state))
    wishes = [
        h
        for h in positive
        if not set(words(h.value)) <= field_words
        and not {singular(t.text) for t in msg.tokens[h.start : h.end]} <= naming
    ]
    constrained = bool(wishes) or (msg.constraints and not positive)
    explicit = [_version_asked(tracker, msg, t) for t in msg.targets]
    if not explicit:
        found, why = tracker.pronoun_targets(low, state)
        if (msg.fields or about) and (not constrained or only_comparing):
            if why == "ambiguous" and not (msg.fields and cues.ABOUT_BOT.search(low)):
                explicit = list(state.shown)  # "how much are they?" → all of them
            else:
                explicit = found
            if not explicit and msg.fields and _curt(msg):
                # "price?", "and the colour?": the item talked about, else all on screen
                explicit = [state.focus] if state.focus else list(state.shown)
        if not explicit and naming and not constrained:
            explicit = list(state.shown)
    if not explicit and msg.fields:
        explicit = _described(tracker, state, msg, low, positive)
    if not explicit:
        return False
    # "the second pair's a bit steep, got anything under that?" asks for others; "does
    # the first one have anything like …", "how much is …" ask about the one pointed at
    if (cues.ASKS_OTHERS.search(low) or msg.different) and not (
        cues.opens_field_question(low) or cues.COMPARES_ITEMS.search(low)
    ):
        return False
    # "what's the difference between the first and second one?": a question that points
    # at shown items and asks for nothing new (no constraint, no example, no "cheaper",
    # "another") is about them, whatever it asks
    pointed = bool(msg.refs) and not any(kind == "anchor" for _, kind in msg.titles)
    about_shown = pointed and not msg.constraints and not cues.REFINE.search(low)
    if msg.fields or about or about_shown or naming or (positive and (msg.refs or msg.titles)):
        msg.targets = explicit
        return True
    return False


_DEFINITE = frozenset(("the", "that", "this"))


def _version_asked(tracker: CatalogVocabulary, msg: MessageReading, item: str) -> str:
    """Of the entries a title named may mean ("Jane Eyre": the novel and the film), the
    one whose record has the fields asked, and whose words ("film") the message says."""
    hit = next((h for h, _ in msg.titles if h.ids and h.ids[0] == item and not h.year), None)
    if hit is None or len(hit.ids) < 2:
        return item
    said = {stem(t.text) for t in msg.tokens}

    def fit(other: str) -> tuple[int, int]:
        meta = tracker.metas.get(other, {})
        filled = sum(meta.get(f) not in (None, "", []) for f in msg.fields)
        text = " ".join(str(v) for k, v in meta.items() if k != "description" and v)
        return filled, len(said & {stem(w) for w in words(text)})

    return max(hit.ids, key=lambda other: (fit(other), other == item))


def _described(
    tracker: CatalogVocabulary,
    state: DialogueState,
    msg: MessageReading,
    low: str,
    positive: list[ValueHit],
) -> list[str]:
    """ "is the orange one in stock?", "how many litres is the slow cooker?", "who
    wrote Marrow Lane?": a field asked of an item described by its values (after
    "the") or by capitalised words of its title. The items on screen first, then
    other versions of them (the same title), then the one title in the whole
    catalog that fits; nothing when the message asks for items ("any red ones?")."""
    if msg.reading.ranges or msg.reading.levels or msg.reading.comparatives:
        return []
    if cues.REQUEST.search(low) or cues.ALTERNATIVES.search(low):
        return []
    words_ = [t.text for t in msg.tokens]
    # a field asked of "your kettlebell": the shop's own, as definite as "the"
    fields = set(cues.attributes_asked(low, tracker.fields)) - {"description"}
    definite = _DEFINITE | ({"your"} if fields else set())
    described = [
        h
        for h in positive
        if h.facet not in ("in_stock",) and definite & set(words_[max(0, h.start - 3) : h.start])
    ]
    # the values of one word are alternatives ("paper": a material or a tag)
    spans: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for h in described:
        spans.setdefault((h.start, h.end), []).append((h.facet, h.value))
    in_values = {i for h in positive for i in range(h.start, h.end)}
    named = {
        singular(t.text)
        for i, t in enumerate(msg.tokens)
        if i
        and i not in in_values
        and t.raw[:1].isupper()
        and len(t.text) > 2
        and not tracker.lexicon.has_form((t.text,))
    }
    named |= _pointing_words(tracker, state, msg, in_values)
    if not spans and not named:
        return []

    def fits(meta: dict, loose: bool) -> bool:
        title = {singular(w) for w in words(str(meta.get("title") or ""))}
        for (start, end), alternatives in spans.items():
            if not any(value in as_list(meta.get(facet)) for facet, value in alternatives):
                # loosely, the words may be its title's ("the paper shredder": the
                # Cross-Cut Paper Shredder, whose material is no paper)
                if not (loose and {singular(w) for w in words_[start:end]} <= title):
                    return False
        return not named or named <= title

    return _items_that_fit(tracker, state, lambda m: fits(m, False)) or _items_that_fit(
        tracker, state, lambda m: fits(m, True)
    )


def _items_that_fit(
    tracker: CatalogVocabulary, state: DialogueState, fits: Callable[[dict], bool]
) -> list[str]:
    """The items on screen that fit, else those shown earlier in this search, else
    other versions of those on screen, else the one title in the catalog that does."""
    metas = tracker.metas
    shown = [i for i in state.shown if i in metas]
    found = [i for i in shown if fits(metas[i])]
    # then one shown earlier in this search ("the little travel one" two lists ago)
    found = found or [i for i in state.passed if i in metas and fits(metas[i])]
    if found:
        return found
    # another version on sale (the same title, any maker or colour): not same_work,
    # which keeps two makers' products apart
    cores = {title_core(str(metas[i].get("title"))) for i in shown}
    versions = [
        i
        for i, m in metas.items()
        if i not in shown and title_core(str(m.get("title"))) in cores and fits(m)
    ]
    if versions:
        return versions
    anywhere = [i for i, m in metas.items() if fits(m)]
    if len({title_core(str(metas[i].get("title"))) for i in anywhere}) == 1:
        return anywhere
    return []


def _pointing_words(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, skip: set[int]
) -> set[str]:
    """ "is the artisan one in stock?": words between "the" and "one", typed in any
    case, that are words of a shown item's title point at that item."""
    shown_words = {
        singular(w) for i in state.shown for w in words(str(tracker.metas.get(i, {}).get("title")))
    }
    out: set[str] = set()
    texts = [t.text for t in msg.tokens]
    for j, word in enumerate(texts):
        if word not in ("one", "ones"):
            continue
        for i in range(j - 1, max(-1, j - 4), -1):
            if texts[i] in _DEFINITE:
                out |= {
                    singular(texts[k])
                    for k in range(i + 1, j)
                    if k not in skip and singular(texts[k]) in shown_words
                }
                break
    return out


# words a curt question about a field may have besides the field's own
_CURT_WORDS = frozenset(
    "and what about the its it's their whats what's how much so ok okay also then".split()
)


def _curt(msg: MessageReading) -> bool:
    """A question that is little more than a field's name ("price?", "and colour?",
    "what about weight"): it asks about what is on screen, whatever it names."""
    rest = [t.text for t in msg.tokens if t.text not in _CURT_WORDS]
    return len(rest) <= 2 and not msg.titles


def _asks_for_values(msg: MessageReading, low: str, positive: list[ValueHit]) -> bool:
    """Does the last sentence, the one that asks, name what the catalog has? A long
    story ("my boyfriend and I go hiking for the first time … which tent would you
    get?") may hold a word of another topic; the question at its end is what counts."""
    ends = [m.end() for m in re.finditer(r"[.!?;]\s+(?=\S)", low)]
    if not ends:
        return False  # one sentence: the word of another topic is in the question
    last = ends[-1]
    return any(msg.tokens[h.start].start >= last for h in positive)


def _bare_reference(msg: MessageReading) -> bool:
    pointed = [r for r in msg.refs if r.ids and r.how != "all"]
    return bool(pointed) and not msg.constraints and not msg.content and not msg.titles


def _new_topic(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, low: str
) -> bool:
    kind = tracker.kind_facet
    if kind:
        new_kinds = {h.value for h, p in msg.values if p == "+" and h.facet == kind}
        if not new_kinds and msg.head:  # "wireless earbuds" after tents: electronics
            # (any head, a describing one too: "a silk pillowcase" after fountain pens)
            new_kinds = set().union(*(tracker.kinds_of(f, v) for f, v in msg.head))
        old = set(state.equals.get(kind, [])) | set(state.liked.get(kind, []))
        if new_kinds and old and not (new_kinds & old):
            if not any(tracker.plain_use(msg, h) for h, p in msg.values if h.facet == kind):
                return True
    if cues.NEW_TOPIC.search(low) and (msg.content or msg.values):
        return True
    # "forget pillows, what I really need is a salad spinner": the thing asked for so
    # far refused, and something else described
    refused = {
        w
        for h, p in msg.values
        if p != "+" and h.value in state.head.get(h.facet, [])
        for w in (h.value, *words(h.value))
    }
    other = msg.titles or any(
        tracker.describes(w) and singular(w) not in refused for w in msg.content
    )
    if refused and other:
        return True
    if cues.REFINE.search(low) or msg.reading.comparatives or msg.refs:
        return False
    # "a kettle for my kitchen" after talking about earbuds: a fresh noun phrase that
    # shares nothing with the request so far
    # ("and a few tubs for the leftovers", "oh, also some candles")
    fresh = cues.REQUEST.search(low) or re.match(
        r"^\W*(?:(?:and|also|plus|oh|then)\W+)*(?:a|an|some)\b", low
    )
    units = {singular(w) for w in msg.content}
    units |= {h.value for h, p in msg.values if p == "+" and h.facet not in tracker.hard}
    old_words = {singular(w) for w in state.details}
    old_words |= {v for vs in state.liked.values() for v in vs}
    old_words |= {singular(w) for w in " ".join(state.request).lower().split()}
    return bool(fresh) and len(units) >= 2 and not (units & old_words)
