"""Word lists the deterministic tracker reads text with.

Everything catalog-specific is discovered from the catalog (facet values, titles,
vocabulary); what lives here is ordinary English (and a small Chinese glossary,
in language.py) that holds for any catalog: function words, the words people use
to negate, compare and refer, and common synonyms of facet values. A synonym only
takes effect when its target is a real facet value of the catalog in use.
"""

from __future__ import annotations

import functools

STOPWORDS = frozenset(
    """a an the and or but if of to in on at for from by with about as into like than then so
    is are was were be been being am do does did have has had i me my mine we us our you your
    he she it its they them their this that these those there here what which who whom whose
    when where why how all any some one ones can could would should will shall may might must
    just also too very really quite please pls thanks thank want wants wanted need needs looking
    look find get give show tell recommend recommendation recommendations suggest suggestion
    something anything someone thing things stuff kind sort type maybe perhaps more most less
    good great nice best better well ok okay yes yeah hi hello hey now again still would'd i'm
    im i'd id i've ive let lets let's got go going around over under between up down out off
    only own same other another such each every both few many much lot lots bit little enough
    pick picks choose option options item items buy buying bought not no none nothing
    never without except please preference preferences looks
    looked sounds seems seem particular""".split()
)

# Words too common to be a title on their own, or a misspelling of a facet value:
# a single-word title made of one of these needs a cue ("like Up") and a capital.
COMMON_WORDS = STOPWORDS | frozenset(
    """love loved loves hate hated enjoy enjoyed watch watched watching seen see saw read
    big small little old new young long short high low fast slow hot cold warm cool dark light
    home house day night time life world man woman men women boy girl kids kid family friend
    friends people water fire heat ice earth sun moon star stars sky rain snow wind storm sea
    war peace game games play player run running walk work job money love heart mind body head
    face eye eyes hand hands door room city town road street land king queen prince princess
    click contact enemy identity giant may china taxi brave frozen yes no up us it her him she
    his them they mother father mom dad son daughter brother sister wife husband baby babies
    school class gold silver black white red blue green yellow pink grey gray brown orange
    happy sad angry funny scary crazy wild free fun true real right wrong last first second
    third next best top end dead alive back away today tomorrow always never ever forever
    alone together inside outside beautiful pretty ugly strong weak rich poor easy hard
    simple clean dirty quiet loud soft hard heavy lightweight cheap expensive premium budget
    help care change chance choice power speed force rush crash drive fly fall rise""".split()
)

# Nouns that name the domain rather than narrow it ("a movie", "some product").
GENERIC_WORDS = frozenset(
    """movie movies film films flick flicks show shows series product products item items thing
    things stuff something anything present presents gift gifts idea ideas recommendation
    recommendations suggestion suggestions option options one ones watch watching tonight""".split()
)

# Who a thing is for, the occasion and the mood: they say nothing about what it is, so a
# message of only these ("a present for my coworker who is leaving") leaves the
# need open and the policy asks.
PEOPLE = frozenset(
    """coworker coworkers colleague colleagues boss friend friends bestie mate mates dad daddy
    mum mummy mom mommy mother mothers father fathers parent parents sister sisters brother
    brothers wife husband partner girlfriend boyfriend fiance fiancee son sons daughter
    daughters nephew niece cousin aunt auntie uncle grandma granny grandmother grandpa
    grandad grandfather grandparents teacher neighbour neighbor someone somebody everyone
    everybody herself himself themselves person people ppl""".split()
)
# whom a thing is for, said of people: never the thing itself ("we're 5 now with the kids")
AUDIENCE = PEOPLE | frozenset(
    """kid kids child children family families baby babies toddler toddlers teen teens
    teenager teenagers man men woman women boy boys girl girls adult adults""".split()
)
# an occasion for a present: a message about one is a request, even without a cue
OCCASIONS = frozenset(
    """birthday christmas xmas anniversary wedding graduation housewarming retirement
    retiring leaving farewell valentine valentines easter gift gifts present presents santa
    stocking stuffer stuffers""".split()
)
# Colour names of everyday English: one the catalog's colours do not end in is a colour
# the shop does not have ("in purple?"), said so instead of showing another colour
COLOUR_WORDS = frozenset(
    """red orange yellow green blue purple violet lilac lavender pink magenta brown beige
    tan black white grey silver gold navy teal turquoise cyan maroon burgundy olive
    mint coral cream ivory khaki""".split()
)
# Nouns for any item of a catalog: "a movie for tonight?", "a book for the train" ask
# for items, though they name no value of them
THING_NOUNS = frozenset("movie movies film films flick flicks book books novel novels".split())
PEOPLE_AND_OCCASIONS = (
    PEOPLE
    | OCCASIONS
    | frozenset(
        """occasion party holiday holidays weekend friday saturday sunday monday tuesday
        wednesday thursday tomorrow honestly literally basically everything
        bored tired stressed lonely""".split()
    )
)

