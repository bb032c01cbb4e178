"""What every route needs, built once per server: the App, keys, limits, metrics,
the turn runner and the feedback log; plus the auth dependency.

Routes reach it through `Depends(context)`, so a test can build an API around
any App without globals."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from chat import Database, MessageRejected, clean_message
from chat.frontends.api.errors import ApiError
from chat.frontends.api.keys import ApiKey, KeyStore
from chat.frontends.api.limits import RateLimiter
from chat.frontends.api.metrics import Metrics
from chat.frontends.api.turns import TurnRunner

if TYPE_CHECKING:
    from chat import App


class FeedbackAudit:
    """Which key sent which feedback, in the api_feedback table. The feedback itself is
    the session's (`Session.feedback`, logged in item_feedback); this only adds the key."""

    def __init__(self, db: Database):
        self.db = db

    def record(self, session_id: str, item_id: str, kind: str, key_id: str) -> None:
        self.db.execute(
            "INSERT INTO api_feedback (session_id, item_id, kind, key_id, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (session_id, item_id, kind, key_id, time.time()),
        )


class Conversations:
    """OpenAI-style clients resend the whole history each time; this maps a hash of
    (key, history so far) to the recochat session that continues it."""

    def __init__(self, db: Database):
        self.db = db

    def find(self, prefix_hash: str) -> str | None:
        row = self.db.execute(
            "SELECT session_id FROM api_conversations WHERE prefix_hash = ?", (prefix_hash,)
        ).fetchone()
        return row[0] if row else None

    def remember(self, prefix_hash: str, session_id: str) -> None:
        self.db.execute(
            "INSERT INTO api_conversations (prefix_hash, session_id, created_at) "
            "VALUES (?, ?, ?) ON CONFLICT (prefix_hash) DO UPDATE SET "
            "session_id = excluded.session_id, created_at = excluded.created_at",
            (prefix_hash, session_id, time.time()),
        )


@dataclass
class ApiContext:
    app: App
    keys: KeyStore
    limiter: RateLimiter
    metrics: Metrics
    runner: TurnRunner
    feedback: FeedbackAudit
    conversations: Conversations
    readiness: dict[str, str] = field(default_factory=lambda: {"model": "loading"})
    _fields: tuple[dict, set[str]] | None = None

    def need_session(self, session_id: str, key: ApiKey) -> None:
        """404 unless the session exists and `key` created it: another key's session is
        answered exactly like one that does not exist, so its id reveals nothing."""
        if not self.app.db.session_owned_by(session_id, key.id):
            raise ApiError(
                404,
                "session_not_found",
                f"No session {session_id!r}. Create one with POST /v1/sessions "
                "(a widget does this by itself when its stored session is gone).",
                param="session_id",
            )

    def field_names(self) -> set[str]:
        """Every metadata field some item has; recomputed when the catalog changes. A
        bounded worker (a catalog it does not hold) knows its facets and a sample's fields."""
        if self.app.bounded:
            return self.app.tracker.fields
        metas = self.app.store.all_metas()  # a new dict after every catalog change
        if self._fields is None or self._fields[0] is not metas:
            self._fields = (metas, {name for meta in metas.values() for name in meta})
        return self._fields[1]

    def check_message(self, text: str) -> None:
        try:
            clean_message(text, self.app.settings.turn.max_message_chars)
        except MessageRejected as e:
            raise ApiError(422, e.code, str(e), param="message") from None

    def close(self) -> None:
        self.keys.close()


def context(request: Request) -> ApiContext:
    return request.app.state.ctx


_bearer = HTTPBearer(auto_error=False, description="an API key: `recochat keys create NAME`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the same key, in a header")


def require(role: str):
    """A dependency: the request's valid key with at least `role`, counted against its
    rate limit. 401 without a valid key, 403 for a weaker role, 429 over the limit."""

    async def dependency(
        ctx: ApiContext = Depends(context),
        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
        header: str | None = Depends(_header),
    ) -> ApiKey:
        key = ctx.keys.verify(bearer.credentials if bearer else header)
        if key is None:
            raise ApiError(
                401,
                "invalid_api_key",
                "Missing or invalid API key. Send it as `Authorization: Bearer KEY` (or "
                "`X-API-Key: KEY`); create one with `recochat keys create NAME`.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not key.allows(role):
            raise ApiError(
                403,
                "forbidden",
                f"This key has the role '{key.role}'; this needs '{role}'. Create one with "
                f"`recochat keys create NAME --role {role}`.",
            )
        try:
            if ctx.limiter.shared:
                await run_in_threadpool(ctx.limiter.hit, key.id, key.rate_limit)
            else:
                ctx.limiter.hit(key.id, key.rate_limit)
        except ApiError:
            ctx.metrics.rate_limited.inc()
            raise
        if ctx.app.catalog_check_due():  # another worker's catalog change, at most every N s
            await run_in_threadpool(ctx.app.sync_catalog)
        return key

    return dependency
