"""Sound devices failing under the real app (build_services: the real Microphone and Speaker on the
virtual sound card, the tiny.en model, loopback chat and voice servers): a microphone or speaker
unplugged mid-turn, no sound server at all, a sound card held by another program, the app stopped
for a second while recording. Each time the turn ends within a deadline with a message saying what
to do, nothing is left running, and the next turn works once the device is back.
docs/reliability.md ("Audio devices") tabulates them.

Measured figures are printed (run with -s to see them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.audio.files import read_audio
from assistant.audio.microphone import FIRST_BLOCK_LIMIT
from assistant.audio.speaker import STALL_SECONDS
from assistant.core.events import (
    Event,
    InputLevel,
    Notice,
    ReplyDelta,
    SentenceStarted,
    StateChanged,
    TurnFinished,
    TurnState,
)
from tests.reliability.harness import Assistant, settled, until
from tests.support.chat_server import ChatServer
from tests.support.loopback import TlsFiles
from tests.support.pulse import VirtualSoundCard, similarity
from tests.support.speech import SPEECH, references, word_error_rate
from tests.support.tts_servers import OpenAiSpeechServer

pytestmark = [pytest.mark.audio, pytest.mark.timeout(120)]

# Each sentence's voice lasts 60 ms a character (tests.support.tts_servers.tone): 1.2 s and more.
REPLY = "First sentence here. The second one follows it. And the third ends the reply."
FIRST = "First sentence here."
SHORT = "ds_2830-3980-0043.wav"  # "Experience proves this", 2 s
LOST_MICROPHONE = r"microphone .* stopped delivering sound \(was it unplugged\?\).*Settings > Audio"
LOST_SPEAKER = r"speaker .*(stopped|unplugged).*Settings > Audio"
MICROPHONE_DEADLINE = 1.0  # unplugged → the turn is over, Talk still held
SPEAKER_DEADLINE = 3.0  # unplugged → the turn is over
UNPLUG_RUNS = 5


class App:
    """An assistant wired by build_services, the servers it talks to, and what it said."""

    def __init__(self, assistant: Assistant, chat: ChatServer, card: VirtualSoundCard) -> None:
        self.assistant = assistant
        self.controller = assistant.controller
        self.chat = chat
        self.card = card
        self.events: list[Event] = []
        self.controller.events.connect(self.events.append)

    def errors(self) -> list[str]:
        return [e.message for e in self.events if isinstance(e, Notice) and e.is_error]

    def finished(self) -> list[TurnFinished]:
        return [e for e in self.events if isinstance(e, TurnFinished)]

    def stored(self) -> list[tuple[str, str, str, str | None]]:
        """The history: each message as shown, how it ended, and what of it was heard."""
        store = self.assistant.services.history
        conversation = self.controller.history.conversation_id
        if store is None or conversation is None:
            return []
        return [(m.role, m.text, m.state, m.heard) for m in store.messages(conversation)]

    async def press(self) -> None:
        """Press Talk and wait until the microphone delivers sound."""
        self.events.clear()
        self.controller.press()
        await until(lambda: any(isinstance(e, InputLevel) for e in self.events), 10, "the mic")

    async def say(self, clip: str) -> None:
        """A whole voice turn: the clip into the microphone, let go, the reply spoken."""
        await self.press()
        await self.card.play_file(SPEECH / clip).finished(30)
        await asyncio.sleep(0.3)
        self.controller.release()
        await asyncio.wait_for(self.controller.wait(), 60)

    async def ask(self, text: str = "Tell me something.") -> None:
        """A typed turn, to its end."""
        self.events.clear()
        self.controller.send_text(text)
        await asyncio.wait_for(self.controller.wait(), 30)

    async def ended_with_error(self, deadline: float) -> float:
        """Wait until the turn has failed; how long that took."""
        began = time.monotonic()
        await until(lambda: self.controller.state is TurnState.ERROR, deadline, "the error")
        await asyncio.wait_for(self.controller.wait(), 1.0)
        return time.monotonic() - began


@contextlib.asynccontextmanager
async def app(
    card: VirtualSoundCard, loopback: Any, tls: TlsFiles, tmp_path: Path, *, listens: bool = True
) -> AsyncIterator[App]:
    chat = ChatServer(REPLY)
    voice = OpenAiSpeechServer(api_key=None)
    assistant = Assistant.build(
        loopback(chat.handler).url, "openai", loopback(voice.handler).url, tls, tmp_path / "h"
    )
    try:
        if listens:
            assistant.controller.start()
            await assistant.controller.wait_ready()
            assert assistant.controller.state is TurnState.READY
        yield App(assistant, chat, card)
    finally:
        await assistant.aclose()


def unplug(card: VirtualSoundCard) -> float:
    """Pull the sound card out; the moment it was gone."""
    card.unload_sink()
    return time.monotonic()


def speaker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "speaker-writer"]


def assert_understood(app: App) -> None:
    said = app.chat.received[-1][-1]["content"]
    assert word_error_rate(references()[SHORT], said) <= 0.2, said


# --- the microphone ---


async def test_a_microphone_unplugged_mid_recording_ends_the_turn_while_talk_is_held(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: TlsFiles, tmp_path: Path
) -> None:
    async with app(virtual_sound_card, loopback, tls, tmp_path) as assistant:
        before = await settled(0)
        await assistant.press()
        speech = virtual_sound_card.play_file(SPEECH / SHORT)  # mid-sentence
        await asyncio.sleep(0.5)
        try:
            await asyncio.to_thread(unplug, virtual_sound_card)
            took = await assistant.ended_with_error(MICROPHONE_DEADLINE)
        finally:
            await asyncio.to_thread(speech.stop)
            await asyncio.to_thread(virtual_sound_card.reload_sink)
        print(f"\nunplugged microphone: turn over {took * 1000:.0f} ms later")

        [message] = assistant.errors()
        assert re.search(LOST_MICROPHONE, message), message
        assert "press Talk to try again" in message
        [finished] = assistant.finished()  # the latency view and --json still see the turn
        assert (finished.user_text, finished.reply_text) == ("", "")
        assert TurnState.TRANSCRIBING not in [
            e.state for e in assistant.events if isinstance(e, StateChanged)
        ]
        assert assistant.chat.received == [] and assistant.stored() == []
        assistant.controller.release()  # the user lets go after all: nothing more happens
        assert await settled(1.0) <= before

        await assistant.say(SHORT)  # plugged back in: the next press works
        assert assistant.errors() == [] and assistant.controller.state is TurnState.READY
        assert_understood(assistant)


async def test_an_unplugged_microphone_is_noticed_within_half_a_second(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: TlsFiles, tmp_path: Path
) -> None:
    noticed: list[float] = []
    async with app(virtual_sound_card, loopback, tls, tmp_path) as assistant:
        failed_at: list[float] = []

        def stamp(event: Event) -> None:
            if isinstance(event, StateChanged) and event.state is TurnState.ERROR:
                failed_at.append(time.monotonic())

        assistant.controller.events.connect(stamp)
        for _ in range(UNPLUG_RUNS):
            failed_at.clear()
            await assistant.press()
            await asyncio.sleep(0.3)
            try:
                unplugged = await asyncio.to_thread(unplug, virtual_sound_card)
                await until(lambda: bool(failed_at), MICROPHONE_DEADLINE, "the error")
            finally:
                await asyncio.to_thread(virtual_sound_card.reload_sink)
            noticed.append(max(0.0, failed_at[0] - unplugged))
    median = statistics.median(noticed)
    print(
        f"\nunplugged microphone to Error: median {median * 1000:.0f} ms "
        f"({', '.join(f'{t * 1000:.0f}' for t in noticed)} ms)"
    )
    assert median < 0.5


# --- the speaker ---


async def test_a_speaker_unplugged_mid_reply_ends_the_turn_and_keeps_what_was_heard(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: TlsFiles, tmp_path: Path
) -> None:
    async with app(virtual_sound_card, loopback, tls, tmp_path, listens=False) as assistant:
        before = await settled(0)
        assistant.events.clear()
        assistant.controller.send_text("Tell me something.")
        await until(
            lambda: any(isinstance(e, SentenceStarted) for e in assistant.events), 10, "speech"
        )
        await asyncio.sleep(0.4)  # a third of the first sentence has been heard
        try:
            await asyncio.to_thread(unplug, virtual_sound_card)
            took = await assistant.ended_with_error(SPEAKER_DEADLINE)
        finally:
            await asyncio.to_thread(virtual_sound_card.reload_sink)
        print(f"\nunplugged speaker: turn over {took * 1000:.0f} ms later")

        [message] = assistant.errors()
        assert re.search(LOST_SPEAKER, message), message
        [finished] = assistant.finished()
        assert finished.interrupted and finished.reply_text == FIRST
        shown = "".join(e.text for e in assistant.events if isinstance(e, ReplyDelta))
        assert assistant.stored() == [
            ("user", "Tell me something.", "complete", None),
            ("assistant", shown, "interrupted", FIRST),
        ]
        remembered = assistant.controller.conversation.messages()[-1]
        assert remembered.role == "assistant" and remembered.content.startswith(FIRST)
        assert "second" not in remembered.content
        assert await settled(1.0) <= before
        assert speaker_threads() == []

        await assistant.ask()  # plugged back in: the next reply is spoken whole
        assert assistant.errors() == [] and assistant.controller.state is TurnState.READY
        [finished] = assistant.finished()
        assert not finished.interrupted
        assert all(s.last_sample is not None for s in finished.timeline.sentences)


# --- no sound server, and a sound card another program holds ---


async def test_without_any_sound_device_the_user_is_told_and_the_app_keeps_running(
    virtual_sound_card: VirtualSoundCard,
    no_sound_card: None,
    monkeypatch: pytest.MonkeyPatch,
    loopback: Any,
    tls: TlsFiles,
    tmp_path: Path,
) -> None:
    async with app(virtual_sound_card, loopback, tls, tmp_path) as assistant:
        before = await settled(0)
        assistant.events.clear()
        assistant.controller.press()
        await asyncio.wait_for(assistant.controller.wait(), 10)
        [no_microphone] = assistant.errors()
        assert assistant.controller.state is TurnState.ERROR
        await assistant.ask()
        [no_speaker] = assistant.errors()
        assert assistant.controller.state is TurnState.ERROR
        assert await settled(1.0) <= before

        monkeypatch.undo()  # the sound server is back
        await assistant.say(SHORT)
        assert assistant.errors() == [] and assistant.controller.state is TurnState.READY
        assert_understood(assistant)
    print(f"\nno microphone: {no_microphone}\nno speaker: {no_speaker}")
    assert no_microphone.startswith("No microphone was found. Connect one"), no_microphone
    assert no_speaker.startswith("No speaker was found. Connect one"), no_speaker


@contextlib.asynccontextmanager
async def held_by_another_program(card: VirtualSoundCard) -> AsyncIterator[None]:
    """What `pasuspender -- PROGRAM` does so that PROGRAM can have the sound card to itself:
    PulseAudio suspends every device until PROGRAM (here `cat`, until its input ends) exits."""
    holder = await asyncio.create_subprocess_exec(
        "pasuspender",
        f"--server={card.server}",
        "--",
        "cat",
        env={**os.environ, **card.env},
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if "SUSPENDED" in await asyncio.to_thread(card_state, card):
                break
            assert holder.returncode is None, "pasuspender ended early"
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the sound card was not suspended within 5 s")
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # cat ends, and pasuspender resumes the devices
        try:
            await asyncio.wait_for(holder.wait(), 5)
        except TimeoutError:
            holder.kill()
            await asyncio.wait_for(holder.wait(), 5)


def card_state(card: VirtualSoundCard) -> str:
    return subprocess.run(
        ["pactl", f"--server={card.server}", "list", "short", "sinks"],
        env={**os.environ, **card.env},
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    ).stdout


async def test_a_microphone_held_by_another_program_is_reported_and_works_once_free(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: TlsFiles, tmp_path: Path
) -> None:
    async with app(virtual_sound_card, loopback, tls, tmp_path) as assistant:
        before = await settled(0)
        async with held_by_another_program(virtual_sound_card):
            assistant.events.clear()
            assistant.controller.press()  # and held: the microphone opens, but stays silent
            took = await assistant.ended_with_error(FIRST_BLOCK_LIMIT + 1.0)
        print(f"\nmicrophone held elsewhere: turn over {took * 1000:.0f} ms after the press")
        [message] = assistant.errors()
        assert "gave no sound at all: another program may be holding it" in message, message
        assert [e for e in assistant.events if isinstance(e, InputLevel)] == []
        assert await settled(1.0) <= before

        await assistant.say(SHORT)
        assert assistant.errors() == [] and assistant.controller.state is TurnState.READY
        assert_understood(assistant)


async def test_a_speaker_held_by_another_program_ends_the_reply_and_works_once_free(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: TlsFiles, tmp_path: Path
) -> None:
    async with app(virtual_sound_card, loopback, tls, tmp_path, listens=False) as assistant:
        before = await settled(0)
        async with held_by_another_program(virtual_sound_card):
            assistant.events.clear()
            assistant.controller.send_text("Tell me something.")
            took = await assistant.ended_with_error(STALL_SECONDS + 2.0)
            threads_left = speaker_threads()
        print(f"\nspeaker held elsewhere: turn over {took * 1000:.0f} ms after sending")
        [message] = assistant.errors()
        assert "stopped taking sound: another program may be holding it" in message, message
        [finished] = assistant.finished()
        assert finished.interrupted
        assert threads_left == []  # given up, not stuck inside PortAudio until the card is free
        [question, reply] = assistant.stored()
        assert question[0] == "user" and reply[0] == "assistant" and reply[2] == "interrupted"
        assert await settled(1.0) <= before

        await assistant.ask()
        assert assistant.errors() == [] and assistant.controller.state is TurnState.READY
        [finished] = assistant.finished()
        assert all(s.last_sample is not None for s in finished.timeline.sentences)


# --- a computer too busy to run the app for a moment ---

# The microphone in a child process, so that the whole process can be stopped (SIGSTOP) the way a
# swapping or overloaded computer stops it, without stopping the test. argv: seconds, output file.
RECORDING_CHILD = """
import asyncio, json, sys
from pathlib import Path
from assistant.audio.microphone import Microphone

