"""The network layer every provider uses, so each fault is handled once, the same way:

- `client`: the one app-wide `httpx.AsyncClient` (pooled, HTTP/2, strict TLS, counted
  connections, HTTP/2 streams reset when closed early);
- `body`: a whole-request deadline, a capped body reader, and a refusal of undecodable encodings;
- `failures`: the one translation of httpx/h2 exceptions and HTTP statuses into the assistant's
  errors, worded per `Service`;
- `retry`: one retry policy (`Backoff`, `with_retries`) and one Retry-After parser;
- `vendor`: one scrubber for a server's own words, and the OpenAI error body;
- `keys`: one check of API keys before they go into a header, and where each key comes from.
"""

from assistant.providers.http.body import (
    Deadline,
    DeadlineExceeded,
    UndecodableBody,
    body_within,
    read_capped,
    stream_within,
)
from assistant.providers.http.client import (
    ConnectionStats,
    make_http_client,
    read_timeout,
    ssl_context,
)
from assistant.providers.http.failures import (
    TRANSPORT_ERRORS,
    Service,
    deadline_error,
    network_error,
    status_error,
    translated,
)
from assistant.providers.http.keys import (
    KeyOrigin,
    checked_header_value,
    checked_key,
    key_origin,
)
from assistant.providers.http.retry import Backoff, Transient, retry_after, with_retries
from assistant.providers.http.vendor import openai_error, readable, scrub

__all__ = [
    "TRANSPORT_ERRORS",
    "Backoff",
    "ConnectionStats",
    "Deadline",
    "DeadlineExceeded",
    "KeyOrigin",
    "Service",
    "Transient",
    "UndecodableBody",
    "body_within",
    "checked_header_value",
    "checked_key",
    "deadline_error",
    "key_origin",
    "make_http_client",
    "network_error",
    "openai_error",
    "read_capped",
    "read_timeout",
    "readable",
    "retry_after",
    "scrub",
    "ssl_context",
    "status_error",
    "stream_within",
    "translated",
    "with_retries",
]
