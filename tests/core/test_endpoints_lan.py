"""Plain http to a model server on the home network: only to private addresses the user allowed,
never to a name or a public address, and never with a key."""

from __future__ import annotations

import pytest

from assistant.core.endpoints import (
    carries_keys,
    check_endpoint,
    is_private_address,
    lan_host,
    lan_host_of,
)
from assistant.core.errors import EndpointError


@pytest.mark.parametrize(
    "host",
    [
        "10.0.0.5",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.20",
        "169.254.10.1",  # link-local: two machines on one cable
        "fd00::2",  # IPv6 unique local
        "[fd12:3456::1]",
        "fe80::1",
    ],
)
def test_home_network_addresses_are_private(host: str) -> None:
    assert is_private_address(host)


@pytest.mark.parametrize(
    "host",
    [
        "8.8.8.8",
        "172.32.0.1",  # just past 172.16.0.0/12
        "100.64.0.1",  # the carrier's shared network (CGNAT), other customers on it
        "192.0.2.2",  # documentation range: not a home network
        "0.0.0.0",
        "255.255.255.255",
        "127.0.0.1",  # this computer: allowed anyway, but not "the home network"
        "2001:db8::1",
        "::ffff:192.168.1.1",
        "gpubox.local",  # names may resolve to anything
        "gpubox.lan",
        "gpubox",
        "192.168.1.20.nip.io",
    ],
)
def test_public_addresses_and_names_are_not(host: str) -> None:
    assert not is_private_address(host)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://192.168.1.20:11434/v1", ["192.168.1.20"]),
        ("http://10.0.0.5/v1", ["10.0.0.5", "192.168.1.20"]),
        ("http://[fd00::2]:8000/v1", ["fd00::2"]),
        ("http://[fd00:0:0::2]:8000/v1", ["[FD00::2]"]),  # one address, however it is spelt
    ],
)
def test_plain_http_goes_to_an_allowed_home_network_address(url: str, allowed: list[str]) -> None:
    assert check_endpoint(url, "chat endpoint", lan_http_hosts=allowed) == url


def test_an_address_not_allowed_is_refused_with_the_way_to_allow_it() -> None:
    with pytest.raises(EndpointError) as caught:
        check_endpoint(
            "http://192.168.1.21:11434/v1", "chat endpoint", lan_http_hosts=["192.168.1.20"]
        )
    message = caught.value.message
    assert message.startswith("The chat endpoint 'http://192.168.1.21:11434/v1' uses plain http")
    assert "Use https" in message
    assert "allow it in Settings > Language model (Allow this computer)" in message
    assert "[network] lan_http_hosts" in message
    assert "no API key is ever sent to it" in message


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://8.8.8.8/v1", ["8.8.8.8"]),  # a public address, even when listed by hand
        ("http://gpubox.local:11434/v1", ["gpubox.local"]),  # a name, even when listed
        ("http://api.openai.com/v1", ["api.openai.com"]),
        ("http://100.64.0.1/v1", ["100.64.0.1"]),
    ],
)
def test_a_public_address_or_a_name_never_gets_plain_http(url: str, allowed: list[str]) -> None:
    with pytest.raises(EndpointError, match="plain http to another machine") as caught:
        check_endpoint(url, "chat endpoint", lan_http_hosts=allowed)
    assert "Allow this computer" not in caught.value.message


def test_a_name_is_told_to_use_the_address() -> None:
    with pytest.raises(EndpointError) as caught:
        check_endpoint("http://gpubox.local:11434/v1", "chat endpoint", lan_http_hosts=())
    assert "allowed by its address (e.g. 192.168.1.20), not by its name" in caught.value.message


def test_an_endpoint_that_cannot_be_on_the_home_network_does_not_offer_it() -> None:
    # The voices, the transcription and the downloads pass no list: allowing would not help.
    for url in ("http://192.168.1.20/v1", "http://gpubox.local/v1"):
        with pytest.raises(EndpointError, match="plain http to another machine") as caught:
            check_endpoint(url, "speech endpoint")
        assert "Allow this computer" not in caught.value.message
        assert "by its name" not in caught.value.message


def test_every_other_rule_stays_for_an_allowed_address() -> None:
    allowed = ["192.168.1.20"]
    for url, words in [
        ("http://user:pw@192.168.1.20/v1", "user name or password"),
        ("http://192.168.1.20/v1?key=x", "'?' or '#'"),
        ("http://192.168.1.20:0/v1", "port 0"),
        ("ftp://192.168.1.20/v1", "not a web address"),
    ]:
        with pytest.raises(EndpointError, match=words):
            check_endpoint(url, lan_http_hosts=allowed)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://192.168.1.20:11434/v1", "192.168.1.20"),
        ("http://[FD00:0::2]:8000/v1", "fd00::2"),
        ("https://192.168.1.20/v1", None),  # https needs no permission
        ("http://127.0.0.1:11434/v1", None),  # nor does this computer
        ("http://gpubox.local/v1", None),  # a name is refused, not offered to allow
        ("http://8.8.8.8/v1", None),
        ("http://[::1/v1", None),  # malformed
    ],
)
def test_the_host_to_allow_is_found_in_the_url(url: str, host: str | None) -> None:
    assert lan_host_of(url) == host


def test_an_address_is_kept_in_one_spelling() -> None:
    assert lan_host("[FD00:0000::0002]") == "fd00::2"
    assert lan_host("192.168.1.20") == "192.168.1.20"


@pytest.mark.parametrize(
    ("url", "carries"),
    [
        ("https://api.openai.com/v1", True),
        ("https://192.168.1.20/v1", True),  # encrypted: a key may go to a LAN server over https
        ("http://127.0.0.1:11434/v1", True),
        ("http://localhost:1234/v1", True),
        ("http://[::1]:8080/v1", True),
        ("http://192.168.1.20:11434/v1", False),
        ("http://[fd00::2]:8000/v1", False),
        ("http://api.localhost/v1", False),
        ("http://[::1/v1", False),
    ],
)
def test_keys_travel_only_encrypted_or_within_this_computer(url: str, carries: bool) -> None:
    assert carries_keys(url) is carries
