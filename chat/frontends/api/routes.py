"""The native API: sessions, messages (JSON or SSE), history, feedback, catalog
search and items, and catalog admin. Handlers validate, queue work, and render
the session's events; the conversation logic stays in `Session`."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from chat import Done, ErrorEvent, FeedbackLog, ItemsShown, request_state
from chat import search as search_catalog
from chat.frontends.api.context import ApiContext, context, require
from chat.frontends.api.errors import ApiError, documented
from chat.frontends.api.keys import ApiKey
from chat.frontends.api.schemas import (
    NO_CONTROL,
    SSE_EVENT_SCHEMA,
    DeletedOut,
    FeedbackIn,
    FeedbackOut,
    IngestOut,
    ItemOut,
    MessageIn,
    SearchIn,
    SearchOut,
    SessionCreate,
    SessionCreated,
    SessionHistory,
    TurnResult,
    UpsertIn,
)
from retrieval import PRESETS, CatalogError, Filter, load_catalog

router = APIRouter()
chat_key = Depends(require("chat"))
admin_key = Depends(require("admin"))
# ids in paths: no NUL or other control characters (as `Id` in bodies)
SessionId = Annotated[str, PathParam(min_length=1, max_length=200, pattern=NO_CONTROL)]
ItemId = Annotated[str, PathParam(min_length=1, max_length=200, pattern=NO_CONTROL)]
GUARD_CODES = {"empty_message", "message_too_long", "binary_message", "invalid_encoding"}
SSE_DOC = {
    "description": "the turn's events as Server-Sent Events when streaming: `event: <type>` "
    "and `data: <the event as JSON>`, ending with a `done` (or `error`) event",
    "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
}


def wants_stream(body_stream: bool, request: Request) -> bool:
    return body_stream or "text/event-stream" in request.headers.get("accept", "")


def sse(events: AsyncIterator[Any]) -> EventSourceResponse:
    async def frames():
        async for event in events:
            data = event.to_dict()
            yield {"event": data["type"], "data": json.dumps(data, ensure_ascii=False)}

    return EventSourceResponse(frames(), ping=15, sep="\n")


@router.post(
    "/v1/sessions",
    status_code=201,
    response_model=SessionCreated,
    responses=documented(401, 403, 413, 422, 429),
    tags=["sessions"],
    summary="Start a conversation",
)
async def create_session(
    body: SessionCreate | None = None,
    key: ApiKey = chat_key,
    ctx: ApiContext = Depends(context),
):
    sid = await run_in_threadpool(
        ctx.app.db.create_session, body.user_id if body else None, None, key.id
    )
    return {"session_id": sid}


@router.post(
    "/v1/sessions/{session_id}/messages",
    response_model=TurnResult,
    responses={200: SSE_DOC, **documented(400, 401, 403, 404, 413, 422, 429)},
    tags=["sessions"],
    summary="Send a message; get the reply as JSON or as a stream of events",
)
async def send_message(
    session_id: SessionId,
    body: MessageIn,
    request: Request,
    key: ApiKey = chat_key,
    ctx: ApiContext = Depends(context),
):
    ctx.need_session(session_id, key)
    ctx.check_message(body.message)
    events = ctx.runner.run_turn(session_id, body.message)
    if wants_stream(body.stream, request):
        return sse(events)
    collected = [event async for event in events]
    done = next((e for e in collected if isinstance(e, Done)), None)
    if done is None:
        error = next((e for e in collected if isinstance(e, ErrorEvent)), None)
        code = error.code if error else "internal_error"
        status = 422 if code in GUARD_CODES else 500 if code == "internal_error" else 400
        raise ApiError(status, code, error.message if error else "The turn ended without a reply.")
    items = next((e.items for e in reversed(collected) if isinstance(e, ItemsShown)), [])
    return {
        "session_id": session_id,
        "reply": done.reply,
        "items": [asdict(c) for c in items],
        "events": [e.to_dict() for e in collected],
        "timings": done.timings,
    }


@router.get(
    "/v1/sessions/{session_id}",
    response_model=SessionHistory,
    responses=documented(401, 403, 404, 422, 429),
    tags=["sessions"],
    summary="A session's messages (with the items shown) and feedback",
)
async def get_history(
    session_id: SessionId, key: ApiKey = chat_key, ctx: ApiContext = Depends(context)
):
    ctx.need_session(session_id, key)
    messages = await run_in_threadpool(ctx.app.db.history, session_id)
    return {
        "session_id": session_id,
        "messages": [
            {"role": m.role, "content": m.content, "items": m.items, "created_at": m.created_at}
            for m in messages
        ],
        "feedback": [asdict(f) for f in FeedbackLog(ctx.app.db).of_session(session_id)],
    }


@router.post(
    "/v1/sessions/{session_id}/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses=documented(401, 403, 404, 413, 422, 429),
    tags=["sessions"],
    summary="Like, dislike, click or 'seen it' on an item",
)
async def post_feedback(
    session_id: SessionId,
    body: FeedbackIn,
    key: ApiKey = chat_key,
    ctx: ApiContext = Depends(context),
):
    ctx.need_session(session_id, key)
    if ctx.app.store.get(body.item_id) is None:
        raise ApiError(
            404, "item_not_found", f"No item {body.item_id!r} in the catalog.", param="item_id"
        )

    def record() -> dict[str, Any]:
        # In the session's order: the next turn sees the like (state, anchors, filters).
        applied = ctx.app.session(session_id).feedback(body.item_id, body.kind, source="api")
        ctx.feedback.record(session_id, body.item_id, body.kind, key.id)
        return {
            "session_id": session_id,
            "item_id": body.item_id,
            "kind": body.kind,
            "message": getattr(applied, "message", ""),
        }

    saved = await ctx.runner.in_session(session_id, record)
    ctx.metrics.feedback.labels(body.kind).inc()
    return saved


@router.post(
    "/v1/search",
    response_model=SearchOut,
    responses=documented(400, 401, 403, 413, 422, 429),
    tags=["catalog"],
    summary="Search the catalog with filters, without chatting",
)
async def search(body: SearchIn, key: ApiKey = chat_key, ctx: ApiContext = Depends(context)):
    app, f = ctx.app, body.filters

    def run() -> list:
        # A field no item has: "equals" and "ranges" match nothing, "excludes" everything.
        # Deciding that here spares the recommender a pass over the catalog for nothing.
        known = ctx.field_names()
        if any(name not in known for name in [*f.equals, *f.ranges]):
            return []
        flt = Filter(
            equals={k: list(v) for k, v in f.equals.items()},
            excludes={k: list(v) for k, v in f.excludes.items() if k in known},
            ranges={k: (r.min, r.max) for k, r in f.ranges.items()},
        )
        # the chat's recommender on a fresh dialogue state: a search ranks as a first turn
        state = request_state(body.query, flt)
        found = search_catalog(app.recommender, state, body.k, limit=app.settings.turn.shortlist_k)
        return found.cards

    cards = await run_in_threadpool(run)
    ctx.metrics.searches.inc()
    return {"items": [asdict(c) for c in cards]}


@router.get(
    "/v1/items/{item_id}",
    response_model=ItemOut,
    responses=documented(401, 403, 404, 422, 429),
    tags=["catalog"],
    summary="One item's catalog data",
)
async def get_item(item_id: ItemId, key: ApiKey = chat_key, ctx: ApiContext = Depends(context)):
    meta = ctx.app.store.get(item_id)
    if meta is None:
        raise ApiError(404, "item_not_found", f"No item {item_id!r} in the catalog.")
    public = {k: v for k, v in meta.items() if not k.startswith("_")}
    return {"id": item_id, "title": public.get("title", item_id), "metadata": public}


# --- admin ------------------------------------------------------------------------------


def _ingest(ctx: ApiContext, path: Path, preset: str, sync: bool, skip_bad: bool, shown: str):
    try:
        loaded = load_catalog(path, PRESETS[preset], skip_bad=skip_bad)
    except CatalogError as e:
        # Name what the client sent, not our temporary file.
        raise ApiError(422, "invalid_catalog", str(e).replace(str(path), shown)) from None
    report = ctx.app.store.upsert(loaded.items, sync=sync)
    ctx.app.catalog_changed()  # rebuilds recommender and tracker here and in other workers
    return {
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "skipped": len(loaded.skipped),
        "items_in_store": ctx.app.store.count(),
        "skipped_rows": [str(e).replace(str(path), shown) for e in loaded.skipped[:20]],
    }


def _with_temp_file(data: bytes, suffix: str, fn, *args):
    fd, name = tempfile.mkstemp(suffix=suffix, prefix="recochat-ingest-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return fn(Path(name), *args)
    finally:
        os.unlink(name)


@router.put(
    "/v1/admin/items",
    response_model=IngestOut,
    responses=documented(401, 403, 413, 422, 429),
    tags=["admin"],
    summary="Add or update catalog items (rows as in a JSONL catalog)",
)
async def upsert_items(body: UpsertIn, key: ApiKey = admin_key, ctx: ApiContext = Depends(context)):
    data = "\n".join(json.dumps(row, ensure_ascii=False) for row in body.items).encode()

    def work(path: Path):
        return _ingest(ctx, path, body.preset, False, False, "items")

    return await run_in_threadpool(_with_temp_file, data, ".jsonl", work)


@router.delete(
    "/v1/admin/items/{item_id}",
    response_model=DeletedOut,
    responses=documented(401, 403, 404, 422, 429),
    tags=["admin"],
    summary="Delete an item from the catalog",
)
async def delete_item(item_id: ItemId, key: ApiKey = admin_key, ctx: ApiContext = Depends(context)):
    def work() -> int:
        deleted = ctx.app.store.delete([item_id])
        if deleted:
            ctx.app.catalog_changed()
        return deleted

    deleted = await run_in_threadpool(work)
    if not deleted:
        raise ApiError(404, "item_not_found", f"No item {item_id!r} in the catalog.")
    return {"deleted": deleted}


@router.post(
    "/v1/admin/ingest",
    response_model=IngestOut,
    responses=documented(401, 403, 413, 422, 429),
    tags=["admin"],
    summary="Ingest a catalog file sent as the request body (JSONL or CSV)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def ingest(
    request: Request,
    format: Literal["jsonl", "csv"] = Query("jsonl", description="the body's format"),
    preset: Literal["shop", "redial"] = Query("shop", description="field map preset"),
    sync: bool = Query(False, description="also delete items that are not in the file"),
    skip_bad: bool = Query(False, description="ingest the good rows and list the bad ones"),
    key: ApiKey = admin_key,
    ctx: ApiContext = Depends(context),
):
    data = await request.body()
    if not data.strip():
        raise ApiError(422, "invalid_catalog", "The body is empty; send the catalog file as it is.")

    def work(path: Path):
        return _ingest(ctx, path, preset, sync, skip_bad, "body")

    return await run_in_threadpool(_with_temp_file, data, f".{format}", work)
