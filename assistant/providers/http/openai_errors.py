"""The OpenAI error body, and the words for the status it came with, defined once for every
OpenAI-compatible provider: chat, speech and transcription servers all send the same body
(`{"error": {"message": ..., "code": ...}}`, or a bare string, or plain text) with the same
statuses. Each provider adds only the words that are its own (a missing model, its 404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from assistant.core.errors import AssistantError
from assistant.providers.http.body import Deadline, read_capped
from assistant.providers.http.failures import Service, status_error
from assistant.providers.http.retry import Transient, retry_after
from assistant.providers.http.vendor import scrub, server_said

ERROR_BODY_BYTES = 64 * 1024  # of an error body read at most: enough for any message


@dataclass(frozen=True)
class OpenAiError:
    """What an OpenAI-compatible server said went wrong, fit to show."""

    detail: str  # its message, scrubbed (no secret, one short line); "" when it gave none
    code: str  # its `code` (or `type`): "model_not_found", "insufficient_quota", ...

    @property
    def said(self) -> str:
        """ " The server said: …." to end a sentence with, or "" when it said nothing."""
        return server_said(self.detail)


def openai_error(body: bytes) -> tuple[str, str]:
    """The message and code of an OpenAI-style error body, unscrubbed; plain text is the message
    itself, and anything else gives ("", "")."""
    text = body.decode("utf-8", "replace")
    try:
        payload = json.loads(text)
    except ValueError:
        return text, ""
    if not isinstance(payload, dict):
        return "", ""
    error = payload.get("error", payload)
    if isinstance(error, str):  # some compatible servers send a bare string
        return error, str(payload.get("code") or "")
    if not isinstance(error, dict):
        return "", ""
    message = error.get("message") or error.get("detail") or error.get("msg") or ""
    code = error.get("code") or error.get("type") or ""
    return (message if isinstance(message, str) else ""), str(code)


def parse_openai_error(body: bytes, *secrets: str | None) -> OpenAiError:
    """The error in `body`, its message scrubbed of `secrets` (the key the request carried)."""
    message, code = openai_error(body)
    return OpenAiError(scrub(message, *secrets), code)


async def read_openai_error(
    response: httpx.Response, deadline: Deadline, *secrets: str | None
) -> OpenAiError:
    """The error a failed response carries, reading at most ERROR_BODY_BYTES of its body."""
    body, _ = await read_capped(response, ERROR_BODY_BYTES, deadline)
    return parse_openai_error(body, *secrets)


def openai_status_error(
    response: httpx.Response, error: OpenAiError, service: Service
) -> AssistantError | Transient:
    """The general words for a failed status, with the server's own and its Retry-After."""
    return status_error(
        response.status_code,
        service,
        error.detail,
        code=error.code,
        retry_after=retry_after(response.headers.get("retry-after")),
    )


__all__ = [
    "ERROR_BODY_BYTES",
    "OpenAiError",
    "openai_error",
    "openai_status_error",
    "parse_openai_error",
    "read_openai_error",
]
