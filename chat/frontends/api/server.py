"""The API server: `create_api(app)` builds the FastAPI application around an
App (routes, errors, limits, CORS, metrics, the widget, the Gradio chat), and
`serve` runs it with uvicorn.

Everything the server holds is built here, once; routes get it through
`Depends(context)`. The model loads in the background after start, so /healthz
answers at once and /readyz says when the server can really answer.
"""

from __future__ import annotations

import html
import logging
import os
import re
import threading
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat.frontends.api import completions, data_rights, errors, handoff, routes, telemetry
from chat.frontends.api.context import ApiContext, Conversations, FeedbackAudit, context
from chat.frontends.api.errors import ApiError
from chat.frontends.api.keys import KeyStore, check_rate_limit
from chat.frontends.api.limits import BodySizeLimit, RateLimiter
from chat.frontends.api.metrics import Metrics, RequestMetrics
from chat.frontends.api.schemas import Health, Ready
from chat.frontends.api.session_locks import SessionLocks
from chat.frontends.api.turns import TurnRunner
from chat.frontends.api.workers import bind
from chat.frontends.images import Images

if TYPE_CHECKING:
    from chat import App, Settings

log = logging.getLogger("recochat.api")

DESCRIPTION = """\
Conversational recommendations over HTTP.

* **Native API**: create a session, send messages (JSON, or Server-Sent Events with
  `"stream": true`), read the history, send feedback, search the catalog.
* **OpenAI-compatible**: `POST /v1/chat/completions` (streamed or not); the items
  recommended come in the extra field `recommendations`.
* **Auth**: every `/v1` route needs an API key (`recochat keys create NAME`), sent as
  `Authorization: Bearer KEY` or `X-API-Key: KEY`. Errors share one JSON shape:
  `{"error": {"message", "type", "code", "param"}}`.
* The chat widget is at `/widget.js` (demo: `/demo?key=KEY`); the Gradio chat at `/chat/`
  when the server runs with `--gradio` (it needs no key: private networks only).
* **Hand-off to a person**: `GET /v1/handoff` lists what the shop configured
  (RECOCHAT_HANDOFF_URL, _EMAIL, _WEBHOOK); `POST /v1/sessions/{id}/handoff` sends
  the conversation to the webhook.
"""
GRADIO_WARNING = (
    "Warning: the Gradio chat at /chat/ runs model turns with no API key and no rate limit. "
    "Serve it only where everyone who reaches it may use it; drop --gradio (or "
    "RECOCHAT_SERVE_GRADIO) to turn it off."
)
KEY_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")
COLOR = re.compile(r"^(#[0-9A-Fa-f]{3,8}|[A-Za-z]{3,20})$")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' https: data:; "
    "style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _static(name: str) -> str:
    return (files("chat.frontends") / "static" / name).read_text(encoding="utf-8")


def _warm_up(ctx: ApiContext, languages: bool) -> None:
    """Load the model (and the catalog-derived parts) so the first reply is not slow."""
    try:
        ctx.app.warm_up(languages=languages)
        ctx.readiness["model"] = "ready"
    except Exception as e:  # a ModelError names the fix; /readyz and the log show it
        log.error("the model did not load: %s", e)
        ctx.readiness["model"] = f"failed: {e}"


