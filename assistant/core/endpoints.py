"""Which URLs the assistant may send requests (and keys) to.

A cloud endpoint must use https; plain http is allowed for this machine (a local model or
voice server), and for the addresses on the home network that the user allowed one by one
(`[network] lan_http_hosts`, a GPU box running Ollama). "This machine" is the name `localhost`
exactly, an address in 127.0.0.0/8, or ::1: those never leave it. Any other name that looks local
(`api.localhost`, `localhost.`, `localhost.localdomain`) goes to the system resolver, which may
ask DNS on the network, so it is treated like any other host.

A home-network host is allowed by its address only, and only a private one (RFC 1918, IPv6 unique
local, link-local): a name (`gpubox.local`, `gpubox.lan`, `gpubox`) may resolve to any address,
one on the internet included, and single-label names get the DNS search domain appended; the
address is what this check can vouch for. Keys never go over plain http beyond this machine
(`carries_keys`): a private address is the home server at home and a stranger's machine on a
hotel's Wi-Fi.

URLs carrying credentials (`https://user@host`) or non-ASCII host names (lookalike IDN domains)
are refused outright. A vendor-specific key (Volcano's token) goes only to hosts under that
vendor's own domains, or to this machine.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from assistant.core.errors import EndpointError

# Resolved from the hosts file (or by the resolver itself), never looked up on the network.
# "localhost." with its final dot is not here: glibc skips /etc/hosts for it and asks DNS.
_LOCAL_NAME = "localhost"
_THIS_MACHINE = "localhost, 127.0.0.1 or [::1]"
# The addresses of a home or office network: RFC 1918, IPv6 unique local (fc00::/7) and link-local.
# Not 100.64.0.0/10: that is the carrier's network (CGNAT), shared with its other customers.
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10"
    )
)  # fmt: skip
_HOME_NAME_ENDINGS = (".local", ".lan", ".home", ".internal", ".home.arpa", ".localdomain")
LAN_HOSTS_SETTING = "[network] lan_http_hosts"
ALLOW_LAN_PLACE = "Settings > Language model"

# Letters, digits, '-' and '_' in dot-separated labels: anything else ('\\', ';', '%', spaces)
# would let the host we check differ from the host the HTTP library connects to.
_HOST_NAME = re.compile(
    r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?"
)


def is_loopback_host(host: str) -> bool:
    """Whether `host` (as in a URL, brackets allowed) surely means this machine without asking
    any resolver on the network: `localhost`, 127.0.0.0/8 or ::1."""
    host = host.strip("[]").lower()
    if host == _LOCAL_NAME:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_private_address(host: str) -> bool:
    """Whether `host` (as in a URL, brackets allowed) is an address of a home or office network:
    10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7 or fe80::/10. Names are never private."""
    address = _address(host)
    return address is not None and any(address in network for network in _PRIVATE_NETWORKS)


def lan_host(host: str) -> str:
    """A private address in the one spelling `lan_http_hosts` keeps ("fd00::2", not "[FD00:0::2]"),
    so that the same machine is recognized however it was typed."""
    address = _address(host)
    return str(address) if address is not None else host.strip("[]").lower()


def lan_host_of(url: str) -> str | None:
    """The private address that `url` reaches over plain http, if that is what it does: the host
    the user has to allow before it is used (None for https, this machine, names, public hosts)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme != "http" or not is_private_address(host):
        return None
    return lan_host(host)


