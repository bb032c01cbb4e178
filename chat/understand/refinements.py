"""Operations on the list on screen, learned from examples where the rules read none.

The rules know a refinement by its words ("cheaper than the first", "sort by
rating", "only what's in stock"); said otherwise ("the bargain one only, drop the
rest", "the ones with the happiest customers first", "skip anything you haven't got
on hand") they read nothing new, and the same list comes back. Here the labelled
messages of prompts/refinements.yaml (one label per operation, in several
languages, and "other" with every non-refinement example of prompts/intents.yaml)
are embedded with the multilingual sentence encoder and a logistic regression is
fitted on them once per process, as for the intents (intent_model.py).

`apply` asks the model only after the rules read a message about the shown list
that changes nothing (no limit, order, stock filter, other brand, feedback, named
thing or title), and takes the operation only above THRESHOLD; it then fills in
what the rules would have read for the operation's plain wording, so the tracker
applies it as usual ("cheaper than the first one": below that one's price).

Sentence vectors hardly tell "larger" from "smaller" (antonyms sit close), so the
model is trusted with the kind of operation (a price, a size, an age, an order by
price) and its direction comes from the words (DIRECTION_WORDS, a closed class in
each language: "less", "bigger", "moins", "größer", "便宜"): "more"/"less" and the
word after it ("more affordable", "less expensive"), else the first other such word,
one after "too" or "not" counting for the other side ("too small": larger), none
after "the" ("the pricier one is out" points at an item), else "more" or "less"
alone; with none, the model's own direction stands.
"""

from __future__ import annotations

import re
from collections import Counter

from chat.state import DialogueState
from chat.understand.intent_model import IntentGuess
from chat.understand.ranges import Comparative
from chat.understand.reading import MessageReading
from chat.understand.vocabulary import CatalogVocabulary

# the probability an operation needs (`recochat eval intents --refinements` cross-validates)
THRESHOLD = 0.7
# numeric fields that are no measure of size
_NOT_SIZE = frozenset(("price", "rating", "rating_count"))
# operations that differ only in direction: (the lower one, the higher one)
_PAIRS = (
    ("cheaper", "dearer"),
    ("smaller", "bigger"),
    ("older", "newer"),
    ("cheapest_first", "dearest_first"),
)
DIRECTION_WORDS = {
    "lower": frozenset(
        "less lower lowest cheaper cheapest cheap modest old short small smaller smallest "
        "shorter compact tiny tinier mini older oldest earlier vintage least affordable budget "
        "ascending low down "
        "menos barato económico económica pequeño antiguo viejo ascendente "
        "moins petit ancien vieux croissant "
        "weniger billiger günstiger kleiner älter aufsteigend "
        "meno piccolo economico economica vecchio crescente "
        "menor barata velho "
        "goedkoper ouder oplopend mniej tańszy mniejszy starszy rosnąco".split()
    )
    | frozenset("便宜 实惠 小 旧 低 少 升序".split()),
    "higher": frozenset(
        "more higher highest dear dearer dearest pricey pricier priciest spendier spendiest "
        "expensive premium upmarket big bigger biggest large larger largest long longer roomier "
        "taller wider newer newest recent later modern descending high up "
        "más caro grande reciente nuevo descendente "
        "plus cher grand récent nouveau décroissant "
        "mehr teurer größer neuer absteigend "
        "più costoso nuovo decrescente maior mais novo "
        "groter duurder nieuwer aflopend więcej droższy większy nowszy malejąco".split()
    )
    | frozenset("贵 大 新 高 多 降序".split()),
}
# "the pricier one is out": a word of a side after a definite article names a shown item
_THE = frozenset(
    "the that this el la los las der die das den dem le les il lo gli o os het".split()
)
_TOO = frozenset("too trop zu demasiado troppo te zbyt 太".split())
# "not budget stuff": a word of a side after a negation counts for the other side too
_NOT = frozenset("not no nothing non nicht kein keine pas niet geen nie 不".split())
# "more"/"less" before a word of a side: that side, or the other ("less expensive")
_MORE = frozenset("more más plus mehr più mais meer więcej".split())
_LESS = frozenset("less menos moins weniger meno minder mniej".split())
# words: the Chinese words of a side whole ("便宜"), other Chinese by the character
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_CJK = sorted(
    (w for ws in DIRECTION_WORDS.values() for w in ws if len(w) > 1 and _HAN.fullmatch(w)),
    key=len,
    reverse=True,
)
_WORD = re.compile("|".join(_CJK) + r"|[\u4e00-\u9fff]|[^\W\d_\u4e00-\u9fff]+")
_ENDINGS = 3  # an inflected word of a side: its stem and up to this many letters ("günstigeres")


def apply(tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading) -> None:
    """Read the operation the rules missed in a message about the shown list."""
    settled = msg.changes_list or msg.vague or msg.problem
    if not state.shown or msg.intent not in ("recommend", "refine") or settled:
        return
    guess = tracker.refinement_model.guess(msg.text)
    msg.notes.append(f"learned refinement: {guess}")
    op, p = operation(guess, msg.text)
    if op == "other" or p < THRESHOLD:
        return
    if _take(tracker, state, msg, op):
        msg.intent = "refine"
        msg.notes.append(f"taken: {op}")


def names_an_operation(
    tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading
) -> bool:
    """Does the model read an operation on the shown list in the message ("I can't do
    pre-orders, what's actually there to buy now?": in stock), however else it reads?"""
    if not state.shown:
        return False
    op, p = operation(tracker.refinement_model.guess(msg.text), msg.text)
    return op != "other" and p >= THRESHOLD


def operation(guess: IntentGuess, text: str) -> tuple[str, float]:
    """The operation and its probability: the model's label, its direction from the
    words where a pair of operations differ only in that."""
    op, p = guess.label, guess.p
    pair = next((pair for pair in _PAIRS if op in pair), None)
    if pair:
        p = sum(guess.probs.get(o, 0.0) for o in pair)
        # "the pricier one is out" points at an item; "the priciest first" sorts
        side = direction(text, the_points=not op.endswith("_first"))
        op = {"lower": pair[0], "higher": pair[1]}.get(side or "", op)
    return op, p


def direction(text: str, *, the_points: bool = True) -> str | None:
    """ "lower" or "higher", by the words (see the module docstring); `the_points`:
    a word of a side after "the" names a shown item, not the way to go."""
    words = _WORD.findall(text.casefold())
    # "more affordable", "less expensive": said of what is wanted, so it comes first
    for i, word in enumerate(words[:-1]):
        if word in _MORE | _LESS and (after := _side(words[i + 1])):
            return after if word in _MORE else _other(after)
    # then a word of a side ("older releases" in "more retro stuff, older releases")
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if word in _MORE | _LESS or not (side := _side(word)):
            continue
        if not (the_points and before in _THE):
            return _other(side) if before in _TOO | _NOT else side
    # then "more" or "less" alone ("show me ones with more stars")
    return next((_side(w) for w in words if w in _MORE | _LESS), None)


def _side(word: str) -> str | None:
    for side, ws in DIRECTION_WORDS.items():
        if word in ws or any(
            word.startswith(w) and len(word) - len(w) <= _ENDINGS for w in ws if len(w) >= 5
        ):
            return side
    return None


def _other(side: str) -> str:
    return "higher" if side == "lower" else "lower"


def _take(tracker: CatalogVocabulary, state: DialogueState, msg: MessageReading, op: str) -> bool:
    ranges, fields = tracker.ranges, tracker.fields
    size = _size(tracker, state, msg.text) if op in ("bigger", "smaller") else None
    compare = {
        "cheaper": (ranges.price, "lower"),
        "dearer": (ranges.price, "higher"),
        "better_rated": (ranges.rating, "higher"),
        "newer": (ranges.year, "higher"),
        "older": (ranges.year, "lower"),
        "bigger": (size, "higher"),
        "smaller": (size, "lower"),
    }
    order = {
        "cheapest_first": (ranges.price, "asc", None),
        "dearest_first": (ranges.price, "desc", None),
        "best_rated_first": (ranges.rating, "desc", None),
        "only_cheapest": (ranges.price, "asc", 1),
    }
    if op in compare:
        facet, side = compare[op]
        if not facet:
            return False
        msg.reading.comparatives.append(Comparative(facet, side, 0, len(msg.text)))
    elif op in order:
        facet, way, limit = order[op]
        if not facet:
            return False
        msg.order, msg.order_limit = [facet, way], limit
    elif op == "in_stock" and "in_stock" in fields:
        msg.in_stock = True
    elif op == "other_brand" and "brand" in fields:
        msg.different = ["brand"]
    elif op == "more":
        msg.others = True
    else:
        return False
    return True


def _size(tracker: CatalogVocabulary, state: DialogueState, text: str) -> str | None:
    """The measure of size of the shown items: the one the message names ("more
    capacity"), else the one they share most that is no weight (litres, metres,
    pages …; "bigger" is not "heavier")."""
    counts = Counter(
        name
        for item in state.shown
        for name, value in tracker.metas.get(item, {}).items()
        if name in tracker.ranges.facets
        and name not in _NOT_SIZE
        and name != tracker.ranges.year
        and isinstance(value, (int, float))
    )
    said = set(_WORD.findall(text.casefold()))
    # by the field's name ("more capacity") or its unit ("more litres")
    measures = {tracker.ranges.measured_by(w) for w in said}
    named = [name for name in counts if said & set(name.split("_")) or name in measures]
    weight = tracker.ranges.measured_by("weight")
    sizes = [name for name in counts if name != weight]
    return next(iter(named), None) or max(sizes, key=counts.__getitem__, default=None)
