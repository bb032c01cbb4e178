"""Request and response bodies of the native API (the OpenAI-compatible ones are in
completions.py). They are the OpenAPI schema that /docs shows and the contract
tests check, so response models are exact about what is always there and open
(`extra="allow"`) where later event or card fields may appear."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
)

NOT_TEXT = "contains characters that are not valid text (e.g. a lone surrogate)"


def _valid_text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(NOT_TEXT) from None
    return value


def _valid_json(value: Any) -> Any:
    """Walk a JSON value and refuse strings that cannot be stored as UTF-8."""
    if isinstance(value, str):
        _valid_text(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _valid_text(str(k))
            _valid_json(v)
    elif isinstance(value, list):
        for v in value:
            _valid_json(v)
    return value


def _valid_id(value: str) -> str:
    """An id is stored and compared exactly, and shown in logs: no NUL or other control
    characters, which are never part of a real id and hide what follows them."""
    _valid_text(value)
    if CONTROL.search(value):
        raise ValueError("must not contain control characters (NUL, newline, tab …)")
    return value


CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NO_CONTROL = r"^[^\x00-\x1f\x7f]+$"  # the same rule, as the schema states it for clients
Text = Annotated[str, AfterValidator(_valid_text)]
Id = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": NO_CONTROL}),
    AfterValidator(_valid_id),
]
# a catalog field's name in search filters: any text (a name no item has matches nothing)
FieldName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_valid_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- sessions and turns ---------------------------------------------------------------


class SessionCreate(Strict):
    user_id: Id | None = Field(None, description="your id for the visitor, if any")


class SessionCreated(BaseModel):
    session_id: str


class MessageIn(Strict):
    message: Text = Field(
        description="what the user typed; too long, empty or binary text is refused with 422"
    )
    stream: bool = Field(
        False,
        description="true: a text/event-stream of the turn's events (or send "
        "`Accept: text/event-stream`); false: one JSON object when the turn is done",
    )


class ItemCardOut(Open):
    """An item shown to the user, with the ranking's explanation."""

    id: str
    title: str
    explanation: str = ""
    reasons: list[dict[str, Any]] = []
    score: float | None = None
    price: float | None = None
    currency: str | None = None
    rating: float | None = None
    rating_count: int | None = None
    category: str | None = None
    in_stock: bool | None = None
    image: str | None = None
    url: str | None = None
    brand: str | None = None
    detail: str | None = None  # what tells it apart from a same-titled card in the list


class EventOut(Open):
    """One event of a turn, as the session yields it: `text` (a delta), `items`,
    `done`, `error`, and any kinds added later (e.g. a question)."""

    type: str


class TurnResult(BaseModel):
    session_id: str
    reply: str
    items: list[ItemCardOut]
    events: list[EventOut]
    timings: dict[str, float]


class HistoryMessage(BaseModel):
    role: str
    content: str
    items: list[ItemCardOut]
    created_at: float


class FeedbackIn(Strict):
    item_id: Id
    kind: Literal["like", "dislike", "seen", "click"]


class FeedbackOut(BaseModel):
    session_id: str
    item_id: str
    kind: str
    message: str = Field("", description="what the assistant says about it, if anything")


class FeedbackRecordOut(BaseModel):
    session_id: str
    item_id: str
    kind: str
    source: str = Field(description="where it came from: api, ui (a button), text (the chat)")
    created_at: float


class SessionHistory(BaseModel):
    session_id: str
    messages: list[HistoryMessage]
    feedback: list[FeedbackRecordOut]


# --- catalog ----------------------------------------------------------------------------


class RangeIn(Strict):
    # strict: `true` is no bound (lax floats would read it as 1.0)
    min: StrictFloat | None = None
    max: StrictFloat | None = None


# One type per list: the store compares like with like ("$in" of mixed types is refused).
_Some = Field(min_length=1, max_length=100)
Values = (
    Annotated[list[Text], _Some]
    | Annotated[list[StrictInt | StrictFloat], _Some]
    | Annotated[list[StrictBool], _Some]
)


class FiltersIn(Strict):
    equals: dict[FieldName, Values] = Field(
        default_factory=dict, description='field → accepted values, e.g. {"category": ["toys"]}'
    )
    excludes: dict[FieldName, Values] = Field(
        default_factory=dict, description="field → rejected values"
    )
    ranges: dict[FieldName, RangeIn] = Field(
        default_factory=dict, description='field → bounds, e.g. {"price": {"max": 50}}'
    )


class SearchIn(Strict):
    query: Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_valid_text)]
    k: int = Field(10, ge=1, le=50)
    filters: FiltersIn = Field(default_factory=FiltersIn)


class SearchOut(BaseModel):
    items: list[ItemCardOut]


class ItemOut(BaseModel):
    id: str
    title: str
    metadata: dict[str, Any]


class UpsertIn(Strict):
    items: list[Annotated[dict[str, Any], AfterValidator(_valid_json)]] = Field(
        min_length=1, max_length=5000, description="catalog rows, as in a JSONL catalog file"
    )
    preset: Literal["shop", "redial"] = "shop"


class IngestOut(BaseModel):
    added: int
    updated: int
    unchanged: int
    deleted: int
    skipped: int
    items_in_store: int
    skipped_rows: list[str] = []


class DeletedOut(BaseModel):
    deleted: int


class DataDeletedOut(BaseModel):
    deleted: dict[str, int]  # rows deleted per table


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready", "starting", "failed"]
    checks: dict[str, str]


# One Server-Sent Event as OpenAPI 3.1 documents a text/event-stream body: each event's
# fields (`data` holds JSON, or "[DONE]" at the end of an OpenAI stream).
SSE_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
    "required": ["data"],
}


# --- hand-off to a person (the widget's "talk to a person") ---------------------------------


class HandoffOptions(BaseModel):
    available: bool = Field(description="whether any way to reach a person is configured")
    url: str | None = Field(None, description="a contact page (RECOCHAT_HANDOFF_URL)")
    email: str | None = Field(None, description="an address to write to (RECOCHAT_HANDOFF_EMAIL)")
    webhook: bool = Field(
        False, description="POST /v1/sessions/{id}/handoff sends the conversation to the shop"
    )


class HandoffIn(Strict):
    reason: Literal["asked", "no_help", "error"] = Field(
        default="asked",
        description="the user asked for a person, the bot could not help, or it failed",
    )
    contact: Text | None = Field(
        default=None, max_length=200, description="how the person can reach the user, if they said"
    )


class HandoffOut(BaseModel):
    session_id: str
    sent: bool
    message: str = Field(description="what to tell the user")
