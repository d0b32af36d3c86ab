"""`[network] lan_http_hosts`: the home-network addresses the language model may be reached at
over plain http, each allowed by the user; the rule beside the field, and the one spanning
[llm] and [network]."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings, load_settings
from assistant.config.schema import lan_http_problems
from assistant.core.errors import ConfigError


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def problems_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value.message


def test_allowed_addresses_are_kept_once_in_one_spelling(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[network]\nlan_http_hosts = ["192.168.1.20", " 10.0.0.5", "[FD00::2]", "192.168.1.20"]',
    )
    assert settings.network.lan_http_hosts == ["192.168.1.20", "10.0.0.5", "fd00::2"]
    assert Settings().network.lan_http_hosts == []


@pytest.mark.parametrize(
    ("entry", "extra"),
    [
        ("gpubox.local", ""),
        ("gpubox", ""),
        ("8.8.8.8", ""),
        ("100.64.0.1", ""),
        ("127.0.0.1", " (this computer needs no entry)"),
    ],
)
def test_only_private_addresses_may_be_listed(tmp_path: Path, entry: str, extra: str) -> None:
    message = problems_of(tmp_path, f'[network]\nlan_http_hosts = ["192.168.1.20", "{entry}"]')
    assert (
        "[network] lan_http_hosts must list addresses on your own network, such as "
        '"192.168.1.20"' in message
    )
    assert f"'{entry}' is not one{extra}." in message
    assert "never by its name, and never one on the internet" in message


def test_the_list_must_be_a_list_of_text(tmp_path: Path) -> None:
    message = problems_of(tmp_path, '[network]\nlan_http_hosts = "192.168.1.20"')
    assert "[network] lan_http_hosts must be a list of text in quotes" in message


def test_a_chat_endpoint_on_an_allowed_address_loads(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[llm]\nbase_url = "http://192.168.1.20:11434/v1/"\n'
        '[network]\nlan_http_hosts = ["192.168.1.20"]\n',
    )
    assert settings.llm.base_url == "http://192.168.1.20:11434/v1"
    assert lan_http_problems(settings) == []


def test_a_chat_endpoint_on_an_address_not_allowed_is_named_with_the_way_to_allow_it() -> None:
    settings = Settings()
    settings.llm.base_url = "http://192.168.1.21:11434/v1"
    settings.network.lan_http_hosts = ["192.168.1.20"]
    (problem,) = lan_http_problems(settings)
    assert problem.startswith(
        "[llm] base_url 'http://192.168.1.21:11434/v1' uses plain http to 192.168.1.21 on your "
        "network, which is not allowed yet."
    )
    assert 'Settings > Language model (Allow this computer) or add "192.168.1.21"' in problem
    assert "no API key is ever sent there" in problem


@pytest.mark.parametrize(
    "url", ["https://192.168.1.21/v1", "http://127.0.0.1:11434/v1", "https://api.openai.com/v1"]
)
def test_other_chat_endpoints_need_no_permission(url: str) -> None:
    settings = Settings()
    settings.llm.base_url = url
    assert lan_http_problems(settings) == []


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("stt.openai", "base_url"),
        ("tts.openai", "base_url"),
        ("tts.volcano", "endpoint"),
        ("stt", "hub_url"),
    ],
)
def test_other_endpoints_keep_plain_http_to_this_computer(
    tmp_path: Path, table: str, key: str
) -> None:
    # Only the language model may live on the home network: the voices' and the transcription's
    # providers do not take the list (yet), so their settings refuse what they could not use.
    message = problems_of(
        tmp_path,
        f'[{table}]\n{key} = "http://192.168.1.20/v1"\n'
        '[network]\nlan_http_hosts = ["192.168.1.20"]\n',
    )
    assert f"[{table}] {key} 'http://192.168.1.20/v1' uses plain http" in message
    assert "Allow this computer" not in message


def test_a_public_http_chat_endpoint_is_still_refused_when_loading(tmp_path: Path) -> None:
    message = problems_of(tmp_path, '[llm]\nbase_url = "http://8.8.8.8/v1"')
    assert "[llm] base_url 'http://8.8.8.8/v1' uses plain http to another machine" in message
