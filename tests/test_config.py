"""Settings: where the file is, what a wrong file says, saving it back, and where keys come from."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import stat
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.compat import properties
from keyring.errors import KeyringLocked, PasswordDeleteError

from assistant.config import (
    KEYRING_SERVICE,
    Secrets,
    Settings,
    config_path,
    default_config_path,
    delete_secret,
    load_secrets,
    load_settings,
    save_settings,
    store_secret,
    to_toml,
    validate_settings,
)
from assistant.core.errors import ConfigError


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The per-user config folder, moved into the test's own directory (platformdirs reads XDG)."""
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    return caught.value.message


# --- where the file is ------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CONFIG_HOME is how Linux finds it")
def test_the_default_file_is_in_the_users_config_folder(config_home: Path) -> None:
    assert default_config_path() == config_home / "voice-assistant" / "config.toml"
    assert config_path(None, {}) == default_config_path()


def test_command_line_path_wins_over_the_environment(tmp_path: Path) -> None:
    environ = {"ASSISTANT_CONFIG": str(tmp_path / "from-env.toml")}
    assert config_path(str(tmp_path / "cli.toml"), environ) == tmp_path / "cli.toml"
    assert config_path(None, environ) == tmp_path / "from-env.toml"
    assert config_path(None, {"ASSISTANT_CONFIG": ""}) == default_config_path()


def test_a_path_starting_with_tilde_means_the_home_folder() -> None:
    assert config_path("~/assistant.toml", {}) == Path.home() / "assistant.toml"


def test_no_file_at_the_default_place_means_the_defaults(config_home: Path) -> None:
    assert not default_config_path().exists()
    assert load_settings(environ={}) == Settings()
    assert load_settings(config_path(None, {})) == Settings()
    assert not default_config_path().exists()  # loading never creates it


def test_the_default_file_is_read_when_it_exists(config_home: Path) -> None:
    default_config_path().parent.mkdir(parents=True)
    default_config_path().write_text('[llm]\nmodel = "qwen2.5"\n', encoding="utf-8")
    assert load_settings(environ={}).llm.model == "qwen2.5"


def test_a_missing_file_named_on_the_command_line_is_an_error(
    tmp_path: Path, config_home: Path
) -> None:
    missing = tmp_path / "typo.toml"
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_settings(config_path(str(missing), {}))
    assert str(missing) in caught.value.message


def test_a_missing_file_named_in_the_environment_is_an_error(
    tmp_path: Path, config_home: Path
) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match="ASSISTANT_CONFIG") as caught:
        load_settings(environ={"ASSISTANT_CONFIG": str(missing)})
    assert str(missing) in caught.value.message


def test_the_file_named_in_the_environment_is_read(tmp_path: Path, config_home: Path) -> None:
    path = write(tmp_path, '[tts]\nprovider = "openai"\n', "elsewhere.toml")
    assert load_settings(environ={"ASSISTANT_CONFIG": str(path)}).tts.provider == "openai"


def test_a_folder_instead_of_a_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="could not be read"):
        load_settings(tmp_path)


# --- reading a file ---------------------------------------------------------------------------


def test_an_empty_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "")) == Settings()


def test_a_partial_file_keeps_the_defaults_for_the_rest(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            """
            [llm]
            model = "gpt-4o-mini"
            base_url = "https://api.openai.com/v1/"

            [tts.volcano]
            appid = "123456"
            """,
        )
    )
    expected = Settings()
    expected.llm.model = "gpt-4o-mini"
    expected.llm.base_url = "https://api.openai.com/v1"  # the trailing slash is dropped
    expected.tts.volcano.appid = "123456"
    assert settings == expected


def test_whole_numbers_are_accepted_where_a_decimal_is_expected(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[tts.openai]\nspeed = 2\n[llm]\ntemperature = 0\n"))
    assert settings.tts.openai.speed == 2.0 and isinstance(settings.tts.openai.speed, float)
    assert settings.llm.temperature == 0.0


def test_a_device_may_be_named_or_numbered(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, '[audio]\ninput_device = "USB Headset"\noutput_device = 3\n')
    )
    assert settings.audio.input_device == "USB Headset"
    assert settings.audio.output_device == 3


