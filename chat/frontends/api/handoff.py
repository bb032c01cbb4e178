"""Hand-off to a person: what the widget offers when a user asks for a human or
the bot cannot help. The shop configures any of a contact page, an e-mail
address, or a webhook (settings `handoff_url`, `handoff_email`,
`handoff_webhook`, http(s) URLs only). The webhook is called by this server,
never by the browser, with the conversation so far; its URL is never shown to
the client, and the route sits behind the same API key as the chat."""

from __future__ import annotations

import logging
import time

import httpx
from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from chat.frontends.api.context import ApiContext, context, require
from chat.frontends.api.errors import ApiError, documented
from chat.frontends.api.keys import ApiKey
from chat.frontends.api.routes import SessionId
from chat.frontends.api.schemas import HandoffIn, HandoffOptions, HandoffOut

log = logging.getLogger("recochat.api")
router = APIRouter()
chat_key = Depends(require("chat"))
WEBHOOK_TIMEOUT = 10.0
SENT = (
    "Thanks, I have passed our conversation to a person from the shop. They will get back to you."
)


@router.get(
    "/v1/handoff",
    response_model=HandoffOptions,
    responses=documented(401, 403, 429),
    tags=["sessions"],
    summary="The ways to reach a person that this shop offers",
)
async def handoff_options(key: ApiKey = chat_key, ctx: ApiContext = Depends(context)):
    s = ctx.app.settings
    return {
        "available": bool(s.handoff_url or s.handoff_email or s.handoff_webhook),
        "url": s.handoff_url,
        "email": s.handoff_email,
        "webhook": bool(s.handoff_webhook),
    }


@router.post(
    "/v1/sessions/{session_id}/handoff",
    status_code=201,
    response_model=HandoffOut,
    responses=documented(401, 403, 404, 413, 422, 429, 503),
    tags=["sessions"],
    summary="Send the conversation to a person at the shop (the configured webhook)",
)
async def handoff(
    session_id: SessionId,
    body: HandoffIn | None = None,
    key: ApiKey = chat_key,
    ctx: ApiContext = Depends(context),
):
    ctx.need_session(session_id, key)
    webhook = ctx.app.settings.handoff_webhook
    if not webhook:
        raise ApiError(
            404,
            "handoff_unavailable",
            "This shop has no hand-off webhook; set RECOCHAT_HANDOFF_WEBHOOK to offer one.",
        )
    body = body or HandoffIn()
    messages = await run_in_threadpool(ctx.app.db.history, session_id)
    payload = {
        "type": "handoff",
        "session_id": session_id,
        "reason": body.reason,
        "contact": body.contact,
        "api_key": key.name,  # which widget or shop it came through
        "sent_at": time.time(),
        "messages": [
            {
                "role": m.role,
                "content": m.content,
                "items": [i.get("id") for i in m.items if isinstance(i, dict)],
                "created_at": m.created_at,
            }
            for m in messages
        ],
    }
    try:
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, follow_redirects=False) as client:
            answer = await client.post(webhook, json=payload)
        answer.raise_for_status()
    except httpx.HTTPError as e:
        log.warning("the hand-off webhook failed for session %s: %s", session_id, e)
        raise ApiError(
            503,
            "handoff_failed",
            "The shop's hand-off service did not answer. Please try again in a moment.",
            headers={"Retry-After": "10"},
        ) from None
    return {"session_id": session_id, "sent": True, "message": SENT}