# Cue words that introduce an item title as a reference ("like Inception").
TITLE_CUES = (
    "like",
    "liked",
    "love",
    "loved",
    "enjoyed",
    "enjoy",
    "seen",
    "watched",
    "saw",
    "read",
    "have",
    "own",
    "than",
    "to",
    "as",
    "hated",
    "hate",
    "about",
    "is",
    "of",
    "bought",
    # a question about a title's people: "who directed inception", "who wrote dune"
    "directed",
    "direct",
    "wrote",
    "write",
    "starred",
)

# Hard negation: the user rules a value out. Soft: the user would rather not.
HARD_NEGATIONS = (
    "anything but",
    "anything except",
    "other than",
    "rather than",
    "instead of",
    "except",
    "excluding",
    "exclude",
    "without",
    "no more",
    "not",
    "no",
    "nothing",
    "never",
    "do not want",
    "do not show",
    "avoid",
    "skip",
    "none of",
    "not a",
    "not an",
    # a change of mind: "scrap the tent, a sleeping pad instead" (CHANGE_OF_MIND)
    "scrap",
    "ditch",
    "cancel",
    "forget",
)
# verbs that drop the thing right after them ("forget the kettle"), never what
# follows in the sentence ("forget it, a perfume for my aunt")
CHANGE_OF_MIND = frozenset(("scrap", "ditch", "cancel", "forget"))
SOFT_NEGATIONS: tuple[str, ...] = (
    "hate",
    "hates",
    "dislike",
    "dislikes",
    "do not like",
    "do not love",
    "not a fan of",
    "not a big fan of",
    "not really a fan of",
    "not much of a fan of",
    "not keen on",
    "not really keen on",
    "not into",
    "not really into",
    "can not stand",
    "too much",
    "not too",
)
# dislikes of one thing, whose reach ends at a comma: "I've gone off brewmont", "she's
# terrified of dinosaurs", but "he's scared of the dark, a night light maybe"
NEAR_NEGATIONS = (
    "gone off",
    "went off",
    "sick of",
    "tired of",
    "fed up with",
    "bored of",
    "bored with",
    "scared of",
    "afraid of",
    "terrified of",
    "frightened of",
    "done with",
    "finished with",
)
SOFT_NEGATIONS += NEAR_NEGATIONS
# These end the reach of a negation ("no horror, but I like comedy").
NEGATION_BREAKS = frozenset(
    """but though however instead rather just only want wants like love prefer maybe
    something preferably ideally also and_then""".split()
)

