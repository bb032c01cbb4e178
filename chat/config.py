"""Settings, read once at the edge (the composition root) and passed down.

Sources, strongest first: keyword overrides, environment variables prefixed
`RECOCHAT_` (e.g. RECOCHAT_LLM=smollm2-135m), then a TOML file named by
RECOCHAT_CONFIG (default: config.toml in the data directory).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from chat.errors import ConfigError
from retrieval import LearningConfig

OtelExporter = Literal["console", "otlp", "none"]


class TurnSettings(BaseModel):
    """One chat turn (chat/session.py): RECOCHAT_TURN__RECOMMEND_K …"""

    model_config = ConfigDict(extra="forbid")

    shortlist_k: int = 50  # fused candidates the policy looks at and the rerank picks from
    recommend_k: int = 3  # items shown per recommendation
    max_message_chars: int = 2000
    max_questions: int = 2  # questions the bot may ask before its first recommendation
    # "llm": the LLM reads a message when the rules are unsure (chat/understand/llm_reading.py);
    # "rules": the rule-based reading alone (no model call before recall)
    reading: Literal["llm", "rules"] = "llm"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RECOCHAT_", env_nested_delimiter="__", extra="forbid"
    )

    home: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("recochat")))
    cache_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir("recochat")))
    llm: str = "qwen2.5-coder-0.5b"
    llm_engine: Literal["auto", "openvino", "transformers"] = "auto"  # chat/llm/engines.py
    greedy: bool = True
    threads: int | None = None
    max_reply_tokens: int = 120
    embedder: str = "minilm"
    collection: str = "items"
    chroma_host: str | None = None  # set to use a Chroma server instead of the embedded store
    chroma_port: int = 8000
    # From this many items in a Chroma server a worker holds only what each request
    # recalls (retrieval/items/remote.py, retrieval/ranking/bounded.py), not the catalog;
    # 0: always with a server. The embedded store always holds the catalog in memory.
    bounded_from_items: int = Field(default=100_000, ge=0)
    # Scale-out (several `recochat serve` workers): sessions, events and keys in PostgreSQL
    # (postgresql://user@host:port/db; unset: SQLite in the data directory), rate limits
    # and session locks in Redis (redis://host:port/0; unset: in the database / in memory)
    database_url: str | None = None
    redis_url: str | None = None
    catalog_poll_seconds: float = 2.0  # how often a worker checks for another's catalog change
    host: str = "127.0.0.1"
    port: int = 7860  # `recochat web`
    serve_port: int = 8080  # `recochat serve` (8000 is a local Chroma server's)
    turn: TurnSettings = Field(default_factory=TurnSettings)
    # The learning recommender (retrieval/ranking/serving.py): RECOCHAT_LEARNING__EXPLORATION,
    # RECOCHAT_LEARNING__RERANK__DIVERSITY …; its fusion_weights are the ranking weights of
    # chats and searches alike, over the learned or default fusion (retrieval/ranking/fusion.py
    # DEFAULT_WEIGHTS), e.g. [learning.fusion_weights] semantic = 0.7 in config.toml.
    learning: LearningConfig = Field(default_factory=LearningConfig)

    # --- LLM backend: local transformers, any OpenAI-compatible server, or LangChain ---
    # (RECOCHAT_LLM=scripted is a dev/load-test fake that writes no real copy.)
    llm_backend: Literal["local", "openai", "langchain"] = "local"
    llm_slots: int = Field(default=4, ge=1)  # generations at once on the OpenVINO engine
    llm_wait: float = Field(default=8.0, gt=0)  # seconds a turn waits for a slot
    openai_base_url: str | None = None  # e.g. http://127.0.0.1:8000/v1 (vLLM, TGI, llama.cpp)
    openai_model: str | None = None  # default: the `llm` setting
    openai_api_key: SecretStr | None = None
    openai_timeout: float = 120.0
    # the server continues a reply begun by code (vLLM, llama.cpp's server, recochat)
    openai_continues: bool = False
    langchain_model: str | None = None  # "package.module:name": a chat model or a factory

    # --- HTTP API (`recochat serve`) ---
    workers: int = 1
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)  # widget pages
    rate_limit: str = "60/minute"  # per API key, `limits` notation: "10/second;500/hour"
    max_request_bytes: int = 65_536
    max_ingest_bytes: int = 50_000_000  # admin catalog upload
    admin_key: SecretStr | None = None
    # Turns of different sessions that run at once (recall, ranking, cards); their
    # generations share the model's `llm_slots`, and a turn that waits `llm_wait`
    # seconds for a slot answers with a template reply instead (chat/llm/slots.py).
    turn_threads: int = 16
    # the Gradio chat at /chat on the API server: off unless asked for, since it runs model
    # turns with no API key and no rate limit (a private network's tool, not a shop's page)
    serve_gradio: bool = False
    # traces per turn stage (chat/frontends/api/telemetry.py): "console" or "otlp"; off when
    # unset, unless the standard OTEL_TRACES_EXPORTER or an OTLP endpoint is set
    otel_exporter: OtelExporter | None = Field(default_factory=lambda: _standard_otel_exporter())
    # A person to hand the conversation to, offered by the widget: a contact page, an
    # e-mail address, and/or a webhook that receives the conversation (http(s) only).
    handoff_url: str | None = None
    handoff_email: str | None = None
    handoff_webhook: str | None = None

    @field_validator("handoff_url", "handoff_webhook")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        parts = urlsplit(value or "")
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError("must be an http(s) URL, e.g. https://shop.example/contact")
        return value or None

    @field_validator("handoff_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(
            r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:]+", value
        ):
            raise ValueError("must be an e-mail address, e.g. help@shop.example")
        return value or None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """RECOCHAT_CORS_ORIGINS="https://a.example,https://b.example" or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [v.strip() for v in text.split(",") if v.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def _standard_otel_exporter() -> OtelExporter | None:
    """The trace exporter the standard OpenTelemetry variables ask for, if any."""
    named = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    for known in get_args(OtelExporter):
        if named == known:
            return known
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return "otlp" if any(os.environ.get(k) for k in endpoints) else None


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from overrides, the environment and the TOML file."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    home = Path(
        overrides.get("home")
        or os.environ.get("RECOCHAT_HOME")
        or platformdirs.user_data_dir("recochat")
    )
    toml = Path(os.environ.get("RECOCHAT_CONFIG") or home / "config.toml")
    if "RECOCHAT_CONFIG" in os.environ and not toml.is_file():
        raise ConfigError(f"RECOCHAT_CONFIG names {toml}, which does not exist.")

    old_env = sorted(k for k in os.environ if k.upper().startswith("RECOCHAT_WEIGHTS"))
    if old_env:
        raise ConfigError(_moved_weights(f"{old_env[0]} is set"))

    class _Settings(Settings):
        model_config = SettingsConfigDict(
            **{**Settings.model_config, "toml_file": toml if toml.is_file() else None}
        )

    try:
        return _Settings(**overrides)
    except ValidationError as e:
        if any(err["loc"][:1] == ("weights",) for err in e.errors()):
            raise ConfigError(_moved_weights(f"{toml} has a [weights] table")) from None
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()
        )
        raise ConfigError(
            f"Invalid settings ({problems}). Check RECOCHAT_* variables and {toml}."
        ) from None
    except SettingsError as e:  # e.g. a RECOCHAT_* variable that should hold JSON does not
        raise ConfigError(f"Invalid settings ({e}). Check RECOCHAT_* variables.") from None


def _moved_weights(where: str) -> str:
    """The old `weights` settings (the retired baseline ranker's) and where they went."""
    return (
        f"{where}, but the ranking weights are now the fusion weights of the recommender: "
        "set them as [learning.fusion_weights] in config.toml (semantic = 0.6 …) or "
        "RECOCHAT_LEARNING__FUSION_WEIGHTS__SEMANTIC=0.6; the signal names are those of "
        "retrieval/ranking/fusion.py DEFAULT_WEIGHTS."
    )
