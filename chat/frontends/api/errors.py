"""Every error the API returns, in one JSON shape, converted in one place.

The shape is OpenAI's, so the `openai` client and OpenAI-speaking widgets read
our errors too:

    {"error": {"message": "...", "type": "invalid_request_error", "code": "message_too_long",
               "param": "message"}}

Bad input is always a 4xx with a message that says what to do next; only our
own bugs are 500s, and those never carry a traceback. Strings from the request
may hold lone surrogates ("\\ud800"), which cannot be encoded as UTF-8: they are
escaped before rendering, so the error about bad input is never itself a 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from chat import USER_ERRORS
from chat.frontends.turn_guard import INTERNAL
from chat.llm import ModelBusy, ModelError

log = logging.getLogger("recochat.api")

# HTTP status → OpenAI error type
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}
DEFAULT_CODES = {
    400: "bad_request",
    401: "invalid_api_key",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: str
    param: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.param, self.headers = param, headers


def safe_text(value: Any) -> str:
    """Text that encodes as UTF-8 whatever it holds (lone surrogates are escaped)."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


class SafeJSONResponse(JSONResponse):
    """JSON that renders even when a string holds a lone surrogate."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_body(status: int, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": safe_text(message),
            "type": ERROR_TYPES.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            ),
            "code": code,
            "param": safe_text(param) if param is not None else None,
        }
    }


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> SafeJSONResponse:
    return SafeJSONResponse(error_body(status, code, message, param), status, headers=headers)


def describe_validation(errors: list[dict[str, Any]]) -> tuple[str, str | None, str]:
    """(message, param, code) for pydantic errors, never echoing the input itself."""
    parts, first_param, code = [], None, "invalid_request"
    for err in errors[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        where = ".".join(loc) or "body"
        first_param = first_param or where
        kind = err.get("type", "")
        if kind == "json_invalid":
            code, first_param = "invalid_json", None
            parts.append("the body is not valid JSON; send a JSON object")
        elif kind == "string_unicode" or "not valid text" in str(err.get("msg", "")):
            code = "invalid_encoding"
            parts.append(f"{where}: contains characters that are not valid text")
        else:
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "Invalid request: " + "; ".join(parts) + more + ".", first_param, code


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError):
        return error_response(e.status, e.code, e.message, param=e.param, headers=e.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, e: RequestValidationError):
        message, param, code = describe_validation(list(e.errors()))
        return error_response(422, code, message, param=param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException):
        status = e.status_code
        code = DEFAULT_CODES.get(status, "error")
        message = e.detail if isinstance(e.detail, str) else code
        if status == 404 and message == "Not Found":
            message = f"No such endpoint: {request.method} {request.url.path}. See /docs."
        elif status == 405:
            message = f"{request.method} is not allowed on {request.url.path}. See /docs."
        elif status == 400 and message == "There was an error parsing the body":
            # FastAPI's word for a body that is not UTF-8 JSON: a validation error to us
            status, code = 422, "invalid_json"
            message = "The body could not be read as JSON text; send UTF-8 JSON."
        return error_response(status, code, message, headers=getattr(e, "headers", None))

    @app.exception_handler(ModelBusy)
    async def _busy(request: Request, e: ModelBusy):
        return error_response(503, "model_busy", str(e), headers={"Retry-After": "5"})

    @app.exception_handler(ModelError)
    async def _model(request: Request, e: ModelError):
        log.error("model unavailable: %s", e)
        return error_response(503, "model_unavailable", str(e))

    async def _user(request: Request, e: Exception):
        return error_response(400, "bad_request", str(e))

    for kind in USER_ERRORS:
        if kind is not ModelError:
            app.add_exception_handler(kind, _user)

    @app.exception_handler(Exception)
    async def _internal(request: Request, e: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", INTERNAL)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the errors a route can return."""
    return {s: {"model": ErrorResponse, "description": DEFAULT_CODES[s]} for s in statuses}