# Synonyms of facet values: spoken word → values it may mean (kept only if the
# catalog has that value in some facet).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "scary": ("horror",),
    "spooky": ("horror", "spooky"),
    "frightening": ("horror",),
    "terrifying": ("horror",),
    "creepy": ("horror",),
    "horrors": ("horror",),
    "funny": ("comedy",),
    "hilarious": ("comedy",),
    "comedies": ("comedy",),
    "comic": ("comedy",),
    "romantic": ("romance",),
    "love story": ("romance",),
    "rom com": ("romance", "comedy"),
    "romcom": ("romance", "comedy"),
    "sci fi": ("sci-fi", "science fiction"),
    "scifi": ("sci-fi", "science fiction"),
    "science fiction": ("sci-fi", "science fiction"),
    "space": ("sci-fi", "space"),
    "animated": ("animation",),
    "cartoon": ("animation",),
    "cartoons": ("animation",),
    "anime": ("animation",),
    "documentaries": ("documentary",),
    "docs": ("documentary",),
    "thrilling": ("thriller",),
    "suspense": ("thriller",),
    "suspenseful": ("thriller",),
    "whodunit": ("mystery",),
    "detective": ("mystery", "crime"),
    "superhero": ("action",),
    "action packed": ("action",),
    "musicals": ("musical",),
    "westerns": ("western",),
    "kid": ("kids", "children", "family"),
    "kids": ("kids", "children", "family"),
    "children": ("children", "kids", "family"),
    "child": ("children", "kids", "family"),
    "family friendly": ("family",),
    "magic": ("fantasy",),
    "magical": ("fantasy",),
    "dragons": ("fantasy", "dragons"),
    "historical": ("history",),
    "biopic": ("biography",),
    "earphones": ("earbuds", "earphones"),
    "headphone": ("headphones", "over-ear"),
    "headphones": ("headphones", "over-ear"),
    "trainers": ("sneakers", "shoes"),
    "bike": ("cycling",),
    "bicycle": ("cycling",),
    "couch": ("sofa",),
    "dino": ("dinosaurs", "dinosaur"),
    "dinos": ("dinosaurs", "dinosaur"),
    "t rex": ("dinosaurs", "dinosaur"),
    "waterproof": ("waterproof",),
    "rainproof": ("waterproof",),
    "cellphone": ("phone",),
    "noise canceling": ("noise-cancelling",),
    "gory": ("gory",),
    "gore": ("gory",),
    "bloody": ("gory",),
}

# Relative price words: resolved against the price quartiles of the category.
# units of measure as they are said ("15 metres", "a litre") and as titles and field
# names write them ("Hose 15m", "capacity_l"): read by the range reader (ranges.py) and
# by references to a shown item by its size (references.py, "the 15 metre one")
UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "kilogrammes"),
    "g": ("g", "gram", "grams", "gramme", "grammes"),
    "l": ("l", "litre", "litres", "liter", "liters"),
    "ml": ("ml", "millilitre", "millilitres", "milliliter", "milliliters"),
    "m": ("m", "metre", "metres", "meter", "meters"),
    "cm": ("cm", "centimetre", "centimetres", "centimeter", "centimeters"),
    "mm": ("mm", "millimetre", "millimetres", "millimeter", "millimeters"),
    "in": ("in", "inch", "inches"),
}
CHEAP_WORDS = (
    "cheap",
    "cheapest",
    "inexpensive",
    "affordable",
    "low cost",
    "low-cost",
    "budget",
    "bargain",
    "not expensive",
    "not too expensive",
)
PRICEY_WORDS = (
    "high end",
    "high-end",
    "premium",
    "luxury",
    "luxurious",
    "top of the line",
    "top-of-the-line",
    "expensive",
    "fancy",
    "best money can buy",
    "splurge",
)
MID_WORDS = ("mid range", "mid-range", "midrange", "mid priced", "mid-priced", "moderately priced")

ENGLISH_ZIPF = 2.5  # a word at least this common in English (wordfreq's Zipf scale) is a word


@functools.cache
def is_english_word(word: str) -> bool:
    """An ordinary English word ("whats", "pirate"), not a typo of a catalog value: typos
    ("blendr", "horor") score below 1.5 on wordfreq's scale, real words above 2.5."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= ENGLISH_ZIPF


RARE_ZIPF = 3.5  # below this a word is rare enough in English to be a name ("ridgeway")


@functools.cache
def is_rare_word(word: str) -> bool:
    """A word rarely used in English ("ridgeway", "kestrel"), so a name when a
    catalog's brand starts with it; "orbit", "little" and "jade" are words first."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") < RARE_ZIPF


EVERYDAY_ZIPF = 5.7  # "help", "first", "people", "day": too common to say what a thing is


@functools.cache
def is_everyday_word(word: str) -> bool:
    """One of the few thousand commonest English words, which says little about
    an item on its own ("help", "people"); "runs", "cooks" and "zombie" are not."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= EVERYDAY_ZIPF


# The English the reader knows besides the catalog's values: what a word of another
# language may be translated to when it names no value (see foreign.py).
READER_WORDS = (
    COMMON_WORDS
    | GENERIC_WORDS
    | PEOPLE
    | OCCASIONS
    | {w for w in (*SYNONYMS, *CHEAP_WORDS, *PRICEY_WORDS) if " " not in w}
)
