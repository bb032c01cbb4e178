"""The learned intent (intent_model.py) weighed against the rules' reading.

The rules settle a message when they find what it points at: a shown item by
position or colour, a title, feedback words, a reset, a sum. When they find none
of it they read a request by default, which is where new phrasings go wrong:
"pretend ur my grumpy grandpa" gets pyjamas, "zero clue what to get him" gets
three random gifts, "what's the silver one made of" a new list. There the label
learned from examples decides, and only when it is confident (THRESHOLDS, chosen
by cross-validation of the example set: `recochat eval intents`):

- off_topic, service → out_of_scope: answered on role and steered back, unless the
  message also asks for items or points at them (a request cue, a shown item, a
  title, a price limit);
- smalltalk → smalltalk, when the message holds nothing of the catalog;
- vague → a request whose need is unknown (no kind, no example, no shown item to
  refine): its words are not taken as details, so the policy asks what kind of
  thing instead of guessing; a greeting that opens a conversation is one too;
- item_question → a question about the shown item the rules could point at
  (a pronoun, "the one", a field asked of what is on screen);
- dislike, like → feedback on the shown items the rules pointed at ("looks flimsy,
  scrap the blue one"), when they read no verdict of their own.
"""

from __future__ import annotations

import chat.understand.intents as cues
from chat.state import DialogueState
from chat.understand import refinements
from chat.understand.intent_model import IntentGuess
from chat.understand.reading import MessageReading
from chat.understand.text import words
from chat.understand.vocabulary import CatalogVocabulary
from chat.understand.words import AUDIENCE, GENERIC_WORDS, OCCASIONS, PEOPLE, THING_NOUNS

# the probability a label needs before it overrides the rules' default reading
THRESHOLDS = {
    "dislike": 0.8,
    "like": 0.8,
    "off_topic": 0.6,
    "service": 0.6,
    "smalltalk": 0.6,
    "vague": 0.6,
    "item_question": 0.6,
}
# off topic although the message names a thing sold, whom a gift is for, an occasion or
# a film: only when the model is this sure ("write a poem for my mum's birthday", not
# "it's my neighbour's birthday on saturday")
SURE_OFF_TOPIC = 0.85
# a question for a fact, off topic or about an item, this sure (_asks_another_fact)
SURE_QUESTION = 0.8
_QUESTIONS = ("item_question", "off_topic", "service")
# a need left open this sure, in a first message: the story's words do not say what
# (the bar a sure off-topic label must clear over the catalog's words, SURE_OFF_TOPIC)
SURE_VAGUE = 0.85
SURE_SHOPPER = 0.6  # a request or a vague need this sure is a shopper's (llm_reading.merge)
SURE_REQUEST = 0.9  # a request in words the catalog does not use (_take)
# off topic and a shop-service question are both answered on role, and steer back
_ON_ROLE = ("off_topic", "service")
# intents the rules settle from what they found; the learned label never overrides them
_SETTLED = frozenset(
    "question feedback out_of_scope reset problem answer accept_offer decline_offer".split()
)


def weigh(tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, low: str) -> None:
    """Let the learned label take the message where the rules only defaulted."""
    # "zero clue what to get him" answering "what kind of item?" is still a need left open
    open_answer = msg.intent == "answer" and msg.no_preference
    if (msg.intent in _SETTLED and not open_answer) or msg.unsupported or msg.option or msg.reset:
        return
    if any(c.isalpha() for c in msg.text):
        msg.learned = tracker.intent_model.guess(msg.text)
        msg.notes.append(f"learned intent: {msg.learned}")
        _take(tracker, state, msg, low, msg.learned)
    _greeting_opens(state, msg, low)


