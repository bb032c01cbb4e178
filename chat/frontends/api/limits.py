"""Request limits: body size (413) and per-key rate limits (429 + Retry-After).

Rate limits use the `limits` library (the engine under slowapi) with a moving
window per key, kept in memory when one process serves, or in Redis
(RECOCHAT_REDIS_URL) so that several workers share each key's counters. The
limit is the key's own (`recochat keys create --rate-limit`) or
RECOCHAT_RATE_LIMIT.
"""

from __future__ import annotations

import math
import time

from fastapi import HTTPException
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat import ChatError
from chat.frontends.api.errors import ApiError, error_response


class RateLimiter:
    def __init__(self, default: str, storage_url: str | None = None):
        self.default = default
        self.shared = bool(storage_url)  # counted in a server (a network call per hit)
        storage: Storage = RedisStorage(storage_url) if storage_url else MemoryStorage()
        if storage_url and not storage.check():
            raise ChatError(
                f"Cannot reach Redis at RECOCHAT_REDIS_URL ({storage_url.split('@')[-1]}) for "
                "the shared rate limits. Start it, fix the URL, or unset it (one worker)."
            )
        self._limiter = MovingWindowRateLimiter(storage)
        self._parsed: dict[str, list[RateLimitItem]] = {}

    def _items(self, text: str) -> list[RateLimitItem]:
        if text not in self._parsed:
            self._parsed[text] = list(parse_many(text))
        return self._parsed[text]

    def hit(self, key_id: str, limit: str | None = None) -> None:
        """Count one request for this key, or raise a 429 that says when to retry.
        Each window is taken in one atomic step (a script in Redis), so workers
        counting at the same moment never let more through than the limit."""
        for item in self._items(limit or self.default):
            try:
                allowed = self._limiter.hit(item, "key", key_id)
            except Exception as e:  # the shared store went away: say so, not a 500
                raise ApiError(
                    503,
                    "rate_limit_unavailable",
                    f"The rate limit store is unreachable ({type(e).__name__}); retry shortly.",
                    headers={"Retry-After": "5"},
                ) from None
            if not allowed:
                reset = self._limiter.get_window_stats(item, "key", key_id).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                raise ApiError(
                    429,
                    "rate_limited",
                    f"Too many requests for this key (limit {item}). Retry in {wait} s, "
                    "or ask for a key with a higher limit.",
                    headers={"Retry-After": str(wait)},
                )


def _too_large_message(limit: int) -> str:
    return (
        f"The request body is larger than the limit of {limit:,} bytes. Send less "
        "(messages are short text; split big catalog uploads)."
    )


class RequestTooLarge(HTTPException):
    """Raised while a handler reads the body; an HTTPException so that FastAPI's body
    parsing passes it on (it turns other exceptions into a 400)."""

    def __init__(self, limit: int):
        super().__init__(413, _too_large_message(limit), headers={"Connection": "close"})


class BodySizeLimit:
    """ASGI middleware: refuse bodies over the limit with 413, before a handler reads
    them. Checks Content-Length up front and counts chunked bodies as they arrive."""

    def __init__(self, app: ASGIApp, *, default: int, per_path: dict[str, int] | None = None):
        self.app = app
        self.default = default
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False  # the server rejects a malformed length itself
            if too_big:
                await self._refuse(limit, scope, receive, send)
                return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except RequestTooLarge:
            if not started:
                await self._refuse(limit, scope, receive, send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "request_too_large", _too_large_message(limit), headers={"Connection": "close"}
        )
        await response(scope, receive, send)