def carries_keys(url: str) -> bool:
    """Whether a key may be sent to `url`: over https, or over plain http to this machine only.
    A server on the home network reached by plain http gets none: anyone on that network can read
    the traffic, and the same private address is another machine on another network."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme == "https" or is_loopback_host(parts.hostname or "")


def check_endpoint(
    url: str, what: str = "endpoint", *, lan_http_hosts: Iterable[str] | None = None
) -> str:
    """Return `url` without a trailing slash if the policy allows it; raise EndpointError if not.

    `what` names the setting in the message ("The chat endpoint ..."), so users know where
    to look. Messages show the URL without any user name, query or fragment, which may hold a key.
    `lan_http_hosts` are the private addresses the user allowed plain http to, for an endpoint
    that may be on the home network (the language model's); None for the others, whose refusal
    then does not suggest allowing one.
    """
    url = url.strip()
    shown = _without_secrets(url)
    if any(char.isspace() or not char.isprintable() for char in url):
        # urlsplit silently deletes tabs and newlines, so what it checks is not what is sent.
        raise EndpointError(
            f"The {what} contains spaces or control characters (a line break, a tab...). "
            "Type the URL again on one line."
        )
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise EndpointError(f"The {what} '{shown}' is not a valid URL ({exc}).") from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise EndpointError(
            f"The {what} '{shown}' is not a web address. Use a URL such as https://api.example.com/v1."
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise EndpointError(
            f"The {what} must not contain a user name or password (the part before '@'). "
            "Put keys in Settings > API keys, never in the URL."
        )
    if not host.isascii():
        raise EndpointError(
            f"The {what} host '{host}' contains non-ASCII characters, which can imitate another "
            "site's name. Type the host name in plain ASCII."
        )
    if not _is_ip_address(host) and not _HOST_NAME.fullmatch(host):
        raise EndpointError(
            f"The {what} host '{host}' is not a valid host name (only letters, digits, '-' and "
            "'.' are allowed). Check the URL."
        )
    if port == 0:
        raise EndpointError(f"The {what} '{shown}' has port 0. Use the service's real port.")
    if parts.scheme == "http" and not _plain_http_allowed(host, lan_http_hosts or ()):
        raise EndpointError(_plain_http_refusal(what, shown, host, lan_http_hosts is not None))
    if parts.query or parts.fragment:
        raise EndpointError(f"The {what} '{shown}' must not contain '?' or '#' parts.")
    return url.rstrip("/")


def check_vendor_endpoint(url: str, what: str, vendor: str, domains: tuple[str, ...]) -> str:
    """`check_endpoint`, and the host must be one of `domains` or under one of them (or this
    machine, for a local gateway or a test server): a key made for one vendor is sent to that
    vendor only, never to a lookalike such as openspeech.bytedance.com.evil.com."""
    url = check_endpoint(url, what)
    host = urlsplit(url).hostname or ""
    if is_loopback_host(host):
        return url
    host = host.rstrip(".")  # "openspeech.bytedance.com." is the same DNS name, fully qualified
    if any(host == d or host.endswith(f".{d}") for d in domains):
        return url
    listed = " or ".join(domains)
    raise EndpointError(
        f"The {what} host '{host}' is not a {vendor} server (those end in {listed}), so your "
        f"{vendor} key will not be sent there. Check the {what} in Settings."
    )


def same_origin(first: str, second: str) -> bool:
    """Whether two URLs reach the same server (scheme, host and port): a key configured for
    one may be sent to the other."""
    a, b = urlsplit(first.strip()), urlsplit(second.strip())
    try:
        return (a.scheme, (a.hostname or "").rstrip("."), a.port) == (
            b.scheme,
            (b.hostname or "").rstrip("."),
            b.port,
        )
    except ValueError:  # a port that is not a number: not the same server as anything
        return False


def _plain_http_allowed(host: str, lan_http_hosts: Iterable[str]) -> bool:
    if is_loopback_host(host):
        return True
    if not is_private_address(host):
        return False  # a public address or a name: never, whatever the list says
    return lan_host(host) in {lan_host(allowed) for allowed in lan_http_hosts}


def _plain_http_refusal(what: str, shown: str, host: str, lan_capable: bool) -> str:
    refusal = (
        f"The {what} '{shown}' uses plain http to another machine, which is not encrypted. "
        f"Use https (plain http is only allowed for this computer: {_THIS_MACHINE}, e.g. a "
        "local Ollama"
    )
    if is_private_address(host) and lan_capable:
        return (
            f"{refusal}, and for the addresses on your home network you allowed). To use the "
            f"server at {lan_host(host)} on your network, allow it in {ALLOW_LAN_PLACE} (Allow "
            f"this computer) or add it to {LAN_HOSTS_SETTING}; no API key is ever sent to it."
        )
    if _looks_like_a_home_name(host) and lan_capable:
        return (
            f"{refusal}). A server on your home network is allowed by its address "
            "(e.g. 192.168.1.20), not by its name."
        )
    return f"{refusal})."


def _looks_like_a_home_name(host: str) -> bool:
    """A name people give a computer at home (`gpubox`, `gpubox.local`, `nas.lan`)."""
    name = host.rstrip(".").lower()
    return (
        _address(name) is None
        and ("." not in name or name.endswith(_HOME_NAME_ENDINGS))
        and not is_loopback_host(name)
    )


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_ip_address(host: str) -> bool:
    return _address(host) is not None


def _without_secrets(url: str) -> str:
    """The URL cut before any '?' or '#', with a 'user:password@' part left out."""
    url = re.split(r"[?#]", url, maxsplit=1)[0]
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