def _take(
    tracker: CatalogVocabulary,
    state: DialogueState,
    msg: MessageReading,
    low: str,
    guess: IntentGuess,
) -> None:
    label, p = guess.label, guess.p
    if label in _ON_ROLE:  # answered alike: how sure it is one of them is what counts
        p = sum(guess.probs.get(other, 0.0) for other in _ON_ROLE)
    points = bool(msg.refs or msg.titles or msg.feedback)
    asked = bool(cues.REQUEST.search(low) or cues.ASKS_FOR_ANY.search(low))
    asks_items = asked or bool(msg.force or msg.reading.ranges or msg.order)
    if _asks_another_fact(state, msg, low, guess, points or asks_items) and not (
        refinements.names_an_operation(tracker, state, msg)
    ):
        msg.intent = "out_of_scope"
        msg.notes.append("a question for a fact the items do not hold: off topic")
        return
    if label == "request" and msg.intent == "unclear" and p >= SURE_REQUEST:
        # "a rucksack for hillwalking": no word the catalog uses, but surely a request;
        # recall by meaning answers it, or the policy asks what kind of thing
        msg.intent = "recommend"
        msg.notes.append("taken: request, though no word is the catalog's")
        return
    if p < THRESHOLDS.get(label, 2.0):
        return
    if label in _ON_ROLE:
        # a thing sold, a person or an occasion named: only when the model is sure; a
        # title that is also a word of the question ("the capital of Australia") does
        # not make a sure off-topic question one about the film
        cued = shopping_cue(state, msg, low) or bool(msg.head)
        # a kind or a thing the catalog sells named ("she dropped a hint about bath bombs")
        sold = [
            hit
            for hit, polarity in msg.values
            if polarity == "+"
            and (hit.facet == tracker.kind_facet or tracker.is_thing(hit.facet, hit.value))
        ]
        cued = cued or bool(sold) or any(t.text in PEOPLE for t in msg.tokens)
        sure = p >= SURE_OFF_TOPIC
        if cued and not sure:
            return
        # "tell me about your memory foam mattress": the shop's own things, whatever else
        # the message is like ("how do I get wax off my rug" is about the user's)
        yours = any(
            "your" in (t.text for t in msg.tokens[max(0, hit.start - 3) : hit.start])
            for hit in sold
        )
        if (
            msg.refs
            or msg.feedback
            or (msg.titles and not sure)
            or asks_items
            or yours
            or state.pending
        ):
            return
        if msg.in_stock or msg.different:  # "which of those can I get today": about the items
            return
        if refinements.names_an_operation(tracker, state, msg):
            return  # "… what's actually there to buy now?": about the list on screen
        if not sure:
            msg.unsure_of = msg.intent
        msg.intent = "out_of_scope"
        msg.notes.append(f"taken: {label} → out_of_scope")
    elif label == "smalltalk":
        # "whatever" answering the question asked is no small talk
        if msg.intent not in ("unclear", "answer") and not (
            points or asks_items or msg.constraints or msg.in_stock
        ):
            msg.intent = "smalltalk"
            msg.notes.append("taken: smalltalk")
    elif label == "vague" and msg.intent in ("recommend", "smalltalk", "unclear", "answer"):
        # a value of the catalog said ("she does yoga") says what, whatever the model thinks
        # whom it is for or the occasion ("a baby shower", "the kids want to chip in") do not
        said = [
            h
            for h, p in msg.values
            if p == "+"
            and h.value.lower() not in GENERIC_WORDS
            and not set(words(h.value)) <= AUDIENCE | OCCASIONS
        ]
        kind_known = has_kind(tracker, state, msg)
        story = p >= SURE_VAGUE and not (msg.says_what or state.request or state.shown)
        if story:
            # "we kept her up half the night with our party", "they're finally home":
            # words of the story, not of the need; only a thing sold would say what
            said = [h for h in said if tracker.is_thing(h.facet, h.value)]
            kind_known = bool(msg.titles) or any(tracker.is_thing(f, v) for f, v in msg.head)
        if not (points or said or kind_known or state.shown):
            if msg.intent != "answer":  # an answer stays one: the question was answered
                msg.intent = "recommend"
            msg.vague = True
            msg.notes.append("taken: vague → a need still unknown")
            if story:  # nor a kind or the thing: the question asks what is wanted
                kind = tracker.kind_facet
                msg.values = [(h, q) for h, q in msg.values if not (q == "+" and h.facet == kind)]
                msg.head = []
    elif label in ("dislike", "like") and msg.refs and not msg.feedback:
        # "looks flimsy, scrap the blue one": the rules found the item, not the verdict
        ids = [i for r in msg.refs if r.how != "all" for i in r.ids]
        if ids and msg.intent in ("recommend", "refine"):
            msg.feedback = [(i, label) for i in ids]
            msg.intent = "feedback"
            msg.notes.append(f"taken: {label} of {len(ids)} shown item(s)")
    elif label == "item_question" and (state.shown or msg.titles):
        # "which is roomier, the 1st or the 2nd?": a comparative that asks which of the
        # shown items pointed at is more so, not for more of them
        compared = [c.facet for c in msg.reading.comparatives]
        comparing = bool(compared) and low.lstrip().startswith("which") and len(msg.targets) > 1
        if comparing or not (msg.constraints or asks_items):
            targets = _question_targets(tracker, state, msg, low)
            if targets:
                msg.intent, msg.targets = "question", targets
                msg.fields = msg.fields or cues.attributes_asked(low, tracker.fields) or compared
                msg.notes.append(f"taken: item_question about {len(targets)} item(s)")


