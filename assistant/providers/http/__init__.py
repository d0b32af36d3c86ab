"""The network layer every provider uses, so each fault is handled once, the same way:

- `client`: the one app-wide `httpx.AsyncClient` (pooled, HTTP/2, strict TLS, counted
  connections, HTTP/2 streams reset when closed early);
- `body`: a whole-request deadline, a capped body reader, and a refusal of undecodable encodings;
- `failures`: the one translation of httpx/h2 exceptions and HTTP statuses into the assistant's
  errors, worded per `Service`;
- `retry`: one retry policy (`Backoff`, `with_retries`) and one Retry-After parser;
- `vendor`: one scrubber for a server's own words;
- `openai_errors`: the OpenAI error body and its statuses' words, shared by chat, speech and
  transcription;
- `keys`: one check of API keys before they go into a header, where each key comes from, and
  where a key may not go (plain http beyond this computer).
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
    download_failure,
    network_error,
    status_error,
    translated,
)
from assistant.providers.http.keys import (
    KeyOrigin,
    checked_header_value,
    checked_key,
    key_origin,
    key_sent_to,
)
from assistant.providers.http.openai_errors import (
    ERROR_BODY_BYTES,
    OpenAiError,
    openai_error,
    openai_status_error,
    parse_openai_error,
    read_openai_error,
)
from assistant.providers.http.retry import Backoff, Transient, retry_after, with_retries
from assistant.providers.http.vendor import readable, scrub, server_said

__all__ = [
    "ERROR_BODY_BYTES",
    "TRANSPORT_ERRORS",
    "Backoff",
    "ConnectionStats",
    "Deadline",
    "DeadlineExceeded",
    "KeyOrigin",
    "OpenAiError",
    "Service",
    "Transient",
    "UndecodableBody",
    "body_within",
    "checked_header_value",
    "checked_key",
    "deadline_error",
    "download_failure",
    "key_origin",
    "key_sent_to",
    "make_http_client",
    "network_error",
    "openai_error",
    "openai_status_error",
    "parse_openai_error",
    "read_capped",
    "read_openai_error",
    "read_timeout",
    "readable",
    "retry_after",
    "scrub",
    "server_said",
    "ssl_context",
    "status_error",
    "stream_within",
    "translated",
    "with_retries",
]
