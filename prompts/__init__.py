"""Prompt templates as data: YAML files of chat messages whose contents are
Jinja2 templates, rendered strictly (a missing variable fails loudly)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
import yaml


class PromptError(Exception):
    """A prompt file is missing, malformed, or was rendered without a variable."""


_env = jinja2.Environment(
    undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False
)


@cache
def load(name: str) -> dict[str, Any]:
    path = files("prompts") / f"{name}.yaml"
    if not path.is_file():
        available = sorted(
            p.name.removesuffix(".yaml")
            for p in files("prompts").iterdir()
            if p.name.endswith(".yaml")
        )
        raise PromptError(f"Unknown prompt '{name}'; available: {', '.join(available)}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise PromptError(f"Prompt '{name}' must be a mapping with a 'messages' list")
    return data


def render(name: str, **variables: Any) -> list[dict[str, str]]:
    """Render prompt `name` into chat messages [{"role", "content"}]."""
    return [
        {"role": msg["role"], "content": fill(name, msg["content"], **variables)}
        for msg in load(name)["messages"]
    ]


def fill(name: str, template: str, **variables: Any) -> str:
    """One template string of prompt `name` (a message, or text such as an opener)
    rendered strictly, without the space around it."""
    try:
        return _env.from_string(template).render(**variables).strip()
    except jinja2.UndefinedError as e:
        raise PromptError(
            f"Prompt '{name}' needs a variable that was not given: {e.message}"
        ) from None


def settings(name: str) -> dict[str, Any]:
    """Non-message settings of a prompt (e.g. max_tokens, stop)."""
    return {k: v for k, v in load(name).items() if k != "messages"}