def _asks_another_fact(
    state: DialogueState, msg: MessageReading, low: str, guess: IntentGuess, asks: bool
) -> bool:
    """ "random but how many bones are in the human body?" in the middle of a search: a
    question for a fact that points at no item, asks none of their fields, names
    nothing of the catalog and asks for nothing. The rules would read it as a
    refinement (its words as wishes); the model, sure it is a question of some kind
    (about an item or off topic), but torn between the two, settles that it is not a
    request. Answered on role; the search stays as it was."""
    questioning = sum(guess.probs.get(label, 0.0) for label in _QUESTIONS)
    said = [h for h, p in msg.values if p == "+" and h.value.lower() not in GENERIC_WORDS]
    return (
        msg.intent in ("refine", "recommend")
        and bool(state.shown or state.request)
        and questioning >= SURE_QUESTION
        and cues.asks_a_fact(low)
        and not (asks or said or msg.head or msg.targets or msg.fields)
        and not (msg.reading.comparatives or msg.in_stock or msg.different)
        and not cues.ASKS_OTHERS.search(low)
    )


def is_shopper(msg: MessageReading) -> bool:
    """Is the learned intent sure the message is a shopper's (a request, or a need left
    open)? Then no other reading may make it chat or off-topic."""
    learned = msg.learned
    return (
        learned is not None and learned.label in ("request", "vague") and learned.p >= SURE_SHOPPER
    )


def shopping_cue(state: DialogueState, msg: MessageReading, low: str) -> bool:
    """Words that make a message a shopper's though they name nothing of the catalog:
    the occasion ("it's her birthday"), a film or a book ("a film for tonight?"),
    browsing ("just browsing"), or "anything else?" while items are on screen."""
    return (
        any(t.text in OCCASIONS or t.text in THING_NOUNS for t in msg.tokens)
        or bool(cues.BROWSING.search(low))
        or bool(state.shown and cues.MORE_OPTIONS.search(low))
    )


def _greeting_opens(state: DialogueState, msg: MessageReading, low: str) -> None:
    """ "hey", "hiya!": a bare greeting that opens a conversation wants help with
    something not yet said; the policy asks what kind of thing (with the catalog's
    kinds as options) instead of only greeting back."""
    bare = not (cues.THANKS.search(low) or cues.BYE.search(low) or cues.ABOUT_BOT.search(low))
    opening = not (state.request or state.shown or state.turns)
    if msg.intent == "smalltalk" and cues.GREETING.search(low) and bare and opening:
        msg.intent, msg.vague = "recommend", True
        msg.notes.append("a greeting that opens the conversation: ask what they need")


def _question_targets(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, low: str
) -> list[str]:
    """The items a question points at: those the rules found, a shown item pointed at,
    a title named, else a pronoun's, else the item talked about, else, for one item on
    screen, that one."""
    if msg.targets:
        return list(msg.targets)
    ids = [i for r in msg.refs for i in r.ids]
    if ids:
        return ids
    if msg.titles:  # "who designed the Automatic Field Watch?", shown or not
        return [msg.titles[0][0].ids[0]]
    found, why = tracker.pronoun_targets(low, state)
    if found and why != "ambiguous":
        return list(found)
    if low.lstrip().startswith("which"):  # "which is the lightest?": all of them compared
        return list(state.shown)
    if state.focus:
        return [state.focus]
    return list(state.shown) if len(state.shown) == 1 else []


def has_kind(vocab: CatalogVocabulary, state: DialogueState, msg: MessageReading) -> bool:
    """Is it known what kind of item is wanted: a named kind, a head noun, an example
    title, or the kind of the conversation so far?"""
    kind = vocab.kind_facet
    if kind is None:  # a catalog of one kind (films): any wanted value says what
        return bool(msg.titles or any(p == "+" for _, p in msg.values))
    named = any(h.facet == kind for h, p in msg.values if p == "+")
    return bool(named or msg.head or msg.titles or state.equals.get(kind))