def test_a_byte_order_mark_from_a_windows_editor_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbf[llm]\nmodel = "mistral"\n')
    assert load_settings(path).llm.model == "mistral"


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[llm]\nbase_url = "http://127.0.0.1:11434/v1"\nmodel = llama3.2\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert f"{path}, line 3" in caught.value.message
    assert "quotes" in caught.value.message


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[llm]\nmodel = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(path)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[tts]\nprovider = "polly"',
            "[tts] provider must be one of piper, openai, volcano, volcano_v3 (got 'polly').",
        ),
        ('[llm]\nmodle = "llama3.2"', "unknown key [llm] modle; did you mean model?"),
        ("[tts.volcano]\nspeedratio = 1.2", "unknown key [tts.volcano] speedratio; did you mean"),
        ("[ttts]\nlookahead = 2", "unknown table [ttts]; did you mean [tts]?"),
        ("[tts.volcan]\nappid = '1'", "unknown table [tts.volcan]; did you mean [tts.volcano]?"),
        ("[llm]\nzzz = 1", "unknown key [llm] zzz; the keys of [llm] are base_url, model"),
        ('stt = "local"', "[stt] must be a table"),
        ('[stt]\nopenai = "whisper-1"', "[stt.openai] must be a table"),
        ('[stt]\ndevice = "gpu"', "[stt] device must be one of cpu, cuda, auto (got 'gpu')."),
        ('[stt]\ncompute_type = "int4"', "[stt] compute_type must be one of default, auto, int8"),
        ('[audio]\ntalk_mode = "push"', "[audio] talk_mode must be one of hold, toggle"),
        (
            '[llm]\nhistory_chars = "lots"',
            "[llm] history_chars must be a whole number (got 'lots').",
        ),
        ("[tts]\nlookahead = true", "[tts] lookahead must be a whole number (got true)."),
        ("[tts]\nlookahead = 2.0", "[tts] lookahead must be a whole number (got 2.0)."),
        ("[tts.openai]\nspeed = 'fast'", "[tts.openai] speed must be a number (got 'fast')."),
        ("[llm]\nmodel = 3", "[llm] model must be text in quotes (got 3)."),
        ("[llm]\nmodel = ['a']", "[llm] model must be text in quotes (got a list)."),
        ('[llm]\nmodel = " "', "[llm] model must not be empty."),
        ("[audio]\ninput_device = 1.5", "[audio] input_device must be text in quotes or a whole"),
        (
            "[audio]\ninput_device = -1",
            "[audio] input_device must be a device number from 0 to 999",
        ),
        (
            "[tts.openai]\nspeed = 5",
            "[tts.openai] speed must be a number from 0.25 to 4.0 (got 5.0)",
        ),
        ("[tts.openai]\nspeed = 0.2", "[tts.openai] speed must be a number from 0.25 to 4.0"),
        ("[tts.volcano]\nspeed_ratio = 0.5", "[tts.volcano] speed_ratio must be a number from 0.8"),
        ("[tts.volcano]\nspeed_ratio = 2.5", "[tts.volcano] speed_ratio must be a number from 0.8"),
        (
            "[tts.volcano]\nsample_rate = 22050",
            "[tts.volcano] sample_rate must be one of 8000, 16000, 24000 (got 22050).",
        ),
        ("[tts.volcano_v3]\nsample_rate = 11025", "[tts.volcano_v3] sample_rate must be one of"),
        ("[network]\nconnect_timeout = 0", "[network] connect_timeout must be a number greater"),
        ("[network]\nread_timeout = -5", "[network] read_timeout must be a number greater than 0"),
        (
            "[network]\nkeepalive_seconds = -1",
            "[network] keepalive_seconds must be a number from 0 to",
        ),
        ("[network]\nmax_connections = 0", "[network] max_connections must be a whole number from"),
        ("[tts]\nlookahead = 0", "[tts] lookahead must be a whole number from 1 to 8 (got 0)."),
        ("[tts]\nlookahead = 9", "[tts] lookahead must be a whole number from 1 to 8 (got 9)."),
        ("[audio]\nmax_recording_seconds = 0.5", "[audio] max_recording_seconds must be a number"),
        ("[audio]\nmax_recording_seconds = 601", "from 1 to 600 (got 601.0)"),
        ("[llm]\nhistory_chars = 499", "[llm] history_chars must be a whole number from 500 to"),
        ("[llm]\ntemperature = 2.5", "[llm] temperature must be a number from 0.0 to 2.0"),
        ("[llm]\ntemperature = nan", "[llm] temperature must be a finite number (got nan)."),
        ("[network]\nread_timeout = inf", "[network] read_timeout must be a finite number"),
        ("[tts.piper]\nlength_scale = 0", "[tts.piper] length_scale must be a number from 0.25"),
        # Every duration and size has an upper bound too: a huge one would never fire.
        (
            "[network]\nread_timeout = 1e308",
            "[network] read_timeout must be a number greater than 0 and at most 600 (got 1e+308).",
        ),
        (
            "[network]\nconnect_timeout = 3600",
            "[network] connect_timeout must be a number greater than 0 and at most 60 "
            "(got 3600.0).",
        ),
        (
            "[network]\nkeepalive_seconds = 1e9",
            "[network] keepalive_seconds must be a number from 0 to 3,600 (got 1000000000.0).",
        ),
        ("[network]\nkeepalive_seconds = inf", "[network] keepalive_seconds must be a finite"),
        ("[network]\nconnect_timeout = -inf", "[network] connect_timeout must be a finite number"),
        (
            "[llm]\nhistory_chars = 10_000_000_000",
            "[llm] history_chars must be a whole number from 500 to 200,000 (got 10000000000).",
        ),
        (
            "[audio]\ninput_device = 100_000",
            "[audio] input_device must be a device number from 0 to 999, or a device name",
        ),
    ],
)
def test_a_wrong_setting_is_named_with_its_table_and_the_expected_form(
    tmp_path: Path, toml: str, message: str
) -> None:
    text = problems_of(tmp_path, toml)
    assert message in text
    assert str(tmp_path / "config.toml") in text


