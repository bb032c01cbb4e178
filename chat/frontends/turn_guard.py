"""One turn's failure handling, shared by every frontend that runs turns (the web
chat, the HTTP API): a turn that raises ends with an `ErrorEvent` instead, so a
frontend only ever renders events. A domain error (bad input, a missing model)
says what to do next; anything else is our bug: logged with its traceback, and
the user reads a short apology."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable

from chat import USER_ERRORS, ErrorEvent, Event

log = logging.getLogger("recochat.turns")

INTERNAL = "Something went wrong on our side; it has been logged. Please try again."


def guarded(
    turn: Callable[[], Iterable[Event]], session_id: str | None
) -> Generator[Event, None, None]:
    """The events of `turn()`, ending with an ErrorEvent if it raises. Closing this
    iterator closes the turn's (and so stops the model's generation)."""
    try:
        yield from turn()
    except USER_ERRORS as e:
        yield ErrorEvent("turn_failed", str(e))
    except Exception:
        log.exception("turn failed in session %s", session_id)
        yield ErrorEvent("internal_error", INTERNAL)
