"""The turn controller: every path of a turn ends back at Ready (or a clear error), barge-in
keeps what was heard, and the next turn starts clean."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from assistant.core.conversation import Conversation
from assistant.core.errors import DeviceError, ModelMissing, ServiceError
from assistant.core.events import (
    Event,
    Notice,
    SentenceStarted,
    StateChanged,
    TurnFinished,
    TurnState,
    UserSaid,
)
from assistant.core.reply_speaker import ReplySpeaker
from assistant.core.turn import NOTHING_HEARD, TOO_SHORT, TurnController, TurnOptions
from tests.support.memory import (
    Counter,
    MemoryChat,
    MemoryInput,
    MemoryOutput,
    MemorySynthesizer,
    MemoryTranscriber,
)


class Rig:
    def __init__(self, *, time_scale: float = 0.0, **parts: object) -> None:
        self.microphone = parts.get("microphone") or MemoryInput()
        self.transcriber = parts.get("transcriber") or MemoryTranscriber()
        self.chat = parts.get("chat") or MemoryChat()
        self.synth = MemorySynthesizer()
        self.output = MemoryOutput(time_scale=time_scale)
        self.conversation = Conversation("Be brief.", 10_000)
        self.controller = TurnController(
            microphone=self.microphone,  # type: ignore[arg-type]
            transcriber=self.transcriber,  # type: ignore[arg-type]
            chat=self.chat,  # type: ignore[arg-type]
            speaker=ReplySpeaker(self.synth, self.output),
            conversation=self.conversation,
            connections=Counter(),
            options=parts.get("options") or TurnOptions(),  # type: ignore[arg-type]
        )
        self.events: list[Event] = []
        self.controller.events.connect(self.events.append)

    def states(self) -> list[TurnState]:
        return [e.state for e in self.events if isinstance(e, StateChanged)]

    def notices(self) -> list[str]:
        return [e.message for e in self.events if isinstance(e, Notice)]

    async def until(self, condition: Callable[[], bool], seconds: float = 5.0) -> None:
        for _ in range(int(seconds / 0.01)):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("condition not reached in time")

    async def voice_turn(self) -> None:
        self.controller.press()
        await self.until(lambda: self.controller.state is TurnState.LISTENING)
        self.controller.release()
        await self.controller.wait()


@pytest.fixture
async def rig() -> Rig:
    rig = Rig()
    rig.controller.start()
    await rig.controller.wait_ready()
    return rig


async def test_a_voice_turn_goes_through_every_state_and_back_to_ready(rig: Rig) -> None:
    await rig.voice_turn()
    assert rig.states() == [
        TurnState.LOADING,
        TurnState.READY,
        TurnState.LISTENING,
        TurnState.TRANSCRIBING,
        TurnState.THINKING,
        TurnState.SPEAKING,
        TurnState.READY,
    ]
    finished = [e for e in rig.events if isinstance(e, TurnFinished)]
    assert len(finished) == 1 and not finished[0].interrupted
    assert finished[0].reply_text == rig.chat.reply
    spoken = [e.text for e in rig.events if isinstance(e, SentenceStarted)]
    assert "".join(spoken).strip() == rig.chat.reply
    assert rig.synth.warmed == 1  # the voice's connection was warmed on press
    timeline = finished[0].timeline
    assert timeline.input_end and timeline.transcript_ready and timeline.first_token
    assert timeline.first_audio() is not None


async def test_the_conversation_is_remembered_across_turns(rig: Rig) -> None:
    await rig.voice_turn()
    rig.transcriber.text = "And tomorrow?"
    await rig.voice_turn()
    second_request = rig.chat.received[1]
    assert [m.role for m in second_request] == ["system", "user", "assistant", "user"]
    assert second_request[-1].content == "And tomorrow?"


async def test_a_tap_gives_a_hint_instead_of_sending_silence(rig: Rig) -> None:
    rig.microphone.pcm = b"\x00\x00" * 1600  # 0.1 s
    await rig.voice_turn()
    assert TOO_SHORT in rig.notices()
    assert rig.controller.state is TurnState.READY
    assert rig.chat.received == []


async def test_nothing_said_ends_with_i_didnt_catch_that(rig: Rig) -> None:
    rig.transcriber.text = ""
    await rig.voice_turn()
    assert NOTHING_HEARD in rig.notices()
    assert rig.controller.state is TurnState.READY
    assert rig.chat.received == []


async def test_a_chat_error_is_shown_and_the_next_turn_works(rig: Rig) -> None:
    rig.chat.error_after = 0
    rig.chat.error = ServiceError("Is Ollama running? Start it or choose another endpoint.")
    await rig.voice_turn()
    assert rig.controller.state is TurnState.ERROR
    assert "Is Ollama running?" in rig.notices()[-1]
    rig.chat.error_after = None
    await rig.voice_turn()
    assert rig.controller.state is TurnState.READY


async def _press_release(rig: Rig) -> None:
    rig.controller.press()
    rig.controller.release()
    await rig.controller.wait()


async def test_a_missing_microphone_is_reported_and_recovers() -> None:
    microphone = MemoryInput(error=DeviceError("No microphone was found. Plug one in."))
    rig = Rig(microphone=microphone)
    rig.controller.start()
    await rig.controller.wait_ready()
    await _press_release(rig)
    assert rig.controller.state is TurnState.ERROR
    assert "No microphone" in rig.notices()[-1]
    microphone.error = None  # plugged in
    await _press_release(rig)
    assert rig.controller.state is TurnState.READY


async def test_recording_stops_by_itself_at_the_maximum_length() -> None:
    rig = Rig(options=TurnOptions(max_recording_seconds=0.2))
    rig.controller.start()
    rig.controller.press()  # and never released
    await asyncio.wait_for(rig.controller.wait(), 5)
    assert any("longest allowed" in n for n in rig.notices())
    assert rig.controller.state is TurnState.READY
    assert not rig.microphone.recording


async def test_barge_in_keeps_only_what_was_heard_and_starts_listening() -> None:
    rig = Rig(time_scale=20.0)  # each sentence plays for about a second
    rig.controller.start()
    await rig.controller.wait_ready()
    rig.controller.press()
    rig.controller.release()
    await rig.until(lambda: rig.controller.state is TurnState.SPEAKING)
    rig.controller.press()  # barge-in
    await rig.until(lambda: any(isinstance(e, TurnFinished) for e in rig.events))
    assert rig.controller.state is TurnState.LISTENING
    finished = next(e for e in rig.events if isinstance(e, TurnFinished))
    assert finished.interrupted
    assert finished.reply_text == "It is sunny today."
    assert rig.output.streams[0].aborted
    history = rig.conversation.messages()
    assert history[-1].role == "assistant" and history[-1].content.startswith("It is sunny today.")
    assert "twenty" not in history[-1].content
    rig.controller.release()
    await rig.controller.wait()
    assert rig.controller.state is TurnState.READY


async def test_stop_silences_and_returns_to_ready() -> None:
    rig = Rig(time_scale=20.0)
    rig.controller.start()
    await rig.controller.wait_ready()
    rig.controller.send_text("Tell me about the weather.")
    await rig.until(lambda: rig.controller.state is TurnState.SPEAKING)
    rig.controller.stop()
    assert rig.controller.state is TurnState.READY
    await rig.until(lambda: rig.output.streams[0].closed)
    assert rig.output.streams[0].aborted


async def test_typed_messages_are_answered_and_spoken(rig: Rig) -> None:
    rig.controller.send_text("Hello there")
    await rig.controller.wait()
    assert [e.text for e in rig.events if isinstance(e, UserSaid)] == ["Hello there"]
    assert rig.controller.state is TurnState.READY
    assert rig.output.streams[-1].played


async def test_read_aloud_speaks_without_the_model_or_the_history(rig: Rig) -> None:
    rig.controller.read_aloud("Read this. And this too.")
    await rig.controller.wait()
    assert rig.chat.received == []
    assert rig.conversation.messages()[-1].role == "system"
    assert rig.synth.started == ["Read this.", "And this too."]


async def test_dictation_shows_the_words_without_asking_the_model(rig: Rig) -> None:
    rig.controller.dictation = True
    await rig.voice_turn()
    assert [e.text for e in rig.events if isinstance(e, UserSaid)] == [rig.transcriber.text]
    assert rig.chat.received == []
    assert rig.output.streams == []
    assert rig.controller.state is TurnState.READY


# --- turns that end before a reply: the timings still reach the window and `--json` ---


def finishes(rig: Rig) -> list[TurnFinished]:
    return [e for e in rig.events if isinstance(e, TurnFinished)]


async def test_a_microphone_lost_while_recording_ends_the_turn_before_release(rig: Rig) -> None:
    rig.events.clear()
    rig.controller.press()
    await rig.until(lambda: rig.microphone.recording)
    rig.microphone.unplug()  # Talk is still held
    await asyncio.wait_for(rig.controller.wait(), 1.0)

    assert rig.controller.state is TurnState.ERROR
    assert rig.states() == [TurnState.LISTENING, TurnState.ERROR]  # no Ready in between
    assert [e.message for e in rig.events if isinstance(e, Notice) and e.is_error] == [
        rig.microphone.lost.message
    ]
    assert rig.chat.received == []
    assert [m.role for m in rig.conversation.messages()] == ["system"]
    [finished] = finishes(rig)
    assert (finished.user_text, finished.reply_text, finished.interrupted) == ("", "", False)
    assert finished.timeline.input_end is not None and finished.timeline.finished is not None

    rig.controller.release()  # the user lets go after all: nothing happens
    assert rig.controller.state is TurnState.ERROR
    await rig.voice_turn()  # plugged back in
    assert rig.controller.state is TurnState.READY
    assert len(rig.chat.received) == 1


async def test_lost_audio_blocks_are_timed_and_told_after_the_turn(rig: Rig) -> None:
    rig.microphone.overflows = 3
    await rig.voice_turn()
    [finished] = finishes(rig)
    assert finished.timeline.input_overflows == 3
    assert finished.timeline.to_dict()["input_overflows"] == 3
    last = rig.events[-1]
    assert isinstance(last, Notice) and not last.is_error
    assert last.message.startswith("3 blocks of audio were lost while recording")
    assert rig.controller.state is TurnState.READY

    rig.events.clear()
    rig.microphone.overflows = 0
    await rig.voice_turn()
    assert not any("lost" in notice for notice in rig.notices())


@pytest.mark.parametrize("ending", ["too short", "nothing heard", "no microphone"])
async def test_a_turn_that_ends_early_still_reports_its_timings(rig: Rig, ending: str) -> None:
    if ending == "too short":
        rig.microphone.pcm = b"\x00\x00" * 1600
    elif ending == "nothing heard":
        rig.transcriber.text = ""
    else:
        rig.microphone.error = DeviceError("No microphone was found. Connect one.")
    rig.events.clear()
    await _press_release(rig)

    [finished] = finishes(rig)
    assert (finished.user_text, finished.reply_text, finished.interrupted) == ("", "", False)
    assert finished.timeline.input_start is not None and finished.timeline.input_end is not None
    assert rig.controller.last_timeline is finished.timeline
    expected = TurnState.ERROR if ending == "no microphone" else TurnState.READY
    assert rig.controller.state is expected
    assert rig.states()[-1] is expected and rig.states().count(TurnState.READY) <= 1
    assert rig.chat.received == []


class GatedTranscriber(MemoryTranscriber):
    """Loads only once `gate` is set, then fails with `error` if one is given."""

    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.error = error

    async def load(self, progress: object = None) -> None:
        await self.gate.wait()
        if self.error is not None:
            raise self.error


@pytest.mark.parametrize("error", [None, ModelMissing("The model is not here.", model="base.en")])
async def test_the_model_getting_ready_during_a_typed_reply_does_not_cut_into_it(
    error: Exception | None,
) -> None:
    transcriber = GatedTranscriber(error)
    rig = Rig(transcriber=transcriber, time_scale=1.0)
    rig.controller.start()
    rig.controller.send_text("Hello")
    await rig.until(lambda: rig.controller.state is TurnState.SPEAKING)

    transcriber.gate.set()
    await rig.controller.wait_ready()
    assert rig.controller.state is TurnState.SPEAKING  # not Ready (or Error) halfway through

    await rig.controller.wait()
    assert rig.controller.state is TurnState.READY
    assert rig.notices() == ([] if error is None else ["The model is not here."])


async def test_a_typed_reply_that_ends_before_the_model_is_ready_goes_back_to_getting_ready() -> (
    None
):
    transcriber = GatedTranscriber()
    rig = Rig(transcriber=transcriber)
    rig.controller.start()
    rig.controller.send_text("Hello")
    await rig.controller.wait()
    assert rig.controller.state is TurnState.LOADING

    transcriber.gate.set()
    await rig.controller.wait_ready()
    assert rig.controller.state is TurnState.READY


async def test_a_reply_cut_off_by_a_new_conversation_does_not_land_in_it() -> None:
    rig = Rig(time_scale=1.0)
    rig.controller.start()
    await rig.controller.wait_ready()
    rig.controller.send_text("Tell me a long story.")
    await rig.until(lambda: rig.controller.state is TurnState.SPEAKING)

    rig.controller.new_conversation()
    # The cut-off turn has recorded what it had heard.
    await asyncio.gather(*rig.controller._unwinding, return_exceptions=True)

    assert rig.conversation.turns == ()
    assert rig.controller.state is TurnState.READY
