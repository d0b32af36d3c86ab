"""The one point where httpx's and h2's exceptions, HTTP statuses and deadlines become the
assistant's errors, worded for a person: what happened, at which service, and what to do.

    with translated(service) as call:          # around a whole request, body included
        async with stream_within(...) as response:
            call.answering = True              # the server has started to answer
            ...

Inside, a provider raises its own `AssistantError`s (they pass through) or a `Transient` (sending
again may help: `retry.with_retries` decides). Everything else from below HTTP is translated
here: httpx does not wrap every h2 error, and an exception's text (a repr such as
`<StreamReset stream_id:1 ...>`) is never shown as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

import httpx
from h2.exceptions import H2Error

from assistant.core.errors import (
    AssistantError,
    AuthError,
    RateLimitError,
    ServiceError,
    UnreachableError,
)
from assistant.providers.http.body import DeadlineExceeded, UndecodableBody
from assistant.providers.http.keys import KeyOrigin
from assistant.providers.http.retry import LONGEST_RETRY_AFTER, Transient, wait_words
from assistant.providers.http.vendor import reason, server_said

# Every exception that means "the exchange with the server failed below HTTP".
TRANSPORT_ERRORS = (httpx.HTTPError, H2Error, UndecodableBody)


@dataclass(frozen=True)
class Service:
    """Who a request goes to, in the words its errors use."""

    name: str  # "chat service", "speech service", "Volcano TTS service", ...
    url: str  # the request's URL: its host and path are named, never its query
    settings: str  # where its endpoint is set: "Settings > Voice"
    key: KeyOrigin | None = None  # the key it is sent, if any kind of key applies
    has_key: bool = False  # whether one was sent
    # A key is set but was not sent: plain http to another computer never carries one.
    key_withheld: bool = False
    slow_hint: str = "Check your internet connection, or try again in a moment."
    deadline_words: str = "to answer"  # "took more than 60 s {deadline_words}"
    # The whole message for a refused connection, when the service knows better words
    # ("Is Ollama running?") than the general ones.
    refused_words: str = ""

    @property
    def host(self) -> str:
        """The server as its address names it, with the port when one is given: a local server
        is known by its port (Ollama's 11434, LM Studio's 1234)."""
        return urlsplit(self.url).netloc.rpartition("@")[2]

    @property
    def where(self) -> str:
        """ "the chat service at api.example.com"."""
        return f"{self.name} at {self.host}"


class translated:
    """Turns what escapes a request into the assistant's errors (see the module's docstring)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.answering = False  # set once the response's headers are in

    def __enter__(self) -> translated:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, DeadlineExceeded):
            raise deadline_error(exc, self.service) from None
        if isinstance(exc, TRANSPORT_ERRORS):
            raise network_error(exc, self.service, answering=self.answering) from exc


def network_error(
    exc: httpx.HTTPError | H2Error | UndecodableBody, service: Service, *, answering: bool
) -> AssistantError | Transient:
    """The error for a failure below HTTP; a `Transient` if sending again may help."""
    where = service.where
    if isinstance(exc, UndecodableBody):
        return ServiceError(
            f"The {where} sent its reply compressed as '{exc.encoding}', which this app cannot "
            f"read. Check {service.settings}, or ask the server's owner to send it uncompressed."
        )
    if isinstance(exc, httpx.TimeoutException):  # not retried: the user has waited long enough
        return UnreachableError(_timeout_words(exc, service, answering))
    if isinstance(exc, httpx.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return UnreachableError(
                f"The certificate of {service.host} could not be verified, so nothing was sent. "
                "If you use a private certificate authority, set [network] ca_file in the "
                f"configuration; otherwise check {service.settings}.",
                retryable=False,
            )
        return Transient(
            UnreachableError(
                service.refused_words
                or f"Could not connect to the {where} ({reason(exc)}). Check your network "
                f"connection and {service.settings}."
            )
        )
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError | H2Error):
        # A kept-alive connection that the server closed just as it was reused ends up here too.
        return Transient(
            UnreachableError(f"The connection to the {where} broke off ({reason(exc)}). Try again.")
        )
    if isinstance(exc, httpx.DecodingError):
        return ServiceError(
            f"The {where} sent a reply that could not be decoded. Try again; if it keeps "
            f"happening, check {service.settings}."
        )
    return ServiceError(f"The request to the {where} failed ({reason(exc)}). Try again.")


