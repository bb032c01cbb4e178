"""Personal data masked before anything is stored or logged: e-mail addresses, phone
numbers, card numbers (Luhn-checked), IBANs (checksum) and street addresses.

Detection is Microsoft Presidio's analyzer with pattern recognizers only: its
`NoOpNlpEngine` loads no spaCy model (none can be downloaded here), and none of
these entities needs one. The anonymizer replaces each finding with its type,
e.g. "mail me at <EMAIL_ADDRESS>". The current turn still reads the raw text in
memory; only what is written (messages, the dialogue state, log lines) is masked.

`mask(text)` is the one entry point; `mask_data` walks JSON-like data, and
`install_log_masking` makes every log record pass through `mask`. A message with
no digit and no "@" holds none of these entities and costs one regex search.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from retrieval.lean_imports import import_lean

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine
    from presidio_anonymizer import AnonymizerEngine

ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "STREET_ADDRESS")
# The phone recognizer tries each region's numbering plan in turn; these cover the
# shops' usual customers and every number written with a leading +country code.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "CA", "AU", "IN", "IE", "CH")
# Every entity needs an "@" (e-mail) or a digit; a digit of any script, as \d means here,
# since phonenumbers and the card and address patterns read "０２０ ７９４６ ０１２３" too.
_MAYBE_PII = re.compile(r"[\d@]")
_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    "terrace|square|sq|parkway|pkwy|highway|hwy|close|crescent|row|alley"
)
# Presidio's card pattern with Mastercard's 2221-2720 range added (issued since 2017; its
# own pattern knows only the 5-series): 13-19 digits, spaced or dashed; Presidio's
# recognizer then keeps only numbers whose Luhn digit is right.
CARD_NUMBER = (
    r"\b(?!1\d{12}(?!\d))((4\d{3})|(5[0-5]\d{2})|(2[2-7]\d{2})|(6\d{3})|(1\d{3})|(3\d{3}))"
    r"[- ]?(\d{3,4})[- ]?(\d{3,4})[- ]?(\d{3,5})\b"
)
# words that do not name a street: "2 tents for the road" is no address
_NOT_STREET_WORDS = "for|the|a|an|to|on|in|of|and|or|with|my|our|your|by|at|per|from|people|kids"
# "221B Baker Street", "1600 Pennsylvania Ave NW", "12 main st, apt 4": a house number,
# one to four capitalised or lower-case words, a street type; then an optional unit.
STREET_ADDRESS = (
    r"\b\d{1,5}[a-z]?,?\s+(?:(?!(?:" + _NOT_STREET_WORDS + r")\b)[a-z][a-z'.-]*\s+){1,4}"
    r"(?:" + _STREET_TYPES + r")\b\.?"
    r"(?:\s+(?:n|s|e|w|ne|nw|se|sw)\b)?"
    r"(?:,?\s+(?:apt|apartment|unit|suite|ste|flat|#)\.?\s*#?\w{1,5})?"
)
# "Hauptstraße 5", "Rue de Rivoli 12"-style: a street word ending in -straße/-strasse/-weg
STREET_ADDRESS_DE = r"\b[a-zäöüß-]+(?:straße|strasse|str\.|weg|allee|platz|gasse)\s+\d{1,4}[a-z]?\b"


class _Masker:
    """Presidio's analyzer and anonymizer, built once (a few seconds)."""

    def __init__(self) -> None:
        import_lean(
            ["presidio_analyzer", "presidio_anonymizer"],
            refused=("torch", "transformers"),
            by=("presidio_analyzer", "presidio_anonymizer", "spacy", "thinc"),
            why="not needed to mask personal data",
        )
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            IbanRecognizer,
            PhoneRecognizer,
        )
        from presidio_analyzer.recognizer_registry import RecognizerRegistry
        from presidio_anonymizer import AnonymizerEngine

        address = PatternRecognizer(
            supported_entity="STREET_ADDRESS",
            name="StreetAddressRecognizer",
            patterns=[
                Pattern("street address", STREET_ADDRESS, 0.6),
                Pattern("street address (de)", STREET_ADDRESS_DE, 0.6),
            ],
        )
        registry = RecognizerRegistry(
            recognizers=[
                _offline_email_recognizer(),
                PhoneRecognizer(supported_regions=PHONE_REGIONS),
                CreditCardRecognizer(patterns=[Pattern("card number", CARD_NUMBER, 0.3)]),
                IbanRecognizer(),
                address,
            ]
        )
        nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
        self.analyzer: AnalyzerEngine = AnalyzerEngine(registry=registry, nlp_engine=nlp)
        self.anonymizer: AnonymizerEngine = AnonymizerEngine()
        self._lock = threading.Lock()  # Presidio's engines are not documented as thread-safe

    def find(self, text: str) -> list[Any]:
        with self._lock:
            return self.analyzer.analyze(text, language="en", entities=list(ENTITIES))

    def mask(self, text: str) -> str:
        findings = self.find(text)
        if not findings:
            return text
        with self._lock:
            return self.anonymizer.anonymize(text, findings).text


def _offline_email_recognizer() -> Any:
    """Presidio's e-mail recognizer checks the domain's suffix with tldextract, whose
    default fetches the public suffix list from the network; this one reads the copy
    tldextract ships, so a check never waits on a connection that cannot be made."""
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return extract(pattern_text).fqdn != ""

    return OfflineEmailRecognizer()


_BUILD_LOCK = threading.Lock()
_built: list[_Masker] = []
# Set while this thread runs Presidio: a log record made meanwhile (Presidio logs too) is
# withheld rather than masked, since masking it would re-enter the masker.
_inside = threading.local()
WITHHELD = "(a log record made while masking personal data: withheld)"


@contextmanager
def _masking() -> Iterator[None]:
    _inside.active = True
    try:
        yield
    finally:
        _inside.active = False


def _masker() -> _Masker:
    if not _built:
        with _BUILD_LOCK, _masking():
            if not _built:
                _built.append(_Masker())
    return _built[0]


def warm_up() -> None:
    """Build the analyzer now (about a second, more on a busy machine) rather than in
    the first turn whose message holds a digit or an "@"."""
    _masker()


def find(text: str) -> list[tuple[str, int, int]]:
    """The personal data in `text`: (entity, start, end) per finding."""
    if not _MAYBE_PII.search(text):
        return []
    masker = _masker()
    with _masking():
        return [(r.entity_type, r.start, r.end) for r in masker.find(text)]


def mask(text: str) -> str:
    """`text` with each e-mail, phone, card number, IBAN and street address replaced by
    its type in angle brackets ("<CREDIT_CARD>")."""
    if not text or not _MAYBE_PII.search(text):
        return text
    masker = _masker()
    with _masking():
        return masker.mask(text)


def mask_data(data: Any, keep: Collection[str] = ()) -> Any:
    """A copy of JSON-like data with every string masked, except the values under the
    keys in `keep` (item ids, which must stay exact)."""
    if isinstance(data, str):
        return mask(data)
    if isinstance(data, dict):
        return {k: v if k in keep else mask_data(v, keep) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [mask_data(v, keep) for v in data]
    return data


_installed: list[Callable[..., logging.LogRecord]] = []


def install_log_masking() -> None:
    """Mask every log record as it is made, for every logger and handler (uvicorn's too):
    its message with the arguments filled in, and the traceback of an exception."""
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if getattr(_inside, "active", False):
            record.msg, record.args, record.exc_info = WITHHELD, None, None
            return record
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it as usual
            return record
        record.msg, record.args = mask(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        return record

    _installed.append(make)
    logging.setLogRecordFactory(masked_record)
