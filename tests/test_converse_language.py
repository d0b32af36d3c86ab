"""`assistant converse`: each finished turn says the language its question was heard in (`--json`
has "language"; the plain lines name it when it is not English), over a real turn controller."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from assistant.converse import TurnReport
from assistant.core.conversation import Conversation
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


async def spoken_then_typed(controller: TurnController, report: TurnReport) -> None:
    controller.events.connect(report.observe)
    controller.press()
    await asyncio.sleep(0)
    controller.release()
    await controller.wait()
    controller.send_text("And this was typed.")
    await controller.wait()


async def test_json_lines_carry_the_language_of_each_question(
    controller: TurnController, capsys: pytest.CaptureFixture[str]
) -> None:
    await spoken_then_typed(controller, TurnReport(as_json=True))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["transcript"], line["language"]) for line in lines] == [
        ("Wie spät ist es?", "de"),
        ("And this was typed.", None),
    ]
    assert lines[0]["reply"] == MemoryChat().reply


async def test_plain_lines_name_a_language_other_than_english(
    controller: TurnController, capsys: pytest.CaptureFixture[str]
) -> None:
    await spoken_then_typed(controller, TurnReport(as_json=False))
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("You")]
    assert said == ["You (Deutsch): Wie spät ist es?", "You: And this was typed."]
