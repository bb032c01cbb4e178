"""Data directory lock, settings, database migrations, prompts, import rules."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import prompts
from chat.config import load_settings
from chat.errors import ConfigError, DataDirInUse
from chat.persist.database import MIGRATIONS, Database
from chat.persist.datadir import DataDir

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
    db = Database(tmp_path / "r.sqlite3")
    assert db.schema_version == len(MIGRATIONS)
    db._conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(Exception, match="newer recochat"):
        Database(tmp_path / "r.sqlite3")


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


def _imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {(a.name.split(".")[0], path.name) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add((node.module.split(".")[0], path.name))
    return found


def test_import_direction():
    project = {"chat", "retrieval", "prompts", "eval"}
    for package, allowed in {
        "prompts": set(),
        "retrieval": set(),
        "chat": {"prompts", "retrieval"},
        "eval": {"chat", "retrieval", "prompts"},
    }.items():
        bad = {(m, f) for m, f in _imports(package) if m in project - {package} - allowed}
        assert not bad, f"{package} must not import {bad}"
    frontends = {"cli.py", "web.py", "api.py"}
    for module, filename in _imports("chat"):
        assert not (module == "chat" and filename not in frontends and filename in frontends)
    for path in (ROOT / "chat").rglob("*.py"):
        if path.name not in frontends:
            text = path.read_text()
            assert (
                "from .web" not in text and "from .cli" not in text and "from .api" not in text
            ), path


def test_import_chat_stays_light():
    code = "import sys, chat.app, chat.session; print(any(m in sys.modules for m in ('torch', 'gradio', 'fastapi')))"
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )
