"""The seeded set of chat messages with personal data in tests/fixtures/pii_messages.jsonl.

Each row is a message and the exact spans of the personal data in it. The values are
made here, deterministically (one seeded random generator), in the formats people
type: e-mails with dots, plus-tags and country domains; phone numbers of several
countries in national, international, E.164 and dotted forms (numbers that
libphonenumber holds valid for their country, so each is a real dialable shape);
Visa / Mastercard / Amex / Discover numbers with a correct Luhn digit, plain, spaced
or dashed; IBANs of six countries with correct check digits, compact or in groups of
four; street addresses in English and German forms. A share of rows has no personal
data but the numbers of shopping talk (prices, sizes, ratings, order numbers, dates),
to count what is masked that should not be.

Regenerate with `cd tests && python -m helpers.pii_messages > fixtures/pii_messages.jsonl`;
tests/unit/test_pii.py checks that the file is what this makes.
"""

from __future__ import annotations

import json
import random
import re
import string

SEED = 14
PER_TYPE = 60  # messages per entity type (some hold two entities)
WITHOUT_PII = 80

FIRST = ["jane", "Omar", "li", "maria", "K", "sven", "Aiko", "pat", "noah", "Zoe", "ravi", "emma"]
LAST = ["doe", "Haddad", "wei", "garcia", "schmidt", "tanaka", "oneil", "Okafor", "rossi", "lund"]
DOMAINS = [
    "gmail.com",
    "example.co.uk",
    "mail.shop-online.de",
    "outlook.fr",
    "cs.uni-example.edu",
    "startup.io",
    "yahoo.com.au",
    "web.de",
    "proton.me",
    "company.nl",
]
EMAIL_TEMPLATES = [
    "my email is {}",
    "Send the receipt to {} please",
    "contact: {}",
    "{} - that's my address for the order",
    "can you email me at <{}>?",
    "reach me on {}, thanks!",
    "EMAIL ME ({}) WHEN IT'S BACK IN STOCK",
    "I registered as {} but never got the code",
]
PHONE_REGIONS = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "AU", "IN"]
PHONE_TEMPLATES = [
    "call me on {}",
    "my number is {}",
    "Phone: {}",
    "text {} when the tent ships",
    "you can reach me at {} after 6pm",
    "is {} the right number for support?",
    "{} is my mobile",
    "ring {} about delivery",
]
CARD_TEMPLATES = [
    "my card is {}",
    "pay with {} please",
    "Visa {} exp 12/27",
    "can I use {} for the order?",
    "card number: {}",
    "charge it to {}",
    "the payment with {} failed",
    "{} cvv 123",
]
IBAN_COUNTRIES = {  # country: (bank/branch/account layout after the check digits)
    "DE": "8n10n",
    "GB": "4a6n8n",
    "FR": "5n5n11c2n",
    "NL": "4a10n",
    "ES": "4n4n1n1n10n",
    "IT": "1a5n5n12c",
}
IBAN_TEMPLATES = [
    "refund to {}",
    "my IBAN is {}",
    "IBAN: {}",
    "please send the money back to {} (my account)",
    "bank transfer from {} this morning",
    "Account {}, Sparkasse",
]
STREETS = [
    "Baker",
    "main",
    "Elm",
    "Pennsylvania",
    "Oak Hill",
    "Fifth",
    "Sunset",
    "maple grove",
    "King",
    "Harbour View",
    "Queen",
    "Church",
]
STREET_TYPES = [
    "Street",
    "St",
    "St.",
    "Avenue",
    "Ave",
    "Road",
    "Rd",
    "Lane",
    "Boulevard",
    "Blvd",
    "Drive",
    "Way",
    "Court",
    "Place",
    "street",
    "road",
]
UNITS = ["", "", "", ", Apt 4B", " Suite 210", ", Unit 7", " #12", ", Flat 3"]
GERMAN_STREETS = ["Hauptstraße", "Lindenweg", "Goethestrasse", "Schillerplatz", "Bahnhofstr."]
CITIES = ["", ", London", ", Springfield, IL 62704", ", Berlin", ", Sydney", " in Leeds"]
ADDRESS_TEMPLATES = [
    "ship it to {}",
    "my address is {}",
    "deliver to {} please",
    "I live at {}",
    "Address: {}",
    "can you send it to {} instead?",
    "the parcel went to {} by mistake",
]
WITHOUT = [
    "a waterproof tent for {n} people under ${price}",
    "anything rated {r} stars or more?",
    "I need {n} tents for the road",
    "earbuds under {price} dollars with at least {big} reviews",
    "is the {size} cm pan induction-ready?",
    "my order #{order} has not arrived",
    "it arrived on {day}/{month}/2026 but was broken",
    "show me item {n} again",
    "a {n}-person sleeping bag for -{n}°C",
    "between ${price} and ${price2}, please",
    "the WH-{big}XM5 headphones",
    "a {size}x{n}0 cm rug",
    "I'm {n}{n} and I like hiking",
    "do you have size {n}.5 trail shoes?",
    "{n} packs of {big} sheets of paper",
    "what about the last one?",
]