async def main(seconds, out):
    microphone = Microphone()
    await microphone.start()
    lost = asyncio.Event()
    microphone.when_lost(lost.set)
    print("recording", flush=True)
    await asyncio.sleep(seconds)
    try:
        recording = await microphone.stop()
    except Exception as error:
        print(json.dumps({"error": str(error), "lost": lost.is_set()}), flush=True)
        return
    Path(out).write_bytes(recording.pcm)
    print(json.dumps({"overflows": recording.overflows, "lost": lost.is_set()}), flush=True)

asyncio.run(main(float(sys.argv[1]), sys.argv[2]))
"""


async def test_an_app_stopped_for_a_second_mid_recording_loses_nothing_and_is_not_unplugged(
    virtual_sound_card: VirtualSoundCard, tmp_path: Path
) -> None:
    out = tmp_path / "heard.pcm"
    root = Path(__file__).parents[2]
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RECORDING_CHILD, "4.0", str(out),
        env={**os.environ, **virtual_sound_card.env, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        assert line == b"recording\n", line
        speech = virtual_sound_card.play_file(SPEECH / SHORT)  # 2 s
        await asyncio.sleep(0.7)
        child.send_signal(signal.SIGSTOP)  # mid-sentence, for a second
        await asyncio.sleep(1.0)
        child.send_signal(signal.SIGCONT)
        await speech.finished(30)
        result = json.loads(await asyncio.wait_for(child.stdout.readline(), 30))
        await asyncio.wait_for(child.wait(), 10)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()

    assert result == {"overflows": 0, "lost": False}, result
    heard = np.frombuffer(out.read_bytes(), dtype=np.int16)
    reference = np.frombuffer(read_audio(SPEECH / SHORT), dtype=np.int16)
    _, likeness = similarity(reference, 16_000, heard, 16_000)
    assert likeness > 0.95, f"the sentence was not recorded whole (r={likeness:.3f})"
