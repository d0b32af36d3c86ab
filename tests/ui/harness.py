"""What the GUI tests share: a real turn controller on the in-memory devices and services, and an
await-based wait (pytest-qt's waitUntil deadlocks inside async tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from assistant.core.conversation import Conversation
from assistant.core.protocols import ProgressListener
from assistant.core.reply_speaker import ReplySpeaker
from assistant.core.turn import TurnController, TurnOptions
from tests.support.memory import (
    Counter,
    MemoryChat,
    MemoryInput,
    MemoryOutput,
    MemorySynthesizer,
    MemoryTranscriber,
)

_DEFAULT = object()
CREATED: list[TurnController] = []  # closed after each test by the `closing` fixture


def make_controller(
    *,
    chat: MemoryChat | None | object = _DEFAULT,
    transcriber: MemoryTranscriber | None = None,
    microphone: MemoryInput | None = None,
    synthesizer: MemorySynthesizer | None = None,
    time_scale: float = 0.2,
    options: TurnOptions | None = None,
) -> TurnController:
    """A controller whose speaker 'plays' each sentence's 50 ms tone in `time_scale` of that."""
    controller = TurnController(
        microphone=microphone or MemoryInput(),
        transcriber=transcriber or MemoryTranscriber(),
        chat=MemoryChat() if chat is _DEFAULT else chat,  # type: ignore[arg-type]
        speaker=ReplySpeaker(synthesizer or MemorySynthesizer(), MemoryOutput(time_scale)),
        conversation=Conversation("You are a test.", 10_000),
        connections=Counter(),
        options=options,
    )
    CREATED.append(controller)
    return controller


async def close_controllers() -> None:
    while CREATED:
        await CREATED.pop().aclose()


async def until(condition: Callable[[], object], seconds: float = 5.0, what: str = "") -> None:
    """Wait (on the event loop) until `condition()` is true; fail after `seconds`."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {seconds} s waiting for {what or condition}")


class SlowLoadingTranscriber(MemoryTranscriber):
    """Stays 'loading' until `loaded` is set, or fails to load with `error`."""

    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.loaded = asyncio.Event()
        self.error = error

    async def load(self, progress: ProgressListener | None = None) -> None:
        await self.loaded.wait()
        if self.error is not None:
            raise self.error
