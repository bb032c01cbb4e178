"""The composition root: the only place that reads settings and wires parts.

`App.open(settings)` takes the data-directory lock, opens the item store and
the database, and builds the ranker, tracker and copy writer; `app.session()`
starts or resumes a conversation. The LLM loads lazily on first use, so
commands that never generate (ingest, doctor) stay fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

from retrieval import ItemStore, Ranker, RankWeights
from retrieval.embedders import make_embedder

from .config import Settings
from .copywriter import CopyWriter
from .home import DataDir
from .llm import LLM, make_llm
from .session import Session, TurnConfig
from .state import StateTracker
from .storage import Database

# Nothing we run may reach for the network: models come from installed packages.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@dataclass
class App:
    settings: Settings
    home: DataDir
    store: ItemStore
    db: Database
    llm_override: LLM | None = None

    @classmethod
    def open(cls, settings: Settings, *, llm: LLM | None = None) -> App:
        home = DataDir(settings.home).acquire()
        try:
            embedder = make_embedder(settings.embedder)
            if settings.chroma_host:
                store = ItemStore.http(
                    settings.chroma_host, settings.chroma_port, embedder, settings.collection
                )
            else:
                store = ItemStore.persistent(str(home.chroma), embedder, settings.collection)
            db = Database(home.database)
        except BaseException:
            home.release()
            raise
        return cls(settings, home, store, db, llm)

    @cached_property
    def llm(self) -> LLM:
        if self.llm_override is not None:
            return self.llm_override
        s = self.settings
        return make_llm(s.llm, cache_dir=s.cache_dir / "models", threads=s.threads, greedy=s.greedy)

    @cached_property
    def ranker(self) -> Ranker:
        return Ranker(RankWeights(**self.settings.weights.model_dump()), self.store.facets())

    @cached_property
    def tracker(self) -> StateTracker:
        return StateTracker(self.store.facets())

    def refresh(self) -> None:
        """Forget what was derived from the catalog (after an ingest)."""
        for name in ("ranker", "tracker"):
            self.__dict__.pop(name, None)

    def session(self, session_id: str | None = None, user_id: str | None = None) -> Session:
        if session_id is None or not self.db.session_exists(session_id):
            session_id = self.db.create_session(user_id, session_id)
        s = self.settings
        return Session(
            session_id,
            store=self.store,
            ranker=self.ranker,
            tracker=self.tracker,
            writer=CopyWriter(self.llm, max_tokens=s.max_reply_tokens),
            db=self.db,
            config=TurnConfig(s.recall_k, s.recommend_k, s.max_message_chars),
        )

    def close(self) -> None:
        self.db.close()
        self.home.release()
