"""`recochat doctor` as a user runs it: a configured model that does not resolve fails."""

from chat.frontends.cli import main


def test_doctor_fails_on_a_configured_model_that_does_not_resolve(home, monkeypatch, capsys):
    monkeypatch.setenv("RECOCHAT_LLM", "no-such-model")
    monkeypatch.setenv("RECOCHAT_EMBEDDER", "hash")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] configured LLM no-such-model: Unknown model 'no-such-model'" in out
    assert "Known models: qwen2.5-coder-0.5b" in out  # the message names the way out


def test_doctor_accepts_a_local_gguf_file(home, monkeypatch, capsys, tmp_path):
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setenv("RECOCHAT_LLM", str(model))
    monkeypatch.setenv("RECOCHAT_EMBEDDER", "hash")
    main(["doctor"])
    assert f"[ok  ] configured LLM {model}: gguf" in capsys.readouterr().out
