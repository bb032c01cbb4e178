import pytest

from chat.app import App
from chat.config import load_settings
from chat.events import Done, ErrorEvent, ItemsShown, TextDelta
from chat.llm import ScriptedLLM


def run(session, text):
    return list(session.turn(text))


def test_a_turn_yields_items_then_streamed_text_then_done(app):
    events = run(app.session(), "wireless earbuds for running under $50")
    kinds = [type(e) for e in events]
    assert kinds[0] is ItemsShown and kinds[-1] is Done
    assert all(k is TextDelta for k in kinds[1:-1]) and len(kinds) > 3
    cards = events[0].items
    assert cards[0].id == "a7"
    assert all(c.price <= 50 for c in cards)
    assert "budget" in cards[0].explanation
    done = events[-1]
    assert done.reply == "".join(e.text for e in events if isinstance(e, TextDelta)).strip()
    assert {"state", "recall", "rank", "llm_first_token", "llm_total", "total"} <= set(done.timings)


def test_prompt_holds_only_the_chosen_items(app):
    llm = app.llm
    session = app.session()
    events = run(session, "a dinosaur toy")
    shown = {c.title for c in events[0].items}
    prompt = "\n".join(m["content"] for m in llm.calls[-1])
    catalog_titles = {m["title"] for m in app.store.all_metas().values()}
    assert shown and all(t in prompt for t in shown)
    assert not any(t in prompt for t in catalog_titles - shown)


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "empty_message"),
        ("   \n", "empty_message"),
        ("x" * 2001, "message_too_long"),
        ("ab\x00\x00cd", "binary_message"),
        ("\ud800", "invalid_encoding"),
    ],
)
def test_bad_messages_get_a_clear_error_and_change_nothing(app, text, code):
    session = app.session()
    run(session, "toys please")
    before = (session.state, app.db.history(session.id))
    events = run(session, text)
    assert len(events) == 1 and isinstance(events[0], ErrorEvent) and events[0].code == code
    assert events[0].message.endswith(".")
    assert (session.state, app.db.history(session.id)) == before


def test_nothing_matches_gives_a_template_reply_without_calling_the_llm(app):
    calls = len(app.llm.calls)
    events = run(app.session(), "toys under $1")
    assert not any(isinstance(e, ItemsShown) for e in events)
    assert "could not find" in events[-1].reply
    assert len(app.llm.calls) == calls


def test_a_failing_llm_falls_back_to_template_copy(app):
    def boom(messages):
        raise RuntimeError("backend down")

    app.llm_override = ScriptedLLM(fn=boom)
    app.__dict__.pop("llm", None)
    events = run(app.session(), "a tent for camping")
    assert events[-1].reply.startswith("Here is what I would pick")
    assert events[0].items[0].title in events[-1].reply


def test_sessions_survive_a_restart(app, home):
    session = app.session()
    run(session, "electronics under $60")
    sid = session.id
    app.close()
    reopened = App.open(load_settings(embedder="hash"), llm=ScriptedLLM())
    try:
        resumed = reopened.session(sid)
        assert resumed.state.equals == {"category": ["electronics"]}
        assert [m.role for m in reopened.db.history(sid)] == ["user", "assistant"]
        events = run(resumed, "something more expensive, over $100")
        assert all(c.category == "electronics" and c.price >= 100 for c in events[0].items)
    finally:
        reopened.close()
        app.home.acquire()  # the fixture closes it again
