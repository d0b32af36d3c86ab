"""The models an OpenAI-compatible server offers (`GET {base_url}/models`: OpenAI, Ollama,
LM Studio, llama.cpp, vLLM...), for the model field in Settings > Language model.

Asked once when a person looks (the address became valid, the list was opened): like the Test
button, it is never retried and never waits long, and what it reads is bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

from assistant.core.endpoints import check_endpoint
from assistant.core.errors import ServiceError
from assistant.providers.http import (
    Deadline,
    KeyOrigin,
    Service,
    Transient,
    checked_key,
    key_origin,
    key_sent_to,
    openai_status_error,
    parse_openai_error,
    read_capped,
    readable,
    stream_within,
    translated,
)

# A listing with descriptions (OpenRouter's) runs to a few hundred KB; more is not a model list.
MAX_LISTING_BYTES = 4 * 1024 * 1024
MAX_MODELS = 2_000  # offered at most in the list
MAX_NAME_CHARS = 200  # a model's name longer than this is no name
# A person is looking at the field: answer within seconds, or say why not.
LIST_READ_TIMEOUT = 10.0
LIST_DEADLINE = 20.0


async def list_models(
    client: httpx.AsyncClient,
    base_url: str,
    api_key: str | None,
    *,
    key: KeyOrigin | None = None,  # which key it is and where it came from, for messages
    lan_http_hosts: Iterable[str] = (),
) -> list[str]:
    """The names of the models the server at `base_url` serves, sorted; raises an AssistantError
    that says what went wrong (no listing there, the key refused, not reachable...)."""
    key = key or key_origin("llm_api_key")
    url = check_endpoint(base_url, "chat endpoint", lan_http_hosts=lan_http_hosts) + "/models"
    checked = checked_key(api_key, key)
    sent = key_sent_to(url, checked)
    service = Service(
        "chat service",
        url,
        "the chat endpoint in Settings",
        key,
        sent is not None,
        key_withheld=checked is not None and sent is None,
        slow_hint="Try again, or type the model's name.",
        deadline_words="to list its models",
    )
    response, body, too_long = await _get(client, service, sent)
    host = service.host
    if response.status_code in (404, 405):
        raise ServiceError(
            f"The chat service at {host} does not list its models at {urlsplit(url).path} "
            f"({response.status_code}). Type the model's name, or check the address; it usually "
            "ends in /v1."
        )
    if not response.is_success:
        error = openai_status_error(response, parse_openai_error(body, sent), service)
        raise error.error if isinstance(error, Transient) else error
    if too_long:
        raise ServiceError(
            f"The chat service at {host} sent a list of models larger than "
            f"{MAX_LISTING_BYTES // 2**20} MB, so it was not read. Type the model's name."
        )
    names = model_names(body)
    if names is None:
        raise ServiceError(
            f"The chat service at {host} answered {urlsplit(url).path} with something other "
            "than a list of models. Check the address (it usually ends in /v1), or type the "
            "model's name."
        )
    return names


async def _get(
    client: httpx.AsyncClient, service: Service, key: str | None
) -> tuple[httpx.Response, bytes, bool]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    timeout = httpx.Timeout(LIST_READ_TIMEOUT, connect=client.timeout.connect)
    deadline = Deadline(LIST_DEADLINE)
    try:
        with translated(service) as call:
            async with stream_within(
                client, "GET", service.url, deadline, headers=headers, timeout=timeout
            ) as response:
                call.answering = True
                body, too_long = await read_capped(response, MAX_LISTING_BYTES, deadline)
    except Transient as failure:  # asked once: a person is waiting for the list
        raise failure.error from failure.__cause__
    return response, body, too_long


def model_names(listing: bytes) -> list[str] | None:
    """The model names in an OpenAI-style listing (`{"data": [{"id": ...}]}`, or Ollama's own
    `{"models": [{"name": ...}]}`), sorted, each once, fit to show; None when it is not one."""
    try:
        payload = json.loads(listing)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    entries = payload.get("data", payload.get("models"))
    if not isinstance(entries, list):
        return None
    names = {name for entry in entries[: MAX_MODELS * 2] if (name := _name_of(entry))}
    return sorted(names, key=str.casefold)[:MAX_MODELS]


def _name_of(entry: object) -> str | None:
    """An entry's name on one line without control characters; None if it has no usable one."""
    name = (entry.get("id") or entry.get("name")) if isinstance(entry, dict) else None
    if not isinstance(name, str):
        return None
    shown = " ".join(readable(name).split())
    return shown if 0 < len(shown) <= MAX_NAME_CHARS else None


__all__ = ["MAX_LISTING_BYTES", "list_models", "model_names"]