def luhn_complete(partial: str) -> str:
    """`partial` with the digit that makes its Luhn sum divisible by 10."""
    total = 0
    for i, d in enumerate(reversed(partial)):
        n = int(d)
        if i % 2 == 0:
            n = n * 2 - 9 if n * 2 > 9 else n * 2
        total += n
    return partial + str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    kind = rng.choice(["visa", "mc", "mc2", "amex", "discover"])
    if kind == "amex":
        digits = luhn_complete(rng.choice(["34", "37"]) + _digits(rng, 12))
        sep = rng.choice([" ", "-", ""])
        return sep.join([digits[:4], digits[4:10], digits[10:]])
    prefix = {
        "visa": "4",
        "mc": str(rng.randint(51, 55)),
        "mc2": str(rng.randint(2221, 2720)),
        "discover": "6011",
    }[kind]
    digits = luhn_complete(prefix + _digits(rng, 15 - len(prefix)))
    sep = rng.choice([" ", "-", "", " "])
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4))


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_COUNTRIES))
    layout = re.findall(r"(\d+)([nac])", IBAN_COUNTRIES[country])
    body = "".join(_part(rng, int(count), kind) for count, kind in layout)
    check = 98 - int(_as_number(body + country + "00")) % 97
    text = f"{country}{check:02d}{body}"
    if rng.random() < 0.6:
        text = " ".join(text[i : i + 4] for i in range(0, len(text), 4))
    return text


def _part(rng: random.Random, count: int, kind: str) -> str:
    alphabet = {
        "n": string.digits,
        "a": string.ascii_uppercase,
        "c": string.digits + string.ascii_uppercase,
    }[kind]
    return "".join(rng.choice(alphabet) for _ in range(count))


def _as_number(text: str) -> str:
    return "".join(str(int(ch, 36)) for ch in text)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first}_{last}",
            f"{first}{last}{rng.randint(1, 99)}",
            f"{first[0]}.{last}+shop",
            f"{first}-{last}",
            f"{last}.{first}{rng.randint(70, 99)}",
        ]
    )
    return f"{local}@{rng.choice(DOMAINS)}"


def phone(rng: random.Random) -> str:
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    while True:
        region = rng.choice(PHONE_REGIONS)
        kind = rng.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE])
        example = phonenumbers.example_number_for_type(region, kind)
        national = str(example.national_number)
        keep = max(2, len(national) - 5)
        number = phonenumbers.parse(
            f"+{example.country_code}{national[:keep]}{_digits(rng, len(national) - keep)}"
        )
        if phonenumbers.is_valid_number(number):
            break
    how = rng.choice(["national", "international", "e164", "dotted"])
    if how == "national":
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    if how == "international":
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if how == "e164":
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL).replace(" ", ".")


def address(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"{rng.choice(GERMAN_STREETS)} {rng.randint(1, 120)}{rng.choice(['', '', 'a'])}"
    number = f"{rng.randint(1, 9999)}{rng.choice(['', '', '', 'B'])}"
    street = f"{number} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}"
    return street + rng.choice(UNITS)


MAKERS = {
    "EMAIL_ADDRESS": (email, EMAIL_TEMPLATES),
    "PHONE_NUMBER": (phone, PHONE_TEMPLATES),
    "CREDIT_CARD": (card, CARD_TEMPLATES),
    "IBAN_CODE": (iban, IBAN_TEMPLATES),
    "STREET_ADDRESS": (address, ADDRESS_TEMPLATES),
}


def _row(rng: random.Random, entity: str) -> dict:
    make, templates = MAKERS[entity]
    value = make(rng)
    text = rng.choice(templates).format(value)
    spans = [{"type": entity, "start": text.index(value), "end": text.index(value) + len(value)}]
    if entity == "STREET_ADDRESS":
        text += rng.choice(CITIES)
    if rng.random() < 0.25:  # a second entity of another type in the same message
        other = rng.choice([e for e in MAKERS if e != entity])
        more, more_templates = MAKERS[other]
        extra = more(rng)
        joined = f"{text}. Also {rng.choice(more_templates).format(extra)}"
        at = joined.index(extra, len(text))
        spans.append({"type": other, "start": at, "end": at + len(extra)})
        text = joined
    return {"text": text, "pii": spans}


def _without(rng: random.Random) -> dict:
    values = {
        "n": rng.randint(2, 9),
        "price": rng.choice([49, 99, 150, 199, 250, 1200]),
        "price2": rng.choice([300, 450, 2000]),
        "r": rng.choice([4, 4.5, 3.8]),
        "big": rng.choice([1000, 2500, 12000, 500]),
        "size": rng.choice([24, 28, 160, 200]),
        "order": rng.randint(10000, 99999),
        "day": rng.randint(1, 28),
        "month": rng.randint(1, 12),
    }
    return {"text": rng.choice(WITHOUT).format(**values), "pii": []}


def generate() -> list[dict]:
    rng = random.Random(SEED)
    rows = [_row(rng, entity) for entity in MAKERS for _ in range(PER_TYPE)]
    rows += [_without(rng) for _ in range(WITHOUT_PII)]
    rng.shuffle(rows)
    return rows


def dump(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


if __name__ == "__main__":
    print(dump(generate()), end="")
