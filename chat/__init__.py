"""The conversation: what a chat turn does with a message, and the frontends
that serve it. What frontends and `eval` use is exported here (and nothing
deeper is theirs to import):

  app.py, config.py   the composition root and its settings
  session.py          one turn: guard → understand → dialogue → recall/rank → reply
  search.py           the recommender on a fresh dialogue state (no conversation)
  state.py events.py errors.py   the dialogue state, the typed events, domain errors
  tracing.py          OpenTelemetry spans of a turn's stages
  understand/  reading a message      dialogue/  state tracker, policy, acts, phrases
  reply/       copy, checks, cards    persist/   database, interactions, feedback
  learn/       `recochat train`       llm/       LLM backends behind one protocol
  frontends/   cli, doctor, web chat, HTTP API + widget, LangChain retriever
"""

from chat.app import EMPTY_CATALOG, App
from chat.config import Settings, TurnSettings, load_settings
from chat.dialogue.tracker import StateTracker
from chat.errors import USER_ERRORS, ChatError, ConfigError, DataDirInUse, InputError
from chat.events import (
    Done,
    ErrorEvent,
    Event,
    FeedbackApplied,
    ItemCard,
    ItemsShown,
    Question,
    TextDelta,
    TextReplace,
)
from chat.learn.dialogue_training import FEATURES, TREES, fold_of, train_dialogues
from chat.learn.training import TrainConfig, TrainingRefused, train
from chat.llm import LLM, ModelError, ScriptedLLM, make_llm
from chat.persist.connect import open_database
from chat.persist.database import Database
from chat.persist.datadir import DataDir
from chat.persist.feedback import FeedbackLog
from chat.persist.interactions import ImportMapping, InteractionStore
from chat.recommend import Found, query_for, ranked_cards, request_state, search, shortlist
from chat.reply.copywriter import CopyWriter
from chat.reply.explain import description, money
from chat.session import Session
from chat.state import DialogueState
from chat.understand.guard import MessageRejected, clean_message
from chat.understand.intent_model import (
    IntentGuess,
    IntentModel,
    probabilities,
    refinement_examples,
)
from chat.understand.intent_model import fit as fit_intents
from chat.understand.intent_model import load_examples as load_intent_examples
from chat.understand.language import detect
from chat.understand.learned_intent import THRESHOLDS as INTENT_THRESHOLDS
from chat.understand.refinements import THRESHOLD as REFINEMENT_THRESHOLD
from chat.understand.refinements import operation as refinement_operation
from chat.understand.text import words
from chat.understand.words import COMMON_WORDS

__all__ = [
    "EMPTY_CATALOG",
    "COMMON_WORDS",
    "FEATURES",
    "LLM",
    "TREES",
    "USER_ERRORS",
    "App",
    "ChatError",
    "ConfigError",
    "CopyWriter",
    "DataDir",
    "DataDirInUse",
    "Database",
    "DialogueState",
    "Done",
    "ErrorEvent",
    "Event",
    "FeedbackApplied",
    "FeedbackLog",
    "Found",
    "ImportMapping",
    "INTENT_THRESHOLDS",
    "IntentGuess",
    "REFINEMENT_THRESHOLD",
    "refinement_examples",
    "refinement_operation",
    "InputError",
    "IntentModel",
    "InteractionStore",
    "ItemCard",
    "ItemsShown",
    "MessageRejected",
    "ModelError",
    "Question",
    "ScriptedLLM",
    "Session",
    "Settings",
    "StateTracker",
    "TextDelta",
    "TextReplace",
    "TrainConfig",
    "TrainingRefused",
    "TurnSettings",
    "clean_message",
    "description",
    "detect",
    "fit_intents",
    "probabilities",
    "fold_of",
    "load_intent_examples",
    "load_settings",
    "open_database",
    "make_llm",
    "money",
    "query_for",
    "ranked_cards",
    "request_state",
    "search",
    "shortlist",
    "train",
    "train_dialogues",
    "words",
]
