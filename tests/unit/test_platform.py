"""Data directory lock, settings, database migrations, prompts, import rules."""

import subprocess
import sys
from pathlib import Path

import pytest

import prompts
from chat.config import load_settings
from chat.errors import ConfigError, DataDirInUse
from chat.persist.database import MIGRATIONS
from chat.persist.datadir import DataDir
from chat.persist.sqlite import SqliteDatabase

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_writer_process_is_refused(tmp_path):
    held = DataDir(tmp_path).acquire()  # noqa: F841 - the lock lives as long as this object
    code = f"from chat.persist.datadir import DataDir; DataDir({str(tmp_path)!r}).acquire()"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "is in use by process" in proc.stderr and "RECOCHAT_HOME" in proc.stderr


def test_the_lock_is_refused_in_process_too_and_released(tmp_path):
    first = DataDir(tmp_path).acquire()
    with pytest.raises(DataDirInUse):
        DataDir(tmp_path).acquire()
    first.release()
    DataDir(tmp_path).acquire().release()


def test_settings_env_beats_toml_and_overrides_beat_env(home, monkeypatch):
    home.mkdir()
    (home / "config.toml").write_text(
        'llm = "from-toml"\n[turn]\nrecommend_k = 5\n[learning.fusion_weights]\nsemantic = 0.9\n'
    )
    settings = load_settings()
    assert settings.llm == "from-toml" and settings.learning.fusion_weights == {"semantic": 0.9}
    monkeypatch.setenv("RECOCHAT_LLM", "from-env")
    assert load_settings().llm == "from-env" and load_settings().turn.recommend_k == 5
    assert load_settings(llm="explicit").llm == "explicit"


def test_invalid_settings_say_where_to_look(home, monkeypatch):
    monkeypatch.setenv("RECOCHAT_TURN__SHORTLIST_K", "many")
    with pytest.raises(ConfigError, match="shortlist_k.*RECOCHAT_"):
        load_settings()


def test_database_migrates_and_refuses_a_newer_schema(tmp_path):
    db = SqliteDatabase(tmp_path / "r.sqlite3")
    assert db.schema_version == len(MIGRATIONS)
    db._conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(Exception, match="newer recochat"):
        SqliteDatabase(tmp_path / "r.sqlite3")


def test_prompts_render_strictly():
    msgs = prompts.render(
        "recommend",
        request="r",
        items=[{"title": "T", "price": None, "facts": "f", "reasons": "w"}],
        language="en",
    )
    # the system message, a worked example (user, assistant), then the real request
    assert msgs[0]["role"] == "system" and msgs[-1]["role"] == "user"
    assert "1. T" in msgs[-1]["content"]
    with pytest.raises(prompts.PromptError, match="needs a variable"):
        prompts.render("recommend", request="r", items=[])
    with pytest.raises(prompts.PromptError, match="available: .*recommend"):
        prompts.render("nope")


def _module_graph():
    """Every import between the project's modules, lazy and relative ones included."""
    import grimp

    return grimp.build_graph(
        "chat", "retrieval", "prompts", "eval", include_external_packages=False, cache_dir=None
    )


def _cycles(graph) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), largest first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.find_modules_directly_imported_by(node):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(out, key=len, reverse=True)


def test_no_import_cycles_between_modules():
    # Packages count too: a package's __init__ re-exports its modules, so a module
    # that imports its own package back (`from retrieval import …` inside retrieval)
    # closes a cycle through that __init__, lazy or not.
    assert _cycles(_module_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    graph = _module_graph()
    graph.add_import(importer="chat.state", imported="chat.session")  # session imports state
    assert any({"chat.session", "chat.state"} <= set(group) for group in _cycles(graph))


def test_the_cycle_check_finds_a_cycle_through_a_package():
    graph = _module_graph()
    # retrieval/__init__.py re-exports the catalog, so the catalog may not import it
    graph.add_import(importer="retrieval.items.catalog", imported="retrieval")
    assert any({"retrieval", "retrieval.items.catalog"} <= set(g) for g in _cycles(graph))


def test_core_modules_never_import_a_frontend_or_eval():
    graph = _module_graph()
    core = {m for m in graph.modules if m.startswith(("chat", "retrieval", "prompts"))}
    core -= {m for m in core if m == "chat.frontends" or m.startswith("chat.frontends.")}
    for module in sorted(core):
        imported = graph.find_modules_directly_imported_by(module)
        bad = {m for m in imported if m.startswith(("chat.frontends", "eval"))}
        assert not bad, f"{module} imports {bad}"


def test_import_chat_stays_light():
    code = "import sys, chat.app, chat.session; print(any(m in sys.modules for m in ('torch', 'gradio', 'fastapi')))"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )


def test_trained_artifacts_are_recorded_and_other_workers_follow_changes(app):
    import numpy as np

    from chat.persist.sqlite import SqliteDatabase
    from retrieval.models.artifacts import Artifact, save_artifact

    app.settings.catalog_poll_seconds = 0.0
    assert app.sync_catalog() is False  # nothing changed yet
    save_artifact(app.home.artifacts, Artifact("cf", "ease", ["a1"], {"w": np.zeros(1)}, {"n": 2}))
    before = app.db.counter("catalog")
    app.artifacts_changed(["cf"])
    got = app.db.artifacts()["cf"]
    assert got["kind"] == "ease" and got["info"] == {"n": 2} and len(got["sha256"]) == 64
    assert app.db.counter("catalog") == before + 1
    assert app.sync_catalog() is False  # its own change: already rebuilt
    other_worker = SqliteDatabase(app.home.database)
    other_worker.bump("catalog")
    other_worker.close()
    recommender = app.recommender
    assert app.sync_catalog() is True and app.recommender is not recommender
