"""The HTTP frontend: `recochat serve` (FastAPI + uvicorn).

  server.py       create_api(app) and serve(): routes, errors, limits, CORS, metrics,
                  widget, demo page, Gradio chat mounted at /chat
  routes.py       native API: sessions, messages (JSON or SSE), history, feedback,
                  search, items, catalog admin
  completions.py  OpenAI-compatible /v1/chat/completions and /v1/models
  turns.py        turns in a thread pool, one session at a time, in arrival order
  context.py      what routes share, and the API-key dependency
  keys.py         API keys (hashed) and roles       limits.py   413 and 429
  errors.py       one JSON error shape              metrics.py  Prometheus
  telemetry.py    OpenTelemetry traces (off unless an exporter is named)
  schemas.py      request and response bodies       commands.py `serve`, `keys`

Importing this package is light; FastAPI loads with the modules that need it.
"""
