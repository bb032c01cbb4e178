"""Running turns off the event loop, one session at a time, in arrival order.

A turn is CPU-bound (embedding, ranking, generation) and written as a plain
iterator (`Session.turn`), so it runs in a worker thread and its events cross to
the event loop through an asyncio queue; the HTTP handler reads that queue as an
async stream. While one turn computes, the loop keeps serving other requests.

Ordering: each session has a chain of turns. A new turn waits for the previous
one of its session before it starts, so messages to one session are processed in
the order the server received them and never interleave; turns of different
sessions run side by side, up to the pool size. A turn runs to the end even when
its client goes away, so what was said is always persisted. Across worker
processes, each turn also holds its session's lock (session_locks.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from chat import Done, ItemsShown, TextDelta
from chat.frontends.api.errors import ApiError
from chat.frontends.api.metrics import Metrics
from chat.frontends.api.session_locks import SessionLocks
from chat.frontends.turn_guard import guarded
from chat.tracing import turn_span

if TYPE_CHECKING:
    from chat import App
    from chat.llm import Usage

log = logging.getLogger("recochat.api")

_END = object()


class EventStream:
    """What a worker thread produces, as an async iterator. Exceptions raised in the
    thread are raised here; `cancel()` asks the thread to stop early (the raw LLM
    stops generating; a turn finishes anyway, to be persisted)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.cancelled = threading.Event()
        self.task: asyncio.Task | None = None
        self.usage: Usage | None = None  # the raw LLM's, once its generation ended

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Any:
        item = await self.queue.get()
        if item is _END:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item

    def cancel(self) -> None:
        self.cancelled.set()


class TurnRunner:
    def __init__(
        self,
        app: App,
        metrics: Metrics,
        *,
        threads: int,
        max_queued: int = 16,
        locks: SessionLocks | None = None,
    ):
        self.app = app
        self.metrics = metrics
        self.locks = locks or SessionLocks(app.db)
        self.max_queued = max_queued
        self.executor = ThreadPoolExecutor(max(1, threads), thread_name_prefix="turn")
        self._tails: dict[str, asyncio.Future] = {}
        self._queued: Counter[str] = Counter()
        self._tasks: set[asyncio.Task] = set()

    # --- turns -------------------------------------------------------------------

    def run_turn(self, session_id: str, text: str) -> EventStream:
        """Queue a turn behind the session's earlier ones; stream its events."""
        stream = EventStream()
        loop = asyncio.get_running_loop()
        put = _putter(loop, stream)
        queued_at = time.perf_counter()
        # the request's context (its trace span) goes with the turn into the worker thread
        request_context = contextvars.copy_context()

        def work() -> None:
            with self.locks.hold(session_id):
                if not self.app.db.session_exists(session_id):  # deleted while it waited
                    raise ApiError(404, "session_not_found", f"No session {session_id!r}.")
                request_context.run(self._turn, session_id, text, put, queued_at)

        def finish(error: BaseException | None) -> None:
            if error is not None:  # pragma: no cover - the pool is shutting down
                stream.queue.put_nowait(error)
            stream.queue.put_nowait(_END)

        stream.task = self._in_order(session_id, work, finish)
        return stream

    async def in_session(self, session_id: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking call in the session's order: after the turns queued before it
        (feedback changes the state the next turn reads)."""
        loop = asyncio.get_running_loop()
        result = loop.create_future()

        def finish(error: BaseException | None) -> None:
            if error is not None:
                result.set_exception(error)

        def work() -> None:
            with self.locks.hold(session_id):
                value = fn(*args)
            loop.call_soon_threadsafe(result.set_result, value)

        self._in_order(session_id, work, finish)
        return await result

    def _in_order(
        self,
        session_id: str,
        work: Callable[[], None],
        finish: Callable[[BaseException | None], None],
    ) -> asyncio.Task:
        if self._queued[session_id] >= self.max_queued:
            raise ApiError(
                429,
                "session_busy",
                f"This session already has {self.max_queued} messages waiting. "
                "Wait for the replies before sending more.",
                headers={"Retry-After": "5"},
            )
        loop = asyncio.get_running_loop()
        previous = self._tails.get(session_id)
        finished = loop.create_future()
        self._tails[session_id] = finished
        self._queued[session_id] += 1

        async def run() -> None:
            error: BaseException | None = None
            try:
                if previous is not None:
                    await previous
                await loop.run_in_executor(self.executor, work)
            except BaseException as e:
                error = e
            finally:
                finished.set_result(None)
                self._queued[session_id] -= 1
                if self._queued[session_id] <= 0:
                    del self._queued[session_id]
                if self._tails.get(session_id) is finished:
                    del self._tails[session_id]
                finish(error)

        return self._spawn(run())

    def _turn(self, session_id: str, text: str, put: Callable[[Any], None], queued_at: float):
        m = self.metrics
        started = time.perf_counter()
        m.queue_seconds.observe(started - queued_at)
        m.turns_running.inc()
        first = first_text = None
        outcome = "error"
        model = self.app.llm.name

        def turn():
            return self.app.session(session_id).turn(text)

        try:
            with turn_span(session_id) as span:
                for event in guarded(turn, session_id):
                    now = time.perf_counter()
                    if first is None:
                        first = now
                        m.first_event_seconds.observe(now - started)
                    if isinstance(event, TextDelta):
                        if first_text is None:
                            first_text = now
                            m.first_token_seconds.observe(now - started)
                        m.tokens.labels(model).inc()
                    elif isinstance(event, ItemsShown):
                        m.recommendations.inc(len(event.items))
                    elif isinstance(event, Done):
                        m.observe_timings(event.timings)
                        outcome = "done"
                    put(event)
                span.set_attribute("recochat.outcome", outcome)
        finally:
            m.turns.labels(outcome).inc()
            m.turns_running.dec()

    # --- the raw model (OpenAI-compatible pass-through) ---------------------------

    def run_llm(self, messages: Sequence[dict[str, str]], max_tokens: int, stop: Sequence[str]):
        loop = asyncio.get_running_loop()
        stream = EventStream()
        put = _putter(loop, stream)
        llm = self.app.llm

        def generate() -> None:
            pieces = llm.stream(list(messages), max_tokens=max_tokens, stop=list(stop))
            stream.usage = pieces.usage
            try:
                for piece in pieces:
                    self.metrics.tokens.labels(llm.name).inc()
                    put(piece)
                    if stream.cancelled.is_set():
                        break
            except Exception as e:
                put(e)
            finally:
                pieces.close()  # a local model stops generating

        async def run() -> None:
            try:
                await loop.run_in_executor(self.executor, generate)
            finally:
                stream.queue.put_nowait(_END)

        stream.task = self._spawn(run())
        return stream

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking call (a search, an ingest) in the pool."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Let running turns finish (at shutdown), then stop the pool."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=60)
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.locks.close()


def _putter(loop: asyncio.AbstractEventLoop, stream: EventStream) -> Callable[[Any], None]:
    def put(item: Any) -> None:
        try:
            loop.call_soon_threadsafe(stream.queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: the server is gone
            pass

    return put