@pytest.mark.parametrize(
    ("table", "key", "limit"),
    [
        ("llm", "system_prompt", "20,000"),  # sent with every question
        ("stt", "initial_prompt", "1,000"),  # sent with every recording
        ("llm", "model", "4,096"),
        ("tts.openai", "voice", "4,096"),
        ("tts.volcano", "appid", "4,096"),
        ("network", "ca_file", "4,096"),
    ],
)
def test_text_sent_with_every_request_has_a_size_limit(
    tmp_path: Path, table: str, key: str, limit: str
) -> None:
    huge = "x" * 3_000_000  # a 3 MB system prompt was accepted and sent with every turn
    text = problems_of(tmp_path, f'[{table}]\n{key} = "{huge}"')
    assert f"[{table}] {key} is 3,000,000 characters long; at most {limit} are allowed" in text
    assert "Shorten it" in text
    assert huge[:100] not in text  # the value itself is not repeated
    settings = Settings()
    settings.llm.system_prompt = huge
    with pytest.raises(ConfigError, match="system_prompt is 3,000,000 characters long"):
        validate_settings(settings)  # the settings dialog goes through the same rule


def test_a_long_but_sensible_system_prompt_is_fine(tmp_path: Path) -> None:
    prompt = "Answer briefly. " * 1000  # 16,000 characters
    settings = load_settings(write(tmp_path, f'[llm]\nsystem_prompt = "{prompt}"'))
    assert settings.llm.system_prompt == prompt


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("llm", "base_url"),
        ("stt.openai", "base_url"),
        ("tts.openai", "base_url"),
        ("tts.volcano", "endpoint"),
        ("tts.volcano_v3", "endpoint"),
    ],
)
def test_every_url_setting_follows_the_endpoint_policy(
    tmp_path: Path, table: str, key: str
) -> None:
    remote_http = problems_of(tmp_path, f'[{table}]\n{key} = "http://api.example.com/v1"')
    assert f"[{table}] {key} 'http://api.example.com/v1' uses plain http" in remote_http
    with_user = problems_of(tmp_path, f'[{table}]\n{key} = "https://good.com@evil.com/v1"')
    assert f"[{table}] {key} must not contain a user name or password" in with_user
    lookalike = problems_of(tmp_path, f'[{table}]\n{key} = "https://\u0430pi.openai.com/v1"')
    assert f"[{table}] {key} host" in lookalike and "non-ASCII" in lookalike


