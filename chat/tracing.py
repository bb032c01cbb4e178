"""OpenTelemetry spans for the stages of a turn (state, recall, rank, llm).

The core only makes spans through the OpenTelemetry API, which does nothing until
a frontend installs an SDK tracer provider (`recochat serve` does when an exporter
is configured: chat/frontends/api/telemetry.py), so a turn pays nothing for them by
default. The spans are not made current: a turn is a generator whose stages yield
events, and a span made current across a `yield` would leak into the caller.
They still become children of the span current when they start (the turn's).
Attributes hold counts and names, never what the user wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace

TRACER = trace.get_tracer("recochat")
STAGES = ("state", "recall", "rank", "llm")


@contextmanager
def stage(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A span named `recochat.<name>` around one stage of a turn."""
    span = TRACER.start_span(f"recochat.{name}", attributes=attributes)
    try:
        yield span
    except BaseException as e:
        # the type only: an exception's message may quote what the user wrote
        span.set_status(trace.StatusCode.ERROR, type(e).__name__)
        raise
    finally:
        span.end()


@contextmanager
def turn_span(session_id: str) -> Iterator[trace.Span]:
    """The span of a whole turn, current while it runs, so the stages nest under it."""
    with TRACER.start_as_current_span("recochat.turn", attributes={"session.id": session_id}) as s:
        yield s
