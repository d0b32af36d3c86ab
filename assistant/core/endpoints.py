"""Which URLs the assistant may send requests (and keys) to.

A cloud endpoint must use https; plain http is allowed only for this machine (a local model or
voice server). URLs carrying credentials (`https://user@host`) or non-ASCII host names (lookalike
IDN domains) are refused outright.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from assistant.core.errors import EndpointError

_LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, what: str = "endpoint") -> str:
    """Return `url` without a trailing slash if the policy allows it; raise EndpointError if not.

    `what` names the setting in the message ("The chat endpoint ..."), so the user knows where to look.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise EndpointError(f"The {what} '{url}' is not a valid URL ({exc}).") from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise EndpointError(
            f"The {what} '{url}' is not a web address. Use a URL such as https://api.example.com/v1."
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
    if parts.scheme == "http" and not is_loopback_host(host):
        raise EndpointError(
            f"The {what} '{url}' uses plain http to another machine, which would send your key "
            "unencrypted. Use https (plain http is only allowed for this computer, e.g. a local "
            "Ollama)."
        )
    if parts.query or parts.fragment:
        raise EndpointError(f"The {what} '{url}' must not contain '?' or '#' parts.")
    del port
    return url.strip().rstrip("/")
