"""The reply leads with the top card, with a real model on the default engine
(OpenVINO) over the demo catalog: code writes the opening with card 1's title, shows
it first, and the model writes on from it. (The fast packaged model, as in CI;
`recochat eval dialogues` measures the default one over the demo suites.)"""

from __future__ import annotations

import pytest
from conftest import MODEL_CACHE

from chat.events import Done, ItemsShown, TextDelta
from chat.reply.claims import lead
from chat.reply.explain import label

pytestmark = pytest.mark.e2e
MODEL = "smollm2-135m"
REQUESTS = [
    "I need a waterproof tent for two people under $150",
    "a quiet coffee grinder",
    "wireless earbuds for running",
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from chat import App, load_settings
    from retrieval import PRESETS, demo_catalog_path, load_catalog

    settings = load_settings(
        home=str(tmp_path_factory.mktemp("home")),
        cache_dir=str(MODEL_CACHE),
        llm=MODEL,
        llm_engine="auto",  # the default: OpenVINO for the packaged GGUF models
        embedder="minilm",
    )
    application = App.open(settings)
    application.store.upsert(load_catalog(demo_catalog_path(), PRESETS["shop"]).items)
    application.refresh()
    yield application
    application.close()


def test_the_reply_names_the_top_card_first_and_the_model_writes_on(app):
    assert app.llm.continues and app.llm.load().engine == "openvino"
    sources = []
    for text in REQUESTS:
        events = list(app.session().turn(text))
        cards = next(e for e in events if isinstance(e, ItemsShown)).items
        titles = [c.title for c in cards]
        done = events[-1]
        assert isinstance(done, Done) and lead(done.reply, titles) == titles[0], done.reply
        # the opening, ending with the title (and its brand when a namesake is shown), is
        # shown whole in one of the first deltas (after an acknowledgement such as
        # "Under $150."), before the model's words
        deltas = [e.text for e in events if isinstance(e, TextDelta)]
        assert any(d.endswith(label(cards[0], cards)) for d in deltas[:2]), deltas[:3]
        assert done.debug["copy"]["leads_with_top"] is True
        sources.append(done.debug["copy"]["source"])
    assert {"llm", "retry"} & set(sources), sources  # the model continued at least once
