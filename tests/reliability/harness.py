"""A real assistant (build_services: the app-wide client, the real providers, the real speaker on
the virtual sound card, a history file in a temporary folder) pointed at loopback servers, and one
typed turn at a time, with what the user saw: notices, the reply, how it ended, how long it took."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.app import Services, build_services
from assistant.config import Secrets, Settings
from assistant.core.events import Event, Notice, ReplyDelta, TurnFinished, TurnState

LLM_KEY = "sk-reliability-llm-key"
OPENAI_KEY = "sk-reliability-openai-key"
VOLCANO_TOKEN = "volc-reliability-token"
APP_ID = "app-1"
RATE = 24_000


def short_audio(text: str) -> bytes:
    """About 0.12 s of a tone per sentence: audible, quick to play, recognisable per text."""
    frequency = 300 + sum(map(ord, text)) % 500
    t = np.arange(int(0.12 * RATE)) / RATE
    return (np.sin(2 * np.pi * frequency * t) * 6000).astype("<i2").tobytes()


def settings_for(
    chat_url: str, voice: str, voice_url: str, ca_file: str, read_timeout: float = 1.0
) -> Settings:
    settings = Settings()
    settings.llm.base_url = f"{chat_url}/v1"
    settings.llm.model = "test-model"
    settings.tts.provider = voice  # type: ignore[assignment]
    if voice == "openai":
        settings.tts.openai.base_url = f"{voice_url}/v1"
    elif voice == "volcano":
        settings.tts.volcano.endpoint = f"{voice_url}/api/v1/tts"
        settings.tts.volcano.appid = APP_ID
    elif voice == "volcano_v3":
        settings.tts.volcano_v3.endpoint = f"{voice_url}/api/v3/tts/unidirectional"
        settings.tts.volcano_v3.appid = APP_ID
        settings.tts.volcano_v3.speaker = "test-speaker"
    settings.network.ca_file = ca_file
    settings.network.read_timeout = read_timeout
    settings.network.connect_timeout = 2.0
    return settings


@dataclass
class Outcome:
    """What one turn showed the user."""

    events: list[Event]
    seconds: float
    finished: TurnFinished | None = None
    notices: list[Notice] = field(default_factory=list)
    shown: str = ""  # the reply text as it appeared on screen
    state: TurnState | None = None  # where the turn left the assistant

    @property
    def errors(self) -> list[str]:
        return [n.message for n in self.notices if n.is_error]

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and self.finished is not None
            and not self.finished.interrupted
            and self.state is TurnState.READY
        )


class Assistant:
    """One assistant on loopback endpoints. Close with `await assistant.aclose()`."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.controller = services.controller

    @classmethod
    def build(
        cls,
        chat_url: str,
        voice: str,
        voice_url: str,
        tls: Any,
        history: Path,
        read_timeout: float = 1.0,
    ) -> Assistant:
        settings = settings_for(chat_url, voice, voice_url, str(tls.ca_file), read_timeout)
        secrets = Secrets(
            llm_api_key=LLM_KEY, openai_api_key=OPENAI_KEY, volcano_token=VOLCANO_TOKEN
        )
        return cls(build_services(settings, secrets, history_path=history))

    async def turn(self, text: str = "Tell me something.", within: float = 30.0) -> Outcome:
        events: list[Event] = []
        self.controller.events.connect(events.append)
        started = time.monotonic()
        try:
            self.controller.send_text(text)
            async with asyncio.timeout(within):
                await self.controller.wait()
        finally:
            self.controller.events.disconnect(events.append)
        outcome = Outcome(events, time.monotonic() - started, state=self.controller.state)
        for event in events:
            if isinstance(event, Notice):
                outcome.notices.append(event)
            elif isinstance(event, TurnFinished):
                outcome.finished = event
            elif isinstance(event, ReplyDelta):
                outcome.shown += event.text
        return outcome

    def pool(self) -> tuple[int, int]:
        """Connections in the client's pool, and how many of them are busy (not idle)."""
        transport = self.services.client._transport  # the counting wrapper
        pool = transport._inner._pool  # type: ignore[attr-defined]
        connections = list(pool.connections)
        return len(connections), sum(1 for c in connections if not c.is_idle())

    async def aclose(self) -> None:
        await self.services.aclose()


async def settled(seconds: float = 0.5) -> set[asyncio.Task[Any]]:
    """The tasks still alive besides the current one, once they had `seconds` to finish."""
    me = asyncio.current_task()
    deadline = time.monotonic() + seconds
    while True:
        alive = {t for t in asyncio.all_tasks() if t is not me and not t.done()}
        if not alive or time.monotonic() > deadline:
            return alive
        await asyncio.sleep(0.02)


async def until(condition: Any, seconds: float, what: str) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")
