"""A person's data, for an admin key: everything stored about a user or a
session, exported as JSON or deleted (sessions, messages, feedback, the
interaction log, the online learners' state). A session's deletion waits for
its running turn, so nothing of it is written back afterwards."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from chat.frontends.api.context import ApiContext, context, require
from chat.frontends.api.errors import ApiError, documented
from chat.frontends.api.routes import NO_CONTROL, SessionId
from chat.frontends.api.schemas import DataDeletedOut

# every route here: the admin key, the same errors, one tag in the API's docs
router = APIRouter(
    dependencies=[Depends(require("admin"))],
    responses=documented(401, 403, 404, 422, 429),
    tags=["data rights"],
)
UserId = Annotated[str, PathParam(min_length=1, max_length=200, pattern=NO_CONTROL)]


def stored_user(ctx: ApiContext, user_id: str) -> dict[str, Any]:
    """Everything stored about the user, or a 404 when there is nothing."""
    exported = ctx.app.db.export_user(user_id)
    if not (exported["sessions"] or exported["interactions"] or exported["online_state"]):
        raise ApiError(
            404,
            "user_not_found",
            f"Nothing is stored about the user {user_id!r} (the id given as user_id when "
            "sessions were created, or in imported interactions).",
            param="user_id",
        )
    return exported


@router.get("/v1/admin/users/{user_id}/export", summary="Everything stored about a user, as JSON")
async def export_user(user_id: UserId, ctx: ApiContext = Depends(context)):
    return await run_in_threadpool(stored_user, ctx, user_id)


@router.delete(
    "/v1/admin/users/{user_id}",
    response_model=DataDeletedOut,
    summary="Delete everything stored about a user",
)
async def delete_user(user_id: UserId, ctx: ApiContext = Depends(context)):
    exported = await run_in_threadpool(stored_user, ctx, user_id)
    counts: Counter[str] = Counter()
    for session in exported["sessions"]:  # each after its running turn, under its lock
        sid = session["session"]["id"]
        counts.update(await ctx.runner.in_session(sid, ctx.app.db.delete_session, sid))
    # then the rest: interactions and online state under the user's id, late sessions
    counts.update(await run_in_threadpool(ctx.app.db.delete_user, user_id))
    return {"deleted": dict(counts)}


def stored_session(ctx: ApiContext, session_id: str) -> dict[str, Any]:
    """Everything stored about the session, or a 404 when there is no such session."""
    exported = ctx.app.db.export_session(session_id)
    if exported is None:
        raise ApiError(404, "session_not_found", f"No session {session_id!r}.", param="session_id")
    return exported


@router.get(
    "/v1/admin/sessions/{session_id}/export",
    summary="Everything stored about a session, as JSON",
)
async def export_session(session_id: SessionId, ctx: ApiContext = Depends(context)):
    return await run_in_threadpool(stored_session, ctx, session_id)


@router.delete(
    "/v1/admin/sessions/{session_id}",
    response_model=DataDeletedOut,
    summary="Delete a session and everything stored about it",
)
async def delete_session(session_id: SessionId, ctx: ApiContext = Depends(context)):
    await run_in_threadpool(stored_session, ctx, session_id)
    counts = await ctx.runner.in_session(session_id, ctx.app.db.delete_session, session_id)
    return {"deleted": counts}
