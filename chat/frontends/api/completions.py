"""`POST /v1/chat/completions` and `GET /v1/models`, as OpenAI serves them, so the
`openai` client and OpenAI-speaking widgets work unchanged.

Two models live behind it:

- "recochat" (the default): the recommender. The last user message is a turn of a recochat session; the reply
  is the turn's copy, and the items shown ride along in an extra top-level field,
  `recommendations` (in the first stream chunk that has them, and in the whole
  response), with `session_id`. Clients resend the whole history each time: we
  find the session that continues it by a hash of (key, history so far), so they
  get a stateful conversation without knowing about sessions; passing
  `session_id` (extra_body) names it outright.
- the LLM's own name (e.g. "smollm2-135m"): the raw model, for keys with the
  `llm` role. This is how one recochat serves generation to others
  (RECOCHAT_LLM_BACKEND=openai pointed at it), as vLLM or TGI would.

Any other name is a 404 `model_not_found`, as OpenAI answers it.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse

from chat import Done, ErrorEvent, Event, ItemsShown, TextDelta
from chat.frontends.api.context import ApiContext, context, require
from chat.frontends.api.errors import INTERNAL, ApiError, documented, error_body
from chat.frontends.api.keys import ApiKey
from chat.frontends.api.schemas import SSE_EVENT_SCHEMA, Id, ItemCardOut, Text

router = APIRouter()
RECOMMENDER = "recochat"
DEFAULT_RAW_MAX_TOKENS = 256
MAX_TOKENS_LIMIT = 4096


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: Text | None = None


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Text | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionIn(BaseModel):
    # Unknown OpenAI parameters (temperature, top_p, n …) are accepted and ignored.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    model: Annotated[Text, Field(max_length=200)] = RECOMMENDER
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS_LIMIT)
    max_completion_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS_LIMIT)
    stop: Annotated[Text, Field(max_length=100)] | list[Text] | None = Field(None)
    user: Id | None = None
    session_id: Id | None = Field(
        None, description="recochat extension: continue this session (from an earlier reply)"
    )


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: str
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionOut(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    recommendations: list[ItemCardOut] = Field(
        default_factory=list,
        description="recochat extension: the items the reply recommends, with explanations "
        "(empty from the raw model)",
    )
    session_id: str | None = Field(None, description="recochat extension: the session used")


class ModelOut(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelOut]


STREAM_DOC = {
    "description": "with `stream: true`: `data: <chat.completion.chunk>` events, then `data: [DONE]`",
    "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
}


def _history_hash(key_id: str, messages: list[tuple[str, str]]) -> str:
    blob = json.dumps([key_id, messages], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8", "backslashreplace")).hexdigest()


def _dialogue(messages: list[ChatMessageIn]) -> list[tuple[str, str]]:
    return [(m.role, m.text().strip()) for m in messages if m.role in ("user", "assistant")]


def _words(text: str) -> int:
    return len(text.split())


class _Chunks:
    """Builds chat.completion.chunk objects of one response."""

    def __init__(self, model: str):
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def make(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return json.dumps(chunk, ensure_ascii=False)

    def usage(self, prompt: int, completion: int) -> str:
        return json.dumps(
            {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [],
                "usage": _usage(prompt, completion),
            }
        )


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(model: str, content: str, usage: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage,
        **extra,
    }


@router.get(
    "/v1/models",
    response_model=ModelList,
    responses=documented(401, 403, 429),
    tags=["openai"],
    summary="The models /v1/chat/completions serves",
)
async def list_models(key: ApiKey = Depends(require("chat")), ctx: ApiContext = Depends(context)):
    ids = [RECOMMENDER]
    if key.allows("llm"):
        ids.append(ctx.app.llm.name)
    now = int(time.time())
    return {
        "object": "list",
        "data": [{"id": i, "object": "model", "created": now, "owned_by": "recochat"} for i in ids],
    }


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletionOut,
    responses={200: STREAM_DOC, **documented(401, 403, 404, 413, 422, 429)},
    tags=["openai"],
    summary="OpenAI-compatible chat completions (recommendations in `recommendations`)",
)
async def chat_completions(
    body: ChatCompletionIn,
    key: ApiKey = Depends(require("chat")),
    ctx: ApiContext = Depends(context),
):
    if body.model == RECOMMENDER:
        return await _recommend(body, key, ctx)
    if body.model != ctx.app.llm.name:
        served = RECOMMENDER + (f"' or '{ctx.app.llm.name}" if key.allows("llm") else "")
        raise ApiError(
            404,
            "model_not_found",
            f"The model {body.model!r} does not exist here. Use '{served}' "
            "(GET /v1/models lists them).",
            param="model",
        )
    if not key.allows("llm"):
        raise ApiError(
            403,
            "forbidden",
            f"The raw model {body.model!r} needs a key with the 'llm' role "
            "(`recochat keys create NAME --role llm`); use model 'recochat' for recommendations.",
            param="model",
        )
    return await _raw(body, ctx)


# --- the recommender ---------------------------------------------------------------------


async def _recommend(body: ChatCompletionIn, key: ApiKey, ctx: ApiContext):
    last = body.messages[-1]
    if last.role != "user":
        raise ApiError(
            422,
            "invalid_request",
            "The last message must be the user's (role 'user'): it is what recochat answers.",
            param="messages",
        )
    text = last.text()
    ctx.check_message(text)
    prior = _dialogue(body.messages[:-1])
    session_id = body.session_id
    if session_id is not None:
        ctx.need_session(session_id, key)
    elif prior:
        session_id = ctx.conversations.find(_history_hash(key.id, prior))
    if session_id is None:
        session_id = ctx.app.db.create_session(body.user, key_id=key.id)
    events = ctx.runner.run_turn(session_id, text)
    after = [*prior, ("user", text.strip())]

    def remember(reply: str) -> None:
        ctx.conversations.remember(
            _history_hash(key.id, [*after, ("assistant", reply.strip())]), session_id
        )

    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        frames = _recommend_stream(events, session_id, text, remember, include_usage)
        return EventSourceResponse(frames, ping=15, sep="\n")

    collected: list[Event] = [e async for e in events]
    done = next((e for e in collected if isinstance(e, Done)), None)
    if done is None:
        error = next((e for e in collected if isinstance(e, ErrorEvent)), None)
        code = error.code if error else "internal_error"
        raise ApiError(
            500 if code == "internal_error" else 400,
            code,
            error.message if error else INTERNAL,
        )
    remember(done.reply)
    items = next((e.items for e in reversed(collected) if isinstance(e, ItemsShown)), [])
    deltas = sum(1 for e in collected if isinstance(e, TextDelta))
    return _completion(
        RECOMMENDER,
        done.reply,
        _usage(_words(text), deltas),
        recommendations=[asdict(c) for c in items],
        session_id=session_id,
    )


async def _recommend_stream(
    events: AsyncIterator[Event], session_id: str, text: str, remember, include_usage: bool
):
    chunks = _Chunks(RECOMMENDER)
    yield {"data": chunks.make({"role": "assistant", "content": ""}, session_id=session_id)}
    deltas, streamed = 0, ""
    async for event in events:
        if isinstance(event, TextDelta):
            deltas += 1
            streamed += event.text
            yield {"data": chunks.make({"content": event.text})}
        elif isinstance(event, ItemsShown):
            cards = [asdict(c) for c in event.items]
            yield {"data": chunks.make({}, recommendations=cards)}
        elif isinstance(event, Done):
            remember(event.reply)
            if streamed.strip() != event.reply.strip():  # the copy was replaced mid-stream:
                remember(streamed)  # the client holds what it was sent
            yield {"data": chunks.make({}, "stop", session_id=session_id)}
        elif isinstance(event, ErrorEvent):
            status = 500 if event.code == "internal_error" else 400
            yield {"data": json.dumps(error_body(status, event.code, event.message))}
            break
        else:  # a question's options, a replaced copy …: no OpenAI field, passed as is
            yield {"data": chunks.make({}, recochat_event=event.to_dict())}
    if include_usage:
        yield {"data": chunks.usage(_words(text), deltas)}
    yield {"data": "[DONE]"}


# --- the raw model -------------------------------------------------------------------------


def _raw_messages(body: ChatCompletionIn) -> list[dict[str, str]]:
    roles = {"developer": "system"}
    return [
        {"role": roles.get(m.role, m.role), "content": m.text()}
        for m in body.messages
        if m.role != "tool"
    ]


async def _raw(body: ChatCompletionIn, ctx: ApiContext):
    messages = _raw_messages(body)
    max_tokens = body.max_completion_tokens or body.max_tokens or DEFAULT_RAW_MAX_TOKENS
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    llm = ctx.app.llm
    if messages[-1]["role"] == "assistant" and not llm.continues:
        # a model that continues one streams only the continuation (chat/llm/base.py)
        raise ApiError(
            422,
            "invalid_request",
            f"The model {llm.name!r} does not continue a reply begun in the last message "
            "(role 'assistant'); end the messages with the user's.",
            param="messages",
        )
    pieces = ctx.runner.run_llm(messages, max_tokens, stop)
    prompt_tokens = sum(_words(m["content"]) for m in messages)

    if not body.stream:
        content = "".join([p async for p in pieces])
        usage = pieces.usage
        completion = (usage and usage.completion_tokens) or _words(content)
        return _completion(llm.name, content, _usage(prompt_tokens, completion))

    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    async def frames():
        chunks = _Chunks(llm.name)
        count = 0
        try:
            yield {"data": chunks.make({"role": "assistant", "content": ""})}
            try:
                async for piece in pieces:
                    count += 1
                    yield {"data": chunks.make({"content": piece})}
            except Exception as e:  # headers are sent: the error goes in the stream
                yield {"data": json.dumps(error_body(503, "model_unavailable", str(e)))}
                return
            yield {"data": chunks.make({}, "stop")}
            if include_usage:
                yield {"data": chunks.usage(prompt_tokens, count)}
            yield {"data": "[DONE]"}
        finally:
            pieces.cancel()  # the client left: stop generating

    return EventSourceResponse(frames(), ping=15, sep="\n")
