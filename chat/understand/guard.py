"""Checks on incoming user text, before anything is stored or logged."""

from __future__ import annotations

import re
import unicodedata

from chat.errors import InputError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class MessageRejected(InputError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def clean_message(text: object, max_chars: int) -> str:
    """Return the message ready for the tracker, or raise MessageRejected."""
    if not isinstance(text, str):
        raise MessageRejected("invalid_message", "The message must be text.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MessageRejected(
            "invalid_encoding",
            "The message contains characters that are not valid text; please retype it.",
        ) from None
    if text.count("\x00") or text.count("\ufffd") > max(3, len(text) // 20):
        raise MessageRejected(
            "binary_message",
            "That looks like binary data, not a message. Please type your request.",
        )
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text)).strip()
    if not text:
        raise MessageRejected(
            "empty_message", "Your message is empty. Tell me what you are looking for."
        )
    if len(text) > max_chars:
        raise MessageRejected(
            "message_too_long",
            f"Your message has {len(text):,} characters; the limit is {max_chars:,}. Please shorten it.",
        )
    return text