def create_api(
    app: App, *, gradio: bool | None = None, owns_app: bool = False, languages: bool = False
) -> FastAPI:
    """The API around `app`. `languages`: warm the reading of other languages before
    /readyz says ready (a server does; a test's app loads it when first needed)."""
    s = app.settings
    check_rate_limit(s.rate_limit)
    metrics = Metrics()
    admin = s.admin_key.get_secret_value() if s.admin_key else None
    ctx = ApiContext(
        app=app,
        keys=KeyStore(app.db, admin_key=admin),
        limiter=RateLimiter(s.rate_limit, s.redis_url),
        metrics=metrics,
        runner=TurnRunner(
            app, metrics, threads=s.turn_threads, locks=SessionLocks(app.db, s.redis_url)
        ),
        feedback=FeedbackAudit(app.db),
        conversations=Conversations(app.db),
    )
    app.llm  # noqa: B018 - built once here, not by two worker threads at once

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        threading.Thread(
            target=_warm_up, args=(ctx, languages), name="warm-up", daemon=True
        ).start()
        yield
        await ctx.runner.drain()
        ctx.close()
        if owns_app:
            app.close()

    api = FastAPI(
        title="recochat",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=errors.SafeJSONResponse,
    )
    api.state.ctx = ctx
    errors.install(api)
    api.include_router(routes.router)
    api.include_router(completions.router)
    api.include_router(handoff.router)
    api.include_router(data_rights.router)
    _operations(api, app)

    api.add_middleware(
        BodySizeLimit,
        default=s.max_request_bytes,
        per_path={"/v1/admin/ingest": s.max_ingest_bytes, "/v1/admin/items": s.max_ingest_bytes},
    )
    api.add_middleware(
        CORSMiddleware,
        allow_origins=list(s.cors_origins),
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key", "Accept"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    api.add_middleware(RequestMetrics, metrics=metrics)  # outermost: sees every status
    if s.workers > 1:
        api.add_middleware(WorkerHeader)

    if (exporter := telemetry.exporter_for(s.otel_exporter)) is not None:
        telemetry.install(api, exporter, batch=s.otel_exporter != "console")
    if s.serve_gradio if gradio is None else gradio:
        log.warning(GRADIO_WARNING)
        _mount_gradio(api, app)
    return api


def _operations(api: FastAPI, app: App) -> None:
    _health_routes(api)
    _page_routes(api, Images(app.home.path))


def _health_routes(api: FastAPI) -> None:
    """Liveness, readiness and metrics, for the orchestrator and the monitoring."""

    @api.get("/healthz", response_model=Health, tags=["operations"], summary="The process is up")
    async def healthz():
        return {"status": "ok"}

    @api.get(
        "/readyz",
        response_model=Ready,
        responses={503: {"model": Ready, "description": "not ready yet (or failed)"}},
        tags=["operations"],
        summary="The model is loaded and the catalog is open and not empty",
    )
    async def readyz(ctx: ApiContext = Depends(context)):
        checks = dict(ctx.readiness)
        try:
            count = ctx.app.store.count()
            checks["catalog"] = f"{count} items" if count else "empty: ingest a catalog"
        except Exception as e:  # the store is not reachable (a Chroma server went away)
            count, checks["catalog"] = 0, f"unavailable: {e}"
        failed = checks["model"].startswith("failed")
        ready = checks["model"] == "ready" and count > 0
        status = "ready" if ready else "failed" if failed else "starting"
        return errors.SafeJSONResponse(
            {"status": status, "checks": checks}, status_code=200 if ready else 503
        )

    @api.get("/metrics", include_in_schema=False)
    async def metrics(ctx: ApiContext = Depends(context)):
        return Response(ctx.metrics.render(), media_type=ctx.metrics.content_type)


def _page_routes(api: FastAPI, images: Images) -> None:
    """The embeddable widget, the catalog's pictures and the demo page (the files
    ship with the package: read once, here)."""
    widget_js, demo_page = _static("widget.js"), _static("demo.html")

    @api.get("/widget.js", include_in_schema=False)
    async def widget():
        return Response(
            widget_js,
            media_type="text/javascript; charset=utf-8",
            headers={
                **SECURITY_HEADERS,
                "Cache-Control": "public, max-age=300",
                "Cross-Origin-Resource-Policy": "cross-origin",
            },
        )

    @api.get("/images/{name}", include_in_schema=False)
    async def image(name: str):
        found = images.find(name)
        if found is None:
            raise ApiError(404, "not_found", f"No picture named {name!r}.")
        path, media = found
        return Response(
            path.read_bytes(),
            media_type=media,
            headers={
                **SECURITY_HEADERS,
                "Cache-Control": "public, max-age=3600",
                "Cross-Origin-Resource-Policy": "cross-origin",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            },
        )

    @api.get("/demo", include_in_schema=False)
    async def demo(request: Request, key: str = ""):
        base = str(request.base_url).rstrip("/")
        key = key if KEY_SHAPE.match(key) else ""
        page = demo_page.replace("{{API_URL}}", html.escape(base, quote=True))
        page = page.replace("{{KEY}}", html.escape(key, quote=True))
        page = page.replace("{{NO_KEY}}", " hidden" if key else "")
        page = page.replace("{{LOOK}}", _widget_look(request.query_params))
        return HTMLResponse(page, headers={**SECURITY_HEADERS, "Content-Security-Policy": DEMO_CSP})


def _widget_look(query) -> str:
    """The widget's theming attributes for the demo page, from its query string
    (/demo?key=K&color=%23c2185b&theme=dark&position=left&title=Help), so a shop
    can preview them; anything else is dropped."""
    checks = {
        "color": lambda v: bool(COLOR.match(v)),
        "theme": lambda v: v in ("light", "dark", "auto"),
        "position": lambda v: v in ("left", "right"),
        "title": lambda v: 0 < len(v) <= 60,
        "greeting": lambda v: 0 < len(v) <= 200,
    }
    return "".join(
        f' data-{name}="{html.escape(query[name], quote=True)}"'
        for name, ok in checks.items()
        if name in query and ok(query[name])
    )


def _mount_gradio(api: FastAPI, app: App) -> None:
    import gradio as gr

    from chat.frontends.web import build_ui, page_options

    blocks = build_ui(app)
    blocks.queue(default_concurrency_limit=1)
    gr.mount_gradio_app(api, blocks, path="/chat", **page_options())


class WorkerHeader:
    """With several workers, each response names its worker process (X-Recochat-Worker:
    its pid), so a client or a test can see the load spread."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.header = (b"x-recochat-worker", str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_header if scope["type"] == "http" else send)


def worker_api() -> FastAPI:
    """What each worker process of `serve_workers` builds: its own App from the
    settings in the environment (the parent wrote the command line's there)."""
    from chat import App, load_settings

    return create_api(App.open(load_settings()), gradio=False, owns_app=True, languages=True)


def serve_workers(settings: Settings, model: str | None) -> None:
    """`recochat serve --workers N` (chat/frontends/api/workers.py). The Gradio chat is
    not mounted: its queue lives in one process."""
    from chat.frontends.api.workers import supervise

    if model:
        os.environ["RECOCHAT_LLM"] = model
    os.environ["RECOCHAT_WORKERS"] = str(settings.workers)
    host, port = settings.host, settings.serve_port
    config = {
        "app": "chat.frontends.api.server:worker_api",
        "factory": True,
        "log_level": "warning",
        "access_log": False,
        "timeout_graceful_shutdown": 30,
        "server_header": False,
    }
    where = f"http://{host}:{port}"
    print(
        f"recochat API on {where} with {settings.workers} workers — docs {where}/docs, "
        f"widget demo {where}/demo?key=KEY (no Gradio chat with several workers). "
        "Press Ctrl+C to stop.",
        flush=True,
    )
    supervise(host, port, settings.workers, config)


def serve(app: App, *, host: str, port: int, gradio: bool | None = None) -> None:
    import uvicorn

    api = create_api(app, gradio=gradio, languages=True)
    sock = bind(host, port)
    config = uvicorn.Config(
        api,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
        server_header=False,
    )
    where = f"http://{host}:{port}"
    print(
        f"recochat API on {where} — docs {where}/docs, widget demo {where}/demo?key=KEY"
        + (
            f", Gradio chat {where}/chat/"
            if "/chat" in {getattr(r, "path", "") for r in api.routes}
            else ""
        )
        + ". Press Ctrl+C to stop.",
        flush=True,
    )
    uvicorn.Server(config).run(sockets=[sock])
