"""The language a question was heard in travels with it (UserSaid.language), to the window and
`--json`: a voice turn and dictation carry the transcriber's answer; a typed message, none."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from assistant.core.conversation import Conversation
from assistant.core.events import Event, UserSaid
from assistant.core.protocols import Recording, Transcript
from assistant.core.reply_speaker import ReplySpeaker
from assistant.core.turn import TurnController
from tests.support.memory import (
    Counter,
    MemoryChat,
    MemoryInput,
    MemoryOutput,
    MemorySynthesizer,
    MemoryTranscriber,
)


@dataclass
class GermanTranscriber(MemoryTranscriber):
    text: str = "Wie spät ist es?"

    async def transcribe(self, recording: Recording) -> Transcript:
        await asyncio.sleep(0)
        return Transcript(self.text, "de")


@pytest.fixture
async def controller() -> AsyncIterator[TurnController]:
    controller = TurnController(
        microphone=MemoryInput(),
        transcriber=GermanTranscriber(),
        chat=MemoryChat(),
        speaker=ReplySpeaker(MemorySynthesizer(), MemoryOutput(0.0)),
        conversation=Conversation("You are a test.", 10_000),
        connections=Counter(),
    )
    controller.start()
    await controller.wait_ready()
    yield controller
    await controller.aclose()


def said(events: list[Event]) -> list[tuple[str, str | None]]:
    return [(e.text, e.language) for e in events if isinstance(e, UserSaid)]


async def voice_turn(controller: TurnController) -> None:
    controller.press()
    await asyncio.sleep(0)
    controller.release()
    await controller.wait()


async def test_a_spoken_question_carries_the_language_it_was_heard_in(
    controller: TurnController,
) -> None:
    events: list[Event] = []
    controller.events.connect(events.append)
    await voice_turn(controller)
    controller.send_text("And this one was typed.")
    await controller.wait()
    assert said(events) == [("Wie spät ist es?", "de"), ("And this one was typed.", None)]


async def test_dictation_carries_the_language_too(controller: TurnController) -> None:
    events: list[Event] = []
    controller.events.connect(events.append)
    controller.dictation = True
    await voice_turn(controller)
    assert said(events) == [("Wie spät ist es?", "de")]
