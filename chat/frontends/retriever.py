"""recochat's recommender as a LangChain retriever.

It runs the catalog search of chat/recommend.py, the same as the API's /v1/search:
the chat's recommender (recall → fusion → rerank) on a fresh dialogue state. The
retriever reads constraints from the query the way a first chat turn would (the
state tracker turns "tents under $150" into a price filter), so in a chain

    retriever = RecochatRetriever.from_app(app, k=5)
    docs = retriever.invoke("a waterproof tent under $150")

each Document is an item: its title and description as page_content, and its
card (id, price, rating, score, explanation, reasons) as metadata.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from chat import DialogueState, description, request_state, search

if TYPE_CHECKING:
    from chat import App


class RecochatRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    recommender: Any  # retrieval.ranking.serving.Recommender
    tracker: Any = None  # the app's state tracker; None searches the text as given
    k: int = 3
    shortlist_k: int = 50

    @classmethod
    def from_app(cls, app: App, **kwargs: Any) -> RecochatRetriever:
        return cls(
            recommender=app.recommender,
            tracker=app.tracker,
            **{
                "k": app.settings.turn.recommend_k,
                "shortlist_k": app.settings.turn.shortlist_k,
                **kwargs,
            },
        )

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        if self.tracker is not None:
            state = self.tracker.update(DialogueState(), query)
        else:
            state = request_state(query)
        found = search(self.recommender, state, self.k, limit=self.shortlist_k)
        docs = []
        for item, c in zip(found.items, found.cards, strict=True):
            body = description(item.meta, limit=600)
            docs.append(
                Document(
                    id=c.id,
                    page_content=f"{c.title}. {body}" if body else c.title,
                    metadata={k: v for k, v in asdict(c).items() if v is not None},
                )
            )
        return docs
