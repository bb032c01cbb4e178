"""The simulated seeker of `recochat eval simulate`: the leakage guard, the agenda,
the figures, with a fake bot; and one run against the real Session over the small
movie catalog (hash embedder, no model), so the agenda's words are the ones the
tracker reads."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from chat import Done, ItemCard, ItemsShown, Question
from eval.simulate.agenda import REJECTIONS, AgendaSeeker, BotReply
from eval.simulate.leakage import LeakGuard, aliases
from eval.simulate.report import summarize
from eval.simulate.runner import observe, simulate
from eval.simulate.targets import Target, facts_of, pick_targets

# --- the leakage guard ------------------------------------------------------------------


@pytest.mark.parametrize(
    "title, utterance",
    [
        ("The Shining (1980)", "I loved the shining!"),
        ("The Shining (1980)", "a knight in SHINING armour"),  # without its article
        ("Heat (1995)", "the heat is on, something like that"),
        ("Schindler's List (1993)", "like schindlers list"),  # punctuation
        ("Amélie (2001)", "amelie was lovely"),  # accents
        ("Fast & Furious (2009)", "fast and furious cars"),
        ("Star Wars: Episode IV - A New Hope (1977)", "a space film like star wars"),
        ("Matrix, The (1999)", "the matrix kind of thing"),  # MovieLens-style article
        ("It (2017)", "a clown film, it was scary"),
    ],
)
def test_the_guard_finds_the_title_and_its_aliases(title, utterance):
    assert LeakGuard(title).leak(utterance) is not None


@pytest.mark.parametrize(
    "title, utterance",
    [
        ("Heat (1995)", "a film with a heater in the plot"),  # a word, not part of one
        ("Schindler's List (1993)", "something about Schindler"),  # part of a name
        ("The Shining (1980)", "a horror movie from the 1980s"),
        ("It (2017)", "items, italics and bits"),
        ("Star Wars: Episode IV - A New Hope (1977)", "a war film about stars"),
    ],
)
def test_the_guard_passes_what_does_not_name_the_target(title, utterance):
    assert LeakGuard(title).leak(utterance) is None


def test_other_names_from_the_catalog_count_as_the_title():
    guard = LeakGuard("Léon: The Professional (1994)", ["Leon", "The Professional"])
    assert guard.leak("a hitman film like Leon") == "leon"
    assert guard.leak("something like the professional") is not None
    assert ("leon",) in aliases("Léon: The Professional (1994)")


# --- the agenda -------------------------------------------------------------------------

SHINING = Target(
    "m08",
    "The Shining (1980)",
    {
        "genre": ["horror", "drama"],
        "star": ["Jack Nicholson"],
        "director": ["Stanley Kubrick"],
        "era": ["1980s"],
        "plot": ["writer", "isolated", "hotel", "winter"],
    },
)


def test_the_opening_states_a_genre_and_never_the_title():
    for seed in range(20):
        draft = AgendaSeeker(SHINING, seed).draft(None)
        assert draft is not None and "horror" in draft.text
        assert LeakGuard(SHINING.title).leak(draft.text) is None
        assert ("genre", "horror") in draft.facts


def test_a_question_is_answered_with_the_option_that_fits_the_target():
    seeker = AgendaSeeker(SHINING, 0)
    asked = BotReply(act="ask", facet="year", options=["the 1970s", "the 1980s", "the 1990s"])
    draft = seeker.draft(asked)
    assert "the 1980s" in draft.text and draft.facts == [("era", "1980s")]
    unknown = seeker.draft(BotReply(act="ask", facet="language", options=["english", "french"]))
    assert unknown.facts == [] and "1980s" not in unknown.text


def test_a_list_without_the_target_is_rejected_with_one_more_fact_each_turn():
    seeker = AgendaSeeker(SHINING, 1)
    seeker.sent(seeker.draft(None))
    told = set(seeker.told)
    for _ in range(3):
        draft = seeker.draft(BotReply(act="recommend", shown=["x1", "x2"]))
        assert draft.kind == "reject" and len(draft.facts) == 1
        assert draft.facts[0] not in told
        seeker.sent(draft)
        told |= set(draft.facts)


def test_a_leaked_word_is_left_out_of_the_next_draft():
    rocky = Target("r1", "Rocky (1976)", {"plot": ["rocky", "balboa", "boxer"], "era": ["1970s"]})
    seeker = AgendaSeeker(rocky, 0)
    first = seeker.draft(None)
    assert LeakGuard(rocky.title).leak(first.text) == "rocky"
    again = seeker.draft(None, frozenset({"rocky"}))
    assert "rocky" not in again.text.lower() and again.facts == [("era", "1970s")]


def test_facts_come_from_the_attributes_and_plot_words_skip_common_ones():
    facts = facts_of(
        {
            "title": "Alien (1979)",
            "year": 1979,
            "genres": ["horror", "sci-fi"],
            "plot": "The crew of a cargo spaceship meets a deadly creature.",
            "director": ["Ridley Scott"],
            "stars": ["Sigourney Weaver", "Tom Skerritt", "John Hurt"],
        },
        frozenset({"meets"}),
    )
    assert facts["era"] == ["1970s"] and facts["star"] == ["Sigourney Weaver", "Tom Skerritt"]
    assert facts["plot"] == ["crew", "cargo", "spaceship", "deadly", "creature"]
    assert "title" not in facts


def test_targets_are_the_gold_items_found_in_the_catalog_drawn_with_a_seed(tmp_path):
    turns = tmp_path / "turns.jsonl"
    turns.write_text(
        '{"rec": ["Alien (1979)", "Nowhere (2000)"]}\n{"rec": ["alien (1979)", "Heat (1995)"]}\n'
    )
    metas = {
        "a": {"title": "Alien (1979)", "genres": ["horror"]},
        "h": {"title": "Heat (1995)", "genres": ["crime"]},
    }
    picked = pick_targets(turns, metas, 5, seed=0)
    assert sorted(t.id for t in picked) == ["a", "h"]
    assert [t.id for t in pick_targets(turns, metas, 1, seed=3)] == [
        t.id for t in pick_targets(turns, metas, 1, seed=3)
    ]
    metas["h"]["year"] = 1995
    no_genres = pick_targets(turns, metas, 1, seed=3, kinds=("era",))
    assert [t.id for t in no_genres] == [t.id for t in pick_targets(turns, metas, 1, seed=3)]
    assert all(set(t.facts) <= {"era"} for t in no_genres)


# --- dialogues with a fake bot ----------------------------------------------------------


class FakeSession:
    """Asks about the year first, then lists the target once its star is named."""

    def __init__(self, target_id: str) -> None:
        self.target_id, self.heard = target_id, []

    def turn(self, text):
        self.heard.append(text)
        if len(self.heard) == 1:
            yield Question("Which decade?", "year", ["the 1970s", "the 1980s"])
            yield Done("s", "Which decade?", {}, {"act": "ask"})
            return
        ids = ["x1", self.target_id] if "Nicholson" in text else ["x1", "x2"]
        yield ItemsShown([ItemCard(i, i, "", [], 0.0) for i in ids])
        yield Done("s", "", {}, {"act": "recommend"})


class FakeApp:
    def __init__(self, target_id: str) -> None:
        self.sessions: list[FakeSession] = []
        self.target_id = target_id

    def session(self):
        self.sessions.append(FakeSession(self.target_id))
        return self.sessions[-1]


def test_a_dialogue_ends_when_the_target_is_listed_and_counts_its_turn_and_place():
    app = FakeApp("m08")
    record = simulate(app, SHINING, seed=0, max_turns=5)
    heard = app.sessions[0].heard
    assert heard[1].startswith("The 1980s") or "1980s" in heard[1]
    assert "Nicholson" in heard[-1] and len(heard) == record["hit_turn"] <= 5
    assert record["hit_rank"] == 2 and not record["dropped"]
    assert all(LeakGuard(SHINING.title).leak(text) is None for text in heard)


def test_a_dialogue_that_can_only_leak_is_dropped_and_never_a_success():
    # every fact of this target names it: no draft gets past the guard
    target = Target("m99", "Horror (2001)", {"genre": ["horror"], "plot": ["horror"]})
    app = FakeApp("m99")
    record = simulate(app, target, seed=0, tries=3)
    assert record["dropped"] and record["hit_turn"] is None and record["leaks"]
    assert app.sessions[0].heard == []  # the bot never saw a leaking utterance
    summary = summarize([record], _setup())
    assert summary["final"]["success@10"] == 0.0
    assert summary["leakage"]["dropped"] == 1 and summary["leakage"]["rate"] == 1.0


def test_success_at_k_counts_the_turn_and_place_of_each_hit():
    records = [
        _record(hit_turn=1, hit_rank=1),
        _record(hit_turn=2, hit_rank=5),
        _record(hit_turn=None, hit_rank=None),
        _record(hit_turn=4, hit_rank=3),
    ]
    by_turn = summarize(records, _setup())["by_turn"]
    assert [row["success@1"] for row in by_turn] == [0.25] * 5
    assert [row["success@10"] for row in by_turn] == [0.25, 0.5, 0.5, 0.75, 0.75]
    assert by_turn[3]["success@3"] == 0.5


def _record(hit_turn, hit_rank):
    turns = [
        {
            "seeker": "a horror movie",
            "question": None,
            "shown": 10,
            "told": [],
            "state": {},
            "act": "recommend",
        }
    ] * (hit_turn or 5)
    return {
        "target": SHINING.to_dict(),
        "turns": turns,
        "leaks": [],
        "dropped": False,
        "hit_turn": hit_turn,
        "hit_rank": hit_rank,
    }


def _setup():
    return {"catalog": "redial", "phrasing": "agenda", "seed": 0, "max_turns": 5, "list": 10}


# --- the real Session over the small movie catalog -------------------------------------


def test_the_real_tracker_reads_the_agenda_and_moves_past_rejected_lists(home):
    from chat import COMMON_WORDS, App, ScriptedLLM, TurnSettings, load_settings
    from retrieval import PRESETS, load_catalog

    settings = load_settings(embedder="hash", turn=TurnSettings(recommend_k=3, reading="rules"))
    app = App.open(settings, llm=ScriptedLLM())
    try:
        app.store.upsert(load_catalog(FIXTURES / "movies_small.jsonl", PRESETS["redial"]).items)
        app.refresh()
        metas = app.store.all_metas()
        found = 0
        for item in ("m08", "m19", "m25", "m30", "m13", "m03"):
            target = Target(item, metas[item]["title"], facts_of(metas[item], COMMON_WORDS))
            record = simulate(app, target, seed=0, max_turns=5)
            first = record["turns"][0]
            assert first["state"]["equals"]["genres"]  # the opening's genre is read
            for turn in record["turns"]:
                assert turn["act"] in ("recommend", "ask", "no_match"), turn
            found += record["hit_turn"] is not None
        assert found >= 4
        for rejection in REJECTIONS:  # every rejection of the bank moves past the list
            session = app.session()
            first = observe(list(session.turn("Just show me some horror movies.")))
            then = observe(list(session.turn(f"{rejection} Something with Jack Nicholson.")))
            assert first.shown and then.act == "recommend", rejection
            assert set(first.shown) <= set(session.state.passed), rejection
            assert not set(first.shown) & set(then.shown), rejection
    finally:
        app.close()


# --- the LLM-phrased seeker -------------------------------------------------------------


def test_the_llm_rewording_goes_through_the_guard_like_any_utterance():
    from chat import ScriptedLLM
    from eval.simulate.phrasing import LLMPhraser

    # the model "recognises" the plot and names the movie once, then words it plainly;
    # then it writes nothing, then it answers as the assistant would (a made-up pick)
    llm = ScriptedLLM(
        [
            "you mean the shining?",
            "any horror or drama movies from the 80s?",
            "",
            "Sure! Try Psycho by Alfred Hitchcock.",
            *["ok"] * 10,
        ]
    )
    phraser = LLMPhraser(llm, seed=0)
    app = FakeApp("m08")
    record = simulate(app, SHINING, seed=0, max_turns=3, phraser=phraser)
    heard = app.sessions[0].heard
    assert record["leaks"][0]["name"] == "the shining" and record["leaks"][0]["turn"] == 1
    assert heard[0] == "any horror or drama movies from the 80s?"
    assert record["rewording"]["empty"] == 1 and heard[1] == record["turns"][1]["seeker"] != ""
    assert record["rewording"]["unfaithful"] >= 1 and "Hitchcock" not in " ".join(heard)
    prompt = llm.calls[0]
    assert prompt[-1]["content"] == AgendaSeeker(SHINING, 0).draft(None).text
    assert "shining" not in " ".join(m["content"] for m in prompt).lower()


# --- the command's bad input ----------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--turns", "/nonexistent/turns.jsonl"], "No turns file at /nonexistent/turns.jsonl"),
        (["--targets", "0"], "--targets must be at least 1."),
        (["--max-turns", "0"], "--max-turns must be at least 1."),
        (["--facts", "genre,title"], "--facts takes some of genre,star"),
        (["--catalog", "demo"], "give one with --turns FILE"),
    ],
)
def test_bad_arguments_get_one_line_that_says_what_to_do(home, capsys, argv, message):
    from chat.frontends.cli import main

    assert main(["eval", "simulate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "original, reworded, facts, kept",
    [
        ("With Tom Hanks.", "hey, any movie with tom hanks?", [("star", "Tom Hanks")], True),
        ("From the 1990s.", "something from the 90s?", [("era", "1990s")], True),
        ("From the 1990s.", "something old?", [("era", "1990s")], False),
        ("The plot involves a, b and pirates.", "one with pirates", [("plot", "pirates x")], True),
        ("A comedy movie.", "a funny one?", [("genre", "comedy")], False),
        ("None of these.", "None of these. One directed by Ridley Scott.", [], False),
        ("With Tom Hanks.", "with tom hanks, one where pirates look for treasure?", [], False),
        ("With Tom Hanks.", "tom hanks, famous in the 1990s", [("star", "Tom Hanks")], False),
    ],
)
def test_a_rewording_must_keep_the_facts_and_add_no_name(original, reworded, facts, kept):
    from eval.simulate.phrasing import faithful

    assert faithful(original, reworded, facts) is kept
