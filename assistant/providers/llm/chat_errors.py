"""The chat service's own words for what went wrong: a model it does not have, a reply without a
word of text, an error sent inside the stream, Ollama not running. Everything an
OpenAI-compatible server says the same way for chat, speech and transcription (its error body, a
status) is worded once in `providers/http/openai_errors.py`; this adds only the chat's cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

import httpx

from assistant.core.errors import AssistantError, RateLimitError, ReplyCutOff, ServiceError
from assistant.providers.http import (
    Service,
    Transient,
    openai_status_error,
    parse_openai_error,
    status_error,
)
from assistant.providers.llm.chat_chunks import CUT_REASONS, ReplySeen, cut_words

_MISSING_MODEL = re.compile(r"not[ _]?found|not[ _]?exist|no such|unknown|does not have access")


class Ollama(Enum):
    """Where an Ollama server is (known by its port, 11434), for words about starting it."""

    NONE = "none"
    HERE = "here"  # on this computer
    AT_HOME = "at home"  # on another computer of the home network


def ollama_refused_words(ollama: Ollama, host: str) -> str:
    """What to say when Ollama refused the connection ("" when the server is no Ollama)."""
    if ollama is Ollama.HERE:
        return (
            f"Could not connect to Ollama at {host}. Is Ollama running? Start it "
            "(ollama serve) or choose another endpoint in Settings."
        )
    if ollama is Ollama.AT_HOME:  # Ollama listens only on its own computer unless told
        return (
            f"Could not connect to Ollama at {host}. Is it running on that computer, and "
            "listening on the network? Start it there with OLLAMA_HOST=0.0.0.0 ollama serve, "
            "or check the address in Settings."
        )
    return ""


@dataclass(frozen=True)
class ChatFailures:
    """The words for one chat service's failures."""

    service: Service
    model: str
    ollama: Ollama
    api_key: str | None  # masked wherever the server quotes it

    @property
    def host(self) -> str:
        return self.service.host

    def for_status(self, response: httpx.Response, body: bytes) -> AssistantError | Transient:
        """A failed HTTP status, with the server's words."""
        status = response.status_code
        error = parse_openai_error(body, self.api_key)
        if status in (400, 404) and _names_missing_model(error.detail, error.code):
            return ServiceError(self.missing_model())
        if status == 404:
            return ServiceError(
                f"{self.host} has no chat service at {urlsplit(self.service.url).path} (404). "
                "Check the chat endpoint in Settings; it usually ends in /v1."
            )
        return openai_status_error(response, error, self.service)

    def missing_model(self) -> str:
        if self.ollama is Ollama.NONE:
            return (
                f"The model '{self.model}' is not available on {self.host}. Pick another model "
                "in Settings."
            )
        there = " on that computer" if self.ollama is Ollama.AT_HOME else ""
        return (
            f"The model '{self.model}' is not available on {self.host}. Pick another model in "
            f"Settings, or download it{there} with: ollama pull {self.model}"
        )

    def in_stream(self, data: str, *, retryable: bool = False) -> ServiceError:
        """An error the service reported inside the stream (an `error` event or field)."""
        error = parse_openai_error(data.encode(), self.api_key)
        detail = error.detail or "no details given"
        if "insufficient_quota" in error.code:
            return RateLimitError(
                f"The chat service at {self.host} says the account's quota is used up. The "
                f"server said: {detail}. Check the plan and billing with the provider."
            )
        return ServiceError(
            f"The chat service reported an error in the middle of the reply: {detail}. Try again.",
            retryable=retryable,
        )

    def without_text(self, reply: ReplySeen) -> AssistantError:
        """Why a reply that ended without a word of text had none, in words."""
        where = f"The chat service at {self.host}"
        if reply.events == 0 and reply.head.strip():
            # Not a stream of events at all: an error body sent under an event-stream type.
            sent = parse_openai_error(reply.head, self.api_key)
            if sent.detail:
                error = status_error(200, self.service, sent.detail, code=sent.code)
                if isinstance(error, RateLimitError):
                    return error
                return ServiceError(
                    f"{where} sent an error instead of a reply.{sent.said} Check the chat "
                    "settings, or try again."
                )
        if reply.finish_reason in CUT_REASONS:
            return ReplyCutOff(cut_words(reply.finish_reason, before_any_text=True))
        if reply.tool_calls:
            return ServiceError(
                f"The model '{self.model}' asked to use a tool instead of answering in words, "
                "and this assistant offers it none. Ask again, or choose another model in Settings."
            )
        if reply.reasoning:
            return ServiceError(
                f"The model '{self.model}' only thought about the question and sent no answer "
                "(its reasoning is not spoken). Ask again, or choose another model in Settings."
            )
        return ServiceError(
            f"{where} ended the reply without any text. Try again; if it keeps happening, "
            "choose another model in Settings."
        )


def _names_missing_model(message: str, code: str) -> bool:
    if code == "model_not_found":
        return True
    text = message.lower()
    return "model" in text and _MISSING_MODEL.search(text) is not None


__all__ = ["ChatFailures", "Ollama", "ollama_refused_words"]