def _timeout_words(exc: httpx.TimeoutException, service: Service, answering: bool) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return (
            f"The {service.where} did not accept a connection in time. Check your network "
            f"connection and {service.settings}."
        )
    if isinstance(exc, httpx.PoolTimeout):
        return "Too many requests were waiting for a connection. Try again in a moment."
    if not answering:
        return f"The {service.where} did not start answering in time. {service.slow_hint}"
    return f"The {service.where} stopped answering in the middle of its reply. {service.slow_hint}"


def deadline_error(exc: DeadlineExceeded, service: Service) -> UnreachableError:
    """A whole request took too long (a slow drip of bytes, say). Never retried."""
    return UnreachableError(
        f"The {service.where} took more than {exc.seconds:.0f} s {service.deadline_words}, so it "
        f"was stopped. {service.slow_hint}"
    )


def status_error(
    status: int,
    service: Service,
    detail: str = "",
    *,
    code: str = "",
    retry_after: float | None = None,
) -> AssistantError | Transient:
    """The error for an HTTP status that the provider has no better words for; `detail` is the
    server's own message, already scrubbed. 429 and 5xx come back as `Transient`."""
    where = service.where
    said = server_said(detail)
    if status == 401 or (status == 403 and not service.has_key and service.key is not None):
        return AuthError(_key_words(service, status))
    if (
        status == 403
    ):  # many causes besides the key (a region, a model not granted): say what it said
        return AuthError(f"{_key_words(service, status)}{said}")
    if code == "insufficient_quota" or "insufficient_quota" in detail:
        return RateLimitError(
            f"The {where} says the account's quota is used up ({status}).{said} Check the plan "
            "and billing with the provider."
        )
    if status == 429:
        wait = wait_words(retry_after)
        if retry_after is not None and retry_after > LONGEST_RETRY_AFTER:
            return RateLimitError(f"The {where} is limiting requests (429).{said} {wait}.")
        error = RateLimitError(
            f"The {where} is limiting requests (429).{said} {wait} and try again.",
            retry_after=retry_after,
        )
        return Transient(error, retry_after)
    if status >= 500:
        return Transient(
            ServiceError(
                f"The {where} had an internal error ({status}).{said} Try again in a moment.",
                retryable=True,
            )
        )
    if 300 <= status < 400:
        return ServiceError(
            f"The {where} redirected the request elsewhere ({status}). Put the final address "
            f"in {service.settings}."
        )
    if status == 404:
        return ServiceError(
            f"The {where} has nothing at {urlsplit(service.url).path} (404).{said} Check "
            f"{service.settings}; an OpenAI-compatible address usually ends in /v1."
        )
    return ServiceError(
        f"The {where} refused the request ({status}).{said} Check {service.settings}."
    )


def _key_words(service: Service, status: int) -> str:
    if service.key_withheld:
        return (
            f"The {service.where} asks for an API key ({status}), and no key is ever sent over "
            "plain http to another computer, where anyone on the network could read it. Turn "
            "the server's key off, or serve it over https (a private certificate is trusted "
            "through [network] ca_file)."
        )
    if service.key is None:
        return f"The {service.where} refused access ({status}). Check {service.settings}."
    if not service.has_key:
        return service.key.missing(service.where)
    # Fixed words: vendors echo part of a rejected key back in their message.
    return service.key.rejected(service.where, status)


def download_failure(exc: Exception, hub: str) -> tuple[str, bool] | None:
    """What a failed download (a model, a voice) from `hub` ("the model hub huggingface.co")
    means to the user, and whether it broke off part-way (what came may be damaged) rather than
    never started; None for an exception that is not the network's."""
    if isinstance(exc, httpx.TimeoutException):
        return f"{hub} stopped answering", False
    if isinstance(exc, httpx.ConnectError):
        return f"{hub} could not be reached; are you offline?", False
    # httpcore lets h2's own error through when an HTTP/2 body ends short of its length.
    if isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError | H2Error):
        return "the connection broke off before it was complete", True
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__} from {hub}", False
    return None


__all__ = [
    "TRANSPORT_ERRORS",
    "Service",
    "deadline_error",
    "download_failure",
    "network_error",
    "status_error",
    "translated",
]