def test_a_local_model_server_over_plain_http_is_fine(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[llm]\nbase_url = "http://localhost:1234/v1/"\n'))
    assert settings.llm.base_url == "http://localhost:1234/v1"


def test_every_problem_in_the_file_is_reported_at_once(tmp_path: Path) -> None:
    text = problems_of(
        tmp_path,
        '[tts]\nprovider = "polly"\nlookahead = 12\n'
        '[llm]\nmodle = "x"\n'
        "[network]\nread_timeout = 0",
    )
    assert text.count("\n- ") == 4
    for key in ("[tts] provider", "[tts] lookahead", "[llm] modle", "[network] read_timeout"):
        assert key in text


@pytest.mark.parametrize(
    ("table", "key", "variable"),
    [
        ("llm", "api_key", "ASSISTANT_LLM_API_KEY"),
        ("stt.openai", "api_key", "ASSISTANT_STT_API_KEY"),
        ("tts.openai", "key", "ASSISTANT_OPENAI_API_KEY"),
        ("tts.volcano", "token", "ASSISTANT_VOLCANO_TOKEN"),
        ("tts.volcano_v3", "access_key", "ASSISTANT_VOLCANO_TOKEN"),
        ("network", "password", "ASSISTANT_LLM_API_KEY, ASSISTANT_OPENAI_API_KEY"),
        ("somewhere", "token", "ASSISTANT_VOLCANO_TOKEN"),
    ],
)
def test_secrets_in_the_file_are_refused_and_never_repeated(
    tmp_path: Path, table: str, key: str, variable: str
) -> None:
    text = problems_of(tmp_path, f'[{table}]\n{key} = "sk-do-not-show-this"')
    assert f"[{table}] {key} looks like a secret" in text
    assert "system keyring" in text and variable in text
    assert "sk-do-not-show-this" not in text


def test_a_secret_at_the_top_of_the_file_is_refused_too(tmp_path: Path) -> None:
    text = problems_of(tmp_path, 'api_key = "sk-do-not-show-this"\n')
    assert "api_key looks like a secret" in text
    assert "sk-do-not-show-this" not in text


# --- saving -----------------------------------------------------------------------------------


def unusual_settings() -> Settings:
    """Every section changed, with text that needs escaping in TOML."""
    s = Settings()
    s.audio.input_device = 'Blue Yeti "Pro" \\ USB'
    s.audio.output_device = 0
    s.audio.talk_mode = "toggle"
    s.audio.max_recording_seconds = 600.0
    s.stt.provider = "openai"
    s.stt.model = "C:\\models\\whisper small"
    s.stt.language = "zh"
    s.stt.device = "auto"
    s.stt.compute_type = "float16"
    s.stt.initial_prompt = "Names: Zoë, 张伟.\tTabs\r\nand lines\x7f\x01"
    s.stt.openai.base_url = "https://api.groq.com/openai/v1"
    s.stt.openai.model = "whisper-large-v3"
    s.llm.base_url = "https://ark.cn-beijing.volces.com/api/v3"
    s.llm.model = "doubao-seed-1-6-250615"
    s.llm.system_prompt = 'Line one.\nLine "two" \\ with a backslash.\n\n# not a comment'
    s.llm.history_chars = 200_000
    s.llm.temperature = 0.1 + 0.2  # a float with no short decimal form
    s.tts.provider = "volcano_v3"
    s.tts.lookahead = 8
    s.tts.openai.speed = 0.25
    s.tts.openai.voice = "nova"
    s.tts.volcano.appid = "1234567890"
    s.tts.volcano.speed_ratio = 2.0
    s.tts.volcano.sample_rate = 8000
    s.tts.volcano_v3.appid = "1234567890"
    s.tts.volcano_v3.speaker = "zh_female_vv_uranus_bigtts"
    s.tts.volcano_v3.sample_rate = 44100
    s.tts.piper.voice = "/home/me/voices/en_GB-alan-low.onnx"
    s.tts.piper.length_scale = 1.25
    s.network.ca_file = "/etc/ssl/company-ca.pem"
    s.network.connect_timeout = 1e-3
    s.network.read_timeout = 600.0  # the longest allowed
    s.network.keepalive_seconds = 0.0
    s.network.max_connections = 100
    return s


@pytest.mark.parametrize("settings", [Settings(), unusual_settings()], ids=["defaults", "unusual"])
def test_saved_settings_load_back_equal(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "config.toml"
    save_settings(settings, path)
    assert load_settings(path) == settings


def test_saving_creates_the_folder_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "config.toml"
    save_settings(Settings(), path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.toml"]


def test_saving_replaces_the_old_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[llm]\nmodel = "old"\n')
    settings = Settings()
    settings.llm.model = "new"
    save_settings(settings, path)
    assert load_settings(path).llm.model == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_saved_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    path.chmod(0o644)
    save_settings(Settings(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh" / "config.toml"
    save_settings(Settings(), fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700


def test_unset_values_are_left_out_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_settings(Settings(), path)
    text = path.read_text(encoding="utf-8")
    for unset in ("input_device", "temperature", "ca_file"):
        assert unset not in text
    assert 'language = "auto"' in text  # detected: the default, written as such
    assert "ASSISTANT_LLM_API_KEY" in text  # the header says where keys go


def test_invalid_settings_are_not_saved(tmp_path: Path) -> None:
    path = write(tmp_path, '[llm]\nmodel = "kept"\n')
    settings = Settings()
    settings.tts.lookahead = 0
    settings.llm.base_url = "http://api.example.com/v1"
    with pytest.raises(ConfigError) as caught:
        save_settings(settings, path)
    assert "[tts] lookahead" in caught.value.message
    assert "[llm] base_url" in caught.value.message
    assert load_settings(path).llm.model == "kept"


def test_a_failed_save_keeps_the_old_file_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    target.mkdir()  # os.replace cannot put a file over a folder
    (target / "keep.txt").write_text("still here", encoding="utf-8")
    with pytest.raises(ConfigError, match="could not be saved"):
        save_settings(Settings(), target)
    assert (target / "keep.txt").read_text(encoding="utf-8") == "still here"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_validate_settings_normalizes_urls() -> None:
    settings = Settings()
    settings.tts.openai.base_url = "https://api.openai.com/v1/"
    assert validate_settings(settings).tts.openai.base_url == "https://api.openai.com/v1"


_toml_scalars = (
    st.text()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.booleans()
)


@hypothesis_settings(database=None)  # keep no example database in the working tree
@given(
    st.dictionaries(
        st.text(min_size=1),
        _toml_scalars | st.dictionaries(st.text(min_size=1), _toml_scalars, max_size=4),
        max_size=6,
    )
)
def test_the_toml_writer_round_trips_any_text_and_numbers(table: dict[str, object]) -> None:
    assert tomllib.loads(to_toml(table, header="a header\nover two lines")) == table


def test_the_toml_writer_writes_non_finite_floats() -> None:
    loaded = tomllib.loads(to_toml({"a": math.inf, "b": -math.inf, "c": math.nan}))
    assert loaded["a"] == math.inf and loaded["b"] == -math.inf and math.isnan(loaded["c"])


# --- secrets ----------------------------------------------------------------------------------


class MemoryKeyring(KeyringBackend):
    """A real keyring backend (the documented plug-in interface) that keeps passwords in a dict."""

    @properties.classproperty
    def priority(cls) -> float:
        # Not viable for keyring's own auto-detection, so it is used only where a test sets it.
        raise RuntimeError("test keyring; never chosen automatically")

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.passwords:
            raise PasswordDeleteError("not found")
        del self.passwords[(service, username)]


class LockedKeyring(MemoryKeyring):
    """A keyring the user did not unlock (or dismissed the prompt for)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class ForgetfulKeyring(MemoryKeyring):
    """Accepts a password and keeps nothing, like an empty chain of backends."""

    def set_password(self, service: str, username: str, password: str) -> None:
        return None


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Installed as keyring's current backend, the way a user's configuration would; restored."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


ALL_ENV = {
    "ASSISTANT_LLM_API_KEY": "sk-llm-from-env",
    "ASSISTANT_OPENAI_API_KEY": "sk-openai-from-env",
    "ASSISTANT_VOLCANO_TOKEN": "volc-from-env",
}


def test_keys_come_from_the_environment() -> None:
    secrets = load_secrets(ALL_ENV, MemoryKeyring())
    assert secrets == Secrets("sk-llm-from-env", "sk-openai-from-env", "volc-from-env")


def test_keys_come_from_the_keyring_when_the_environment_has_none() -> None:
    backend = MemoryKeyring()
    store_secret("llm_api_key", "sk-llm-stored", backend)
    store_secret("volcano_token", "  volc-stored\n", backend)  # pasted with a line break
    assert backend.passwords == {
        (KEYRING_SERVICE, "llm_api_key"): "sk-llm-stored",
        (KEYRING_SERVICE, "volcano_token"): "volc-stored",
    }
    secrets = load_secrets({"ASSISTANT_OPENAI_API_KEY": ""}, backend)
    assert secrets == Secrets("sk-llm-stored", None, "volc-stored")


def test_the_environment_wins_over_the_keyring() -> None:
    backend = MemoryKeyring()
    for name in ("llm_api_key", "openai_api_key", "volcano_token"):
        store_secret(name, f"{name}-in-keyring", backend)
    secrets = load_secrets({"ASSISTANT_OPENAI_API_KEY": "sk-openai-from-env"}, backend)
    assert secrets == Secrets(
        "llm_api_key-in-keyring", "sk-openai-from-env", "volcano_token-in-keyring"
    )


def test_the_current_keyring_backend_is_used_by_default(memory_keyring: MemoryKeyring) -> None:
    store_secret("openai_api_key", "sk-via-default")
    assert memory_keyring.passwords == {(KEYRING_SERVICE, "openai_api_key"): "sk-via-default"}
    assert load_secrets({}).openai_api_key == "sk-via-default"
    delete_secret("openai_api_key")
    assert load_secrets({}).openai_api_key is None


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_keyring_at_all_is_a_quiet_fact_not_a_warning(
    backend: KeyringBackend, caplog: pytest.LogCaptureFixture
) -> None:
    # A machine without any keyring (a server, a container) is not broken: no WARNING line on
    # every command. The fact is kept, for the message of a service whose key is missing.
    with caplog.at_level(logging.DEBUG, logger="assistant.config"):
        secrets = load_secrets({"ASSISTANT_VOLCANO_TOKEN": "volc-from-env"}, backend)
    assert secrets == Secrets(None, None, "volc-from-env")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1 and "No system keyring" in infos[0]
    assert "ASSISTANT_LLM_API_KEY" in infos[0]
    assert secrets.keyring_problem is not None and "No system keyring" in secrets.keyring_problem
    assert "volc-from-env" not in caplog.text


def test_a_locked_keyring_is_one_warning_that_says_what_to_do(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="assistant.config"):
        secrets = load_secrets({}, LockedKeyring())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "could not be read" in warnings[0] and "Unlock it" in warnings[0]
    assert secrets.keyring_problem == warnings[0]


def test_a_keyring_that_works_leaves_no_problem_behind() -> None:
    assert load_secrets({}, MemoryKeyring()).keyring_problem is None
    assert Secrets().keyring_problem is None


def test_each_key_knows_where_it_came_from() -> None:
    backend = MemoryKeyring()
    store_secret("llm_api_key", "sk-llm-stored", backend)
    store_secret("openai_api_key", "sk-openai-stored", backend)
    secrets = load_secrets({"ASSISTANT_OPENAI_API_KEY": "sk-openai-from-env"}, backend)
    assert secrets.source("openai_api_key") == "the environment variable ASSISTANT_OPENAI_API_KEY"
    assert secrets.from_environment("openai_api_key") is True
    assert secrets.source("llm_api_key") == "Settings > API keys"
    assert secrets.from_environment("llm_api_key") is False
    # A key that is not set: where it could be set.
    assert secrets.source("volcano_token") == (
        "Settings > API keys or the environment variable ASSISTANT_VOLCANO_TOKEN"
    )
    # Keys given in code (the settings dialog's Test buttons, tests) count as Settings' own.
    assert Secrets(llm_api_key="sk-typed").source("llm_api_key") == "Settings > API keys"
    with pytest.raises(ValueError, match="unknown secret"):
        secrets.source("github_token")
    assert "sk-openai-from-env" not in repr(secrets)
    assert secrets == Secrets("sk-llm-stored", "sk-openai-from-env", None)  # origins aside


def test_a_locked_keyring_means_no_keys_and_the_secret_is_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        secrets = load_secrets({"ASSISTANT_LLM_API_KEY": "sk-llm-from-env"}, LockedKeyring())
    assert secrets == Secrets("sk-llm-from-env", None, None)
    assert "KeyringLocked" in caplog.text
    assert "sk-llm-from-env" not in caplog.text


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_storing_without_a_keyring_is_an_error_not_a_plain_text_file(
    backend: KeyringBackend, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="No system keyring is available") as caught:
        store_secret("openai_api_key", "sk-nowhere-to-go", backend)
    assert "ASSISTANT_OPENAI_API_KEY" in caught.value.message
    assert "sk-nowhere-to-go" not in caught.value.message
    with pytest.raises(ConfigError, match="No system keyring is available"):
        delete_secret("openai_api_key", backend)


def test_a_locked_keyring_refuses_to_store_with_a_clear_message() -> None:
    with pytest.raises(ConfigError, match="could not be saved in the system keyring") as caught:
        store_secret("volcano_token", "volc-secret", LockedKeyring())
    assert "Unlock the keyring" in caught.value.message
    assert "ASSISTANT_VOLCANO_TOKEN" in caught.value.message
    assert "volc-secret" not in caught.value.message


def test_a_keyring_that_does_not_keep_the_key_is_reported() -> None:
    with pytest.raises(ConfigError, match="did not keep the chat model API key"):
        store_secret("llm_api_key", "sk-lost", ForgetfulKeyring())


def test_an_empty_key_is_not_stored() -> None:
    backend = MemoryKeyring()
    with pytest.raises(ConfigError, match="empty"):
        store_secret("llm_api_key", "   ", backend)
    assert backend.passwords == {}


def test_deleting_a_key_removes_it_and_deleting_twice_is_fine() -> None:
    backend = MemoryKeyring()
    store_secret("llm_api_key", "sk-llm", backend)
    delete_secret("llm_api_key", backend)
    delete_secret("llm_api_key", backend)
    assert load_secrets({}, backend) == Secrets()


def test_only_the_three_known_keys_can_be_stored() -> None:
    with pytest.raises(ValueError, match="unknown secret"):
        store_secret("github_token", "x", MemoryKeyring())


def test_the_repr_of_secrets_never_shows_a_key() -> None:
    secrets = Secrets(llm_api_key="sk-live-123456", openai_api_key=None, volcano_token="volc-789")
    for shown in (repr(secrets), str(secrets), f"{secrets}", f"{secrets!r}", repr([secrets])):
        assert "sk-live-123456" not in shown and "volc-789" not in shown
    assert (
        repr(secrets)
        == "Secrets(llm_api_key=<hidden>, openai_api_key=None, volcano_token=<hidden>, "
        "stt_api_key=None)"
    )


# --- the documentation stays true -------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_every_example_in_the_documentation_loads(tmp_path: Path) -> None:
    examples = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(examples) >= 3
    loaded = [load_settings(write(tmp_path, example)) for example in examples]
    assert {s.llm.base_url for s in loaded} >= {
        "http://127.0.0.1:11434/v1",
        "https://api.openai.com/v1",
        "https://ark.cn-beijing.volces.com/api/v3",
    }


def test_the_documentation_lists_every_key_in_its_table() -> None:
    text = DOCS.read_text(encoding="utf-8")

    def keys(table: dict[str, object], where: str) -> Iterator[tuple[str, str]]:
        for key, value in table.items():
            if isinstance(value, dict):
                yield from keys(value, f"{where}.{key}" if where else key)
            else:
                yield where, key

    sections = text.split("\n#")
    for table, key in keys(dataclasses.asdict(Settings()), ""):
        headed = [part for part in sections if f"`[{table}]`" in part.splitlines()[0]]
        assert len(headed) == 1, f"no section for [{table}]"
        assert f"| `{key}` |" in headed[0], f"[{table}] {key} is not documented"


# --- the languages the user speaks ---


def test_the_language_is_detected_by_default(tmp_path: Path) -> None:
    stt = load_settings(write(tmp_path, "")).stt
    assert (stt.language, stt.languages, stt.chinese_script) == ("auto", [], "auto")


def test_the_languages_the_user_speaks_are_read_as_codes(tmp_path: Path) -> None:
    stt = load_settings(
        write(tmp_path, '[stt]\nlanguage = "DE"\nlanguages = ["en", " De", "en"]\n')
    ).stt
    assert stt.language == "de"
    assert stt.languages == ["en", "de"]  # lower case, each once, in the user's order


def test_the_languages_survive_saving(tmp_path: Path) -> None:
    settings = Settings()
    settings.stt.languages = ["zh", "en"]
    settings.stt.chinese_script = "traditional"
    save_settings(settings, tmp_path / "config.toml")
    assert 'languages = ["zh", "en"]' in (tmp_path / "config.toml").read_text(encoding="utf-8")
    again = load_settings(tmp_path / "config.toml").stt
    assert (again.languages, again.chinese_script) == (["zh", "en"], "traditional")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('language = "german"', '[stt] language must be "auto" or a language code'),
        ('languages = ["en", "xx"]', "[stt] languages must list language codes"),
        ('languages = "en"', '[stt] languages must be a list of text in quotes, e.g. ["en", "de"]'),
        ("languages = [1]", "[stt] languages must be a list of text in quotes"),
        ('chinese_script = "pinyin"', "[stt] chinese_script must be one of auto, simplified"),
    ],
)
def test_a_language_whisper_does_not_know_is_refused(
    tmp_path: Path, line: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, f"[stt]\n{line}\n"))
    assert problem in error.value.message


def test_a_language_set_to_none_in_code_means_auto() -> None:
    settings = Settings()
    settings.stt.language = None  # what the settings dialog sets for "Detect"
    assert validate_settings(settings).stt.language == "auto"
