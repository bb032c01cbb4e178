"""The composition root: the only place that reads settings and wires parts.

`App.open(settings)` takes the data-directory lock, opens the item store and
the database, and builds the recommender, tracker and copy writer; `app.session()`
starts or resumes a conversation. The LLM loads lazily on first use, so
commands that never generate (ingest, doctor) stay fast.

Scaled out (the database in PostgreSQL, the items in a Chroma server) nothing
embedded is written, so there is no lock and several workers open the same
settings. Each catalog change bumps the database's catalog version; a worker
compares it with its own at most every `catalog_poll_seconds` (on the next request
after that) and rebuilds what it derived from the catalog when it moved: an item
upserted through one worker is recalled by every worker within that delay.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chat.config import Settings
from chat.dialogue.policy import Policy, PolicyConfig
from chat.dialogue.tracker import StateTracker
from chat.errors import ChatError
from chat.llm import LLM, ScriptedLLM, Usage, make_llm
from chat.llm.base import Message
from chat.persist import pii
from chat.persist.connect import is_shared, open_database
from chat.persist.database import Database
from chat.persist.datadir import DataDir
from chat.persist.interactions import InteractionStore
from chat.reply.copycheck import CopyChecker
from chat.reply.copywriter import CopyWriter
from chat.session import Session
from chat.understand.llm_reading import LLMReader
from retrieval import CatalogMetas, Filter, ItemCache, ItemStore, make_embedder

if TYPE_CHECKING:
    from retrieval import Recommender


def _scripted_copy(messages: Sequence[Message]) -> str:
    """RECOCHAT_LLM=scripted: name the items the prompt lists ("1. Title — $9"), as a
    terse model would; catalog text reaches the reply, as it does with real models."""
    prompt = messages[-1]["content"] if messages else ""
    titles = re.findall(r"^\s*\d+\.\s+(.+?)(?:\s+—\s+\S+)?\s*$", prompt, re.M)
    return f"Here are my picks: {'; '.join(titles)}." if titles else "Here are my picks."


class _LoadTestLLM(ScriptedLLM):
    """RECOCHAT_LLM=scripted[:SECONDS]: no model, for load tests and API demos. Names the
    items the prompt lists, as a terse model would (so catalog text reaches the reply, as
    with real models), pausing SECONDS per word to stand in for generation. Keeps no
    transcript, since a server runs for long."""

    def __init__(self, seconds_per_word: float = 0.0) -> None:
        super().__init__(fn=_scripted_copy)
        self.delay = seconds_per_word

    def _pieces(
        self, messages: list[Message], max_tokens: int, stop: list[str], usage: Usage
    ) -> Iterator[str]:
        for piece in super()._pieces(messages, max_tokens, stop, usage):
            self.calls.clear()
            if self.delay:
                time.sleep(self.delay)
            yield piece


POOL_COUNT_CAP = 1000
CATALOG_COUNTER = "catalog"  # the catalog version in the database's counters
EMPTY_CATALOG = (
    "The catalog is empty. Run 'recochat ingest --demo' (or 'recochat ingest FILE') first"
)


@dataclass
class App:
    settings: Settings
    home: DataDir
    store: ItemStore
    db: Database
    llm_override: LLM | None = None

    def __post_init__(self) -> None:
        self._catalog_seen = self.db.counter(CATALOG_COUNTER)
        self._catalog_checked = time.monotonic()
        self._catalog_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, *, llm: LLM | None = None) -> App:
        pii.install_log_masking()  # before anything of the session can be logged
        home = DataDir(settings.home)
        if not cls.shares_storage(settings):
            home.acquire()
        try:
            embedder = make_embedder(settings.embedder)
            if settings.chroma_host:
                store = ItemStore.http(
                    settings.chroma_host, settings.chroma_port, embedder, settings.collection
                )
            else:
                store = ItemStore.persistent(str(home.chroma), embedder, settings.collection)
            db = open_database(settings.database_url, home.database)
        except BaseException:
            home.release()
            raise
        return cls(settings, home, store, db, llm)

    @staticmethod
    def shares_storage(settings: Settings) -> bool:
        """Everything written lives in servers (PostgreSQL, a Chroma server): several
        processes may serve the same settings at once."""
        return is_shared(settings.database_url) and bool(settings.chroma_host)

    @cached_property
    def llm(self) -> LLM:
        if self.llm_override is not None:
            return self.llm_override
        s = self.settings
        if s.llm == "scripted" or s.llm.startswith("scripted:"):  # load tests only
            return _LoadTestLLM(float(s.llm.partition(":")[2] or 0))
        if s.llm_backend == "openai":
            from chat.llm.openai_compat import OpenAICompatLLM

            key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
            return OpenAICompatLLM(
                s.openai_base_url or "",
                s.openai_model or s.llm,
                api_key=key,
                timeout=s.openai_timeout,
                continues=s.openai_continues,
            )
        if s.llm_backend == "langchain":
            from chat.llm.langchain_backend import load_chat_model

            return load_chat_model(s.langchain_model or "")
        return make_llm(
            s.llm,
            cache_dir=s.cache_dir / "models",
            threads=s.threads,
            greedy=s.greedy,
            engine=s.llm_engine,
            slots=s.llm_slots,
            wait_s=s.llm_wait,
        )

    @cached_property
    def bounded(self) -> bool:
        """Does this worker hold only what each request recalls? With the items in a
        Chroma server and at least `bounded_from_items` of them (a catalog of 1M items
        would need about 8 GB held in full); never with the embedded store."""
        s = self.settings
        return bool(s.chroma_host) and self.store.count() >= s.bounded_from_items

    @cached_property
    def item_cache(self) -> ItemCache:
        """The bounded worker's cache of fetched items (metadata and vectors)."""
        return ItemCache(self.store)

    @cached_property
    def catalog_metas(self) -> Mapping[str, dict[str, Any]]:
        """id → metadata: every item's, held, or (bounded) looked up through the item
        cache, with a fixed sample for what iterates (retrieval CatalogMetas)."""
        return CatalogMetas(self.item_cache) if self.bounded else self.store.all_metas()

    @cached_property
    def tracker(self) -> StateTracker:
        return StateTracker(self.store.facets(), self.catalog_metas)

    @cached_property
    def checker(self) -> CopyChecker:
        """The copy check over the catalog's titles, built once (its title prefixes
        and words are derived from every title), and the nouns of the kinds of thing
        the catalog sells."""
        return CopyChecker(self.tracker.titles, self.tracker.thing_nouns)

    @cached_property
    def policy(self) -> Policy:
        s, tracker = self.settings, self.tracker
        return Policy(
            tracker.facets,
            tracker.metas,
            PolicyConfig(max_questions=s.turn.max_questions, small_pool=2 * s.turn.recommend_k),
            hard=tracker.hard,
            proper=tracker.lexicon.proper,
            kind_facet=tracker.kind_facet,
            count=self._pool_count if self.bounded else None,
        )

    def _pool_count(self, flt: Filter) -> int:
        """A bounded worker's pool size: items passing the filter, counted by the store
        up to POOL_COUNT_CAP (a pool that big is "plenty" to the policy)."""
        return len(self.store.ids_matching(flt, POOL_COUNT_CAP))

    @cached_property
    def recommender(self) -> Recommender:
        """What every conversation and every catalog search (chat/recommend.py) recalls
        and ranks with: multi-channel recall, learned fusion, rerank and online
        learning, from the artifacts `recochat train` wrote (missing ones are
        warned about and skipped)."""
        from retrieval import Recommender

        learning = self.settings.learning
        if self.bounded:
            return Recommender.bounded(self.store, self.interactions, learning, self.item_cache)
        if self.settings.chroma_host:  # the server's index answers the dense stage
            learning = replace(learning, dense_from_store=True)
        return Recommender.build(self.store, self.interactions, self.home.artifacts, learning)

    @cached_property
    def interactions(self) -> InteractionStore:
        return InteractionStore(self.db)

    def warm_up(self, *, languages: bool = False) -> LLM:
        """Build what the first turn would otherwise wait for: the catalog-derived parts
        (tracker, recommender), the learned intents and list operations (the multilingual
        encoder and the classifiers fitted on their examples: 2-4 s each), the personal-data masker and the model; with `languages`,
        also the reading of messages in other languages (its model, the catalog's values,
        each language's common words: 3 s on an idle box). A missing model fails here,
        with its install hint (a ModelError). Returns the loaded model."""
        self.tracker, self.recommender  # noqa: B018 - cached on first access
        self.tracker.intent_model.warm_up()
        self.tracker.refinement_model.warm_up()
        pii.warm_up()
        if languages:
            self.tracker.foreign.warm_up()
        return self.llm.load()

    def require_catalog(self, why: str = "") -> None:
        """The one error for commands that need items: chat, web, training."""
        if self.store.count() == 0:
            raise ChatError(f"{EMPTY_CATALOG}{why}.")

    def refresh(self) -> None:
        """Forget what was derived from the catalog (after an ingest)."""
        names = ("bounded", "item_cache", "catalog_metas", "tracker", "checker", "policy")
        for name in (*names, "recommender"):
            self.__dict__.pop(name, None)

    def catalog_changed(self) -> None:
        """This process changed the catalog: rebuild here, and tell the other workers."""
        self.refresh()
        with self._catalog_lock:
            self._catalog_seen = self.db.bump(CATALOG_COUNTER)

    def artifacts_changed(self, names: Sequence[str]) -> None:
        """After `recochat train`: the artifacts' metadata goes into the database (what
        every worker serves, for `recochat doctor` and operators), and running workers
        rebuild their recommender with the new files, as after a catalog change."""
        for name in names:
            manifest = json.loads((self.home.artifacts / name / "manifest.json").read_text())
            self.db.record_artifact(
                name, manifest["kind"], manifest["sha256"], manifest.get("info", {})
            )
        self.catalog_changed()

    def catalog_check_due(self) -> bool:
        """Cheap: whether `sync_catalog` would ask the database now."""
        return time.monotonic() - self._catalog_checked >= self.settings.catalog_poll_seconds

    def sync_catalog(self) -> bool:
        """Follow another process's catalog change (polled at most every
        `catalog_poll_seconds`). True when this call rebuilt."""
        now = time.monotonic()
        if now - self._catalog_checked < self.settings.catalog_poll_seconds:
            return False
        with self._catalog_lock:
            self._catalog_checked = now
            version = self.db.counter(CATALOG_COUNTER)
            if version == self._catalog_seen:
                return False
            self._catalog_seen = version
            self.store.reload()
            self.refresh()
        return True

    def session(self, session_id: str | None = None, user_id: str | None = None) -> Session:
        if session_id is None or not self.db.session_exists(session_id):
            session_id = self.db.create_session(user_id, session_id)
        s = self.settings
        return Session(
            session_id,
            store=self.store,
            recommender=self.recommender,
            tracker=self.tracker,
            writer=CopyWriter(self.llm, max_tokens=s.max_reply_tokens, checker=self.checker),
            db=self.db,
            config=s.turn,
            policy=self.policy,
            user_id=user_id or self.interactions.session_user(session_id),
            llm_reader=LLMReader(self.llm) if s.turn.reading == "llm" and self.llm.reads else None,
        )

    def close(self) -> None:
        self.db.close()
        self.home.release()
