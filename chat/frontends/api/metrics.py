"""Prometheus metrics for `/metrics`, in a registry of the app's own (so two apps
in one process, as in tests, never share counters).

HTTP requests are counted by route *template* ("/v1/sessions/{session_id}"), not
by raw path, so label cardinality stays bounded whatever clients send.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.requests = Counter(
            "recochat_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "recochat_http_request_seconds",
            "Time from request to the end of the response (whole stream for SSE)",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.stage_seconds = Histogram(
            "recochat_turn_stage_seconds",
            "Seconds per stage of a turn (state, recall, rank, llm_first_token, llm_total, total)",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.first_event_seconds = Histogram(
            "recochat_turn_first_event_seconds",
            "From the turn starting to its first event",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.first_token_seconds = Histogram(
            "recochat_turn_first_token_seconds",
            "From the turn starting to its first text delta",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_seconds = Histogram(
            "recochat_turn_queue_seconds",
            "Wait behind earlier turns of the same session and for a free worker",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.turns = Counter("recochat_turns", "Turns by outcome", ["outcome"], registry=r)
        self.turns_running = Gauge("recochat_turns_running", "Turns in progress", registry=r)
        self.tokens = Counter(
            "recochat_llm_tokens",
            "Text pieces streamed by the LLM (one per generated token for local models)",
            ["model"],
            registry=r,
        )
        self.recommendations = Counter(
            "recochat_recommendations", "Items shown to users", registry=r
        )
        self.feedback = Counter("recochat_feedback", "Feedback received", ["kind"], registry=r)
        self.searches = Counter("recochat_searches", "Catalog searches", registry=r)
        self.rate_limited = Counter(
            "recochat_rate_limited", "Requests refused with 429", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observe_timings(self, timings: dict[str, float]) -> None:
        for stage, seconds in timings.items():
            if isinstance(seconds, int | float):
                self.stage_seconds.labels(stage).observe(seconds)


class RequestMetrics:
    """ASGI middleware: count every HTTP request and time it to the end of its body."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            full = scope.get("root_path", "") + scope["path"]
            if full.startswith("/chat/") or scope["path"].startswith("/chat/"):
                path = "/chat/*"  # the mounted Gradio app has routes of its own
            else:
                path = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, path, str(status)).inc()
            self.metrics.request_seconds.labels(method, path).observe(time.perf_counter() - started)
