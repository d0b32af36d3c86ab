"""Which URLs the assistant may send requests (and keys) to.

A cloud endpoint must use https; plain http is allowed only for this machine (a local model or
voice server). "This machine" is the name `localhost` exactly, an address in 127.0.0.0/8, or ::1:
those never leave it. Any other name that looks local (`api.localhost`, `localhost.`,
`localhost.localdomain`) goes to the system resolver, which may ask DNS on the network, so it is
treated like any other host.

URLs carrying credentials (`https://user@host`) or non-ASCII host names (lookalike IDN domains)
are refused outright. A vendor-specific key (Volcano's token) goes only to hosts under that
vendor's own domains, or to this machine.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from assistant.core.errors import EndpointError

# Resolved from the hosts file (or by the resolver itself), never looked up on the network.
# "localhost." with its final dot is not here: glibc skips /etc/hosts for it and asks DNS.
_LOCAL_NAME = "localhost"
_THIS_MACHINE = "localhost, 127.0.0.1 or [::1]"

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


def check_endpoint(url: str, what: str = "endpoint") -> str:
    """Return `url` without a trailing slash if the policy allows it; raise EndpointError if not.

    `what` names the setting in the message ("The chat endpoint ..."), so users know where
    to look. Messages show the URL without any user name, query or fragment, which may hold a key.
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
    if parts.scheme == "http" and not is_loopback_host(host):
        raise EndpointError(
            f"The {what} '{shown}' uses plain http to another machine, which would send your key "
            "unencrypted. Use https (plain http is only allowed for this computer: "
            f"{_THIS_MACHINE}, e.g. a local Ollama)."
        )
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


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _without_secrets(url: str) -> str:
    """The URL cut before any '?' or '#', with a 'user:password@' part left out."""
    url = re.split(r"[?#]", url, maxsplit=1)[0]
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"
