"""The endpoint policy: which URLs the assistant will send a request (and a key) to."""

from __future__ import annotations

import pytest

from assistant.core.endpoints import check_endpoint, is_loopback_host
from assistant.core.errors import EndpointError


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "https://ark.cn-beijing.volces.com/api/v3",
        "https://openspeech.bytedance.com/api/v1/tts",
        "https://my-server.example.org:8443/v1",
        "https://xn--bcher-kva.example/v1",  # an IDN typed in its ASCII (punycode) form
        "https://10.0.0.5/v1",
        "https://[2001:db8::1]:8443/v1",
    ],
)
def test_https_to_any_host_is_allowed(url: str) -> None:
    assert check_endpoint(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:11434/v1",
        "http://127.0.0.2/v1",
        "http://[::1]:8080/v1",
        "http://localhost:1234/v1",
        "http://LOCALHOST/v1",
    ],
)
def test_plain_http_is_allowed_to_this_machine(url: str) -> None:
    assert check_endpoint(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.openai.com/v1",
        "http://192.168.1.20:11434/v1",
        "http://0.0.0.0:11434/v1",
        "http://[2001:db8::1]/v1",
        "http://localhost.evil.com/v1",
        "http://127.0.0.1.evil.com/v1",
        # Names under .localhost go to the system resolver (and on to DNS on many systems), so
        # they are not this machine as far as a key is concerned.
        "http://ollama.localhost/v1",
        "http://api.localhost:8080/v1",
        "http://localhost.localdomain/v1",
        "http://localhost./v1",  # the trailing dot skips /etc/hosts and asks DNS
    ],
)
def test_plain_http_to_another_machine_is_refused(url: str) -> None:
    with pytest.raises(EndpointError, match="plain http to another machine") as caught:
        check_endpoint(url, "chat endpoint")
    assert "The chat endpoint" in caught.value.message
    assert "Use https" in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://good.com@evil.com",
        "https://api.openai.com@evil.com/v1",
        "https://user:hunter2@api.openai.com/v1",
        "https://:hunter2@api.openai.com/v1",
        "http://localhost:11434\\@evil.com/v1",
    ],
)
def test_user_names_and_passwords_in_the_url_are_refused(url: str) -> None:
    with pytest.raises(EndpointError, match="must not contain a user name or password") as caught:
        check_endpoint(url)
    assert "hunter2" not in caught.value.message
    assert "evil" not in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://\u0430pple.com/v1",  # Cyrillic a
        "https://api.openai.c\u043em/v1",  # Cyrillic o
        "https://bücher.example/v1",
        "http://l\u043ecalhost/v1",
    ],
)
def test_non_ascii_host_names_are_refused(url: str) -> None:
    with pytest.raises(EndpointError, match="non-ASCII"):
        check_endpoint(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com:99999/v1",
        "https://api.openai.com:abc/v1",
        "https://api.openai.com:-1/v1",
        "https://api.openai.com:0/v1",
        "https://[::1/v1",
    ],
)
def test_malformed_ports_and_brackets_are_refused(url: str) -> None:
    with pytest.raises(EndpointError) as caught:
        check_endpoint(url, "speech endpoint")
    assert "The speech endpoint" in caught.value.message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1//", "https://api.openai.com/v1"),
        ("https://api.openai.com/", "https://api.openai.com"),
        ("  http://127.0.0.1:11434/v1/ \n", "http://127.0.0.1:11434/v1"),
    ],
)
def test_trailing_slash_and_surrounding_spaces_are_stripped(url: str, expected: str) -> None:
    assert check_endpoint(url) == expected


@pytest.mark.parametrize(
    "url",
    ["api.openai.com/v1", "ftp://api.openai.com/v1", "file:///etc/passwd", "https://", "", "v1"],
)
def test_what_is_not_a_web_address_is_refused(url: str) -> None:
    with pytest.raises(EndpointError, match="not a web address"):
        check_endpoint(url)


def test_query_and_fragment_are_refused_without_repeating_them() -> None:
    # A key pasted into the query must not end up in the error message (or a log).
    for url in (
        "https://api.example.com/v1?api_key=sk-secret",
        "https://api.example.com/v1#sk-secret",
    ):
        with pytest.raises(EndpointError, match="'\\?' or '#'") as caught:
            check_endpoint(url)
        assert "sk-secret" not in caught.value.message


def test_refusals_for_other_reasons_do_not_repeat_a_query_either() -> None:
    with pytest.raises(EndpointError, match="plain http") as caught:
        check_endpoint("http://api.example.com/v1?key=sk-secret")
    assert "sk-secret" not in caught.value.message
    assert "http://api.example.com/v1" in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1\t/v1",
        "http://localhost\n.evil.com/v1",
        "https://api.open ai.com/v1",
        "https://api.openai.com/v1\x00",
    ],
)
def test_spaces_and_control_characters_inside_the_url_are_refused(url: str) -> None:
    # urlsplit drops tabs and newlines silently, so the host it checks is not the one sent.
    with pytest.raises(EndpointError, match="spaces or control characters"):
        check_endpoint(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.com\\.localhost/v1",
        "http://evil.com;.localhost/v1",
        "http://evil.com%2e.localhost/v1",
        "http://local%68ost/v1",
        "https://api.openai.com\\.evil.com/v1",
    ],
)
def test_host_names_with_characters_no_host_name_has_are_refused(url: str) -> None:
    # Each of these passed for "localhost" (or for one host while naming another) before.
    with pytest.raises(EndpointError, match="not a valid host name"):
        check_endpoint(url)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LocalHost", True),
        ("localhost.", False),
        ("localhost.localdomain", False),
        ("app.localhost", False),
        ("openspeech.bytedance.localhost", False),
        ("0.0.0.0", False),
        ("192.168.0.1", False),
        ("localhost.example.com", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
