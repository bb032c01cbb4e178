"""Domain errors of the chat package, and the tuple every frontend catches.

Frontends turn these into exit codes (CLI) or JSON 4xx errors (API) in one
place each; anything else is a bug and is reported as such."""

from chat.llm.errors import ModelError
from prompts import PromptError
from retrieval import RetrievalError


class ChatError(Exception):
    """A problem the user can fix."""


class ConfigError(ChatError):
    """A setting is invalid."""


class DataDirInUse(ChatError):
    """Another process is writing to the same data directory."""


class InputError(ChatError):
    """A message cannot be processed as sent (empty, too long, binary)."""


USER_ERRORS = (ChatError, RetrievalError, PromptError, ModelError)
