"""The turn controller: every path of a turn ends back at Ready (or a clear error), barge-in
keeps what was heard, and the next turn starts clean."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from assistant.core.conversation import INTERRUPTED_MARKER, Conversation, Turn
from assistant.core.errors import DeviceError, ModelMissing, ReplyCutOff, ServiceError
from assistant.core.events import (
    Event,
    Notice,
    ReplyDelta,
    SentenceStarted,
    StateChanged,
    TurnFinished,
    TurnState,
    UserSaid,
)
from assistant.core.history import HistoryRecorder
from assistant.core.protocols import Message, Recording
from assistant.core.reply_speaker import VOICE_BROKE, ReplySpeaker
from assistant.core.timeline import clock
from assistant.core.turn import NOTHING_HEARD, TOO_SHORT, TurnController, TurnOptions
from assistant.core.written_reply import SLOW_REPLY, too_long_text
from assistant.providers.history_sqlite import SqliteHistory
from tests.core.test_reply_speaker import BrokenSynthesizer
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


# --- the reply never goes mute, never holds a finished sentence, never runs on for an hour ---


class StallingChat:
    """Writes `before` (in one piece), then stalls until `go_on` is set, then writes `after`.
    `closed` tells that the stream was closed (its HTTP response would be)."""

    def __init__(self, before: list[str], after: list[str] | None = None) -> None:
        self.before, self.after = before, after or []
        self.go_on = asyncio.Event()
        self.stalled = False
        self.closed = False
        self.received: list[list[Message]] = []

    async def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        self.received.append(list(messages))
        try:
            for delta in self.before:
                yield delta
            self.stalled = True
            await self.go_on.wait()
            self.stalled = False
            for delta in self.after:
                yield delta
        finally:
            self.closed = True


class EndlessChat:
    """A model that never stops writing."""

    def __init__(self, delta: str) -> None:
        self.delta = delta
        self.written = 0
        self.closed = False

    async def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        try:
            while True:
                self.written += 1
                yield self.delta
                await asyncio.sleep(0)
        finally:
            self.closed = True


async def rig_with(chat: object, *, time_scale: float = 0.0, **options: float) -> Rig:
    rig = Rig(chat=chat, time_scale=time_scale, options=TurnOptions(**options))
    rig.controller.start()
    await rig.controller.wait_ready()
    return rig


def details(rig: Rig) -> list[str]:
    return [e.detail for e in rig.events if isinstance(e, StateChanged)]


async def test_a_finished_sentence_is_spoken_while_the_model_stalls() -> None:
    chat = StallingChat(["First sentence here."], [" And the rest."])
    rig = await rig_with(chat)
    rig.controller.send_text("Go on.")
    await rig.until(lambda: chat.stalled)
    stalled_at = clock()
    await rig.until(lambda: any(isinstance(e, SentenceStarted) for e in rig.events), 2.0)
    assert clock() - stalled_at < 0.3 + 0.4  # the quiet time, and a margin
    assert chat.stalled  # spoken while the stream was still stalled
    assert rig.synth.started == ["First sentence here."]
    assert rig.controller.state is TurnState.SPEAKING

    chat.go_on.set()
    await rig.controller.wait()
    assert rig.synth.started == ["First sentence here.", "And the rest."]
    [finished] = finishes(rig)
    assert finished.reply_text == "First sentence here. And the rest."
    assert rig.conversation.turns[-1].text == "First sentence here. And the rest."


async def test_a_slow_model_is_said_in_the_state_and_the_detail_goes_when_text_comes() -> None:
    chat = StallingChat([], ["Here it is."])
    rig = await rig_with(chat, slow_reply_seconds=0.5)
    rig.controller.send_text("Take your time.")
    await rig.until(lambda: SLOW_REPLY in details(rig), 3.0)
    assert rig.controller.state is TurnState.THINKING
    assert rig.states()[-1] is TurnState.THINKING and details(rig)[-1] == SLOW_REPLY
    chat.go_on.set()
    await rig.controller.wait()
    assert rig.controller.state is TurnState.READY
    after = details(rig)[details(rig).index(SLOW_REPLY) + 1 :]
    assert after and after[0] == ""  # cleared as soon as there was something to say
    assert rig.synth.started == ["Here it is."]


@pytest.mark.parametrize(
    "moment", ["before any text", "in the quiet time", "while slow", "while speaking"]
)
async def test_stop_works_at_any_moment_of_a_slow_reply(moment: str) -> None:
    before = [] if moment == "before any text" else ["One sentence. And a half"]
    chat = StallingChat(before)
    rig = await rig_with(chat, time_scale=100.0, slow_reply_seconds=0.5, sentence_quiet_seconds=3.0)
    rig.controller.send_text("Hello?")
    if moment == "while slow":
        await rig.until(lambda: SLOW_REPLY in details(rig), 3.0)
    elif moment == "while speaking":
        await rig.until(lambda: rig.controller.state is TurnState.SPEAKING)
    else:
        await rig.until(lambda: chat.stalled)
    turn = rig.controller._turn
    rig.controller.stop()
    assert rig.controller.state is TurnState.READY
    assert turn is not None
    await asyncio.wait_for(asyncio.gather(turn, return_exceptions=True), 1.0)
    assert chat.closed  # the model's stream was closed, not left reading
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.wait_for(asyncio.gather(*others, return_exceptions=True), 1.0)
    assert rig.notices() == []


async def test_a_reply_too_long_to_say_is_cut_off_and_what_was_shown_is_spoken() -> None:
    chat = EndlessChat("Word after word. ")
    rig = await rig_with(chat, max_reply_seconds=3.0)  # 45 letters' worth of speech
    rig.controller.send_text("Talk forever.")
    await asyncio.wait_for(rig.controller.wait(), 5.0)

    assert rig.controller.state is TurnState.ERROR
    assert rig.notices() == [too_long_text(3.0)]
    assert rig.notices()[0].startswith("The reply would take more than 3 seconds to say")
    assert too_long_text(600.0).startswith("The reply would take more than 10 minutes to say")
    assert chat.closed
    shown = "".join(e.text for e in rig.events if isinstance(e, ReplyDelta))
    spoken = " ".join(rig.synth.started)
    assert spoken == shown.strip()  # every word shown was spoken, and nothing more
    assert 3 <= len(rig.synth.started) <= 4
    [finished] = finishes(rig)
    assert finished.reply_text == shown.strip()
    assert rig.conversation.turns[-1] == Turn("assistant", shown.strip(), interrupted=True)


async def test_a_voice_with_a_bug_ends_the_reply_with_a_notice_after_what_came_before(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    error = UnicodeEncodeError("ascii", "token-\u00e9", 6, 7, "ordinal not in range(128)")
    rig.controller.speaker.synthesizer = BrokenSynthesizer("The high is twenty degrees.", error)
    rig.controller.send_text("Weather?")
    await rig.controller.wait()

    assert rig.controller.state is TurnState.ERROR
    assert rig.notices() == [VOICE_BROKE.format(kind="UnicodeEncodeError")]
    assert rig.output.streams[0].played and not rig.output.streams[0].aborted
    [finished] = finishes(rig)
    assert finished.interrupted and finished.reply_text == "It is sunny today."
    assert any(r.exc_info and r.exc_info[1] is error for r in caplog.records)


# --- a failed question is not merged into the next one ---


async def test_a_question_whose_reply_failed_is_not_sent_with_the_next_one(rig: Rig) -> None:
    rig.chat.error_after = 0
    rig.chat.error = ServiceError("The chat service failed. Try again.")
    rig.controller.send_text("What time is it in Tokyo?")
    await rig.controller.wait()
    assert rig.controller.state is TurnState.ERROR
    rig.chat.error_after = None
    rig.controller.send_text("Experience proves this.")
    await rig.controller.wait()

    assert [(m.role, m.content) for m in rig.chat.received[1]] == [
        ("system", "Be brief."),
        ("user", "Experience proves this."),
    ]
    # What the user saw stays: the failed question, the new one, its reply.
    assert [t.role for t in rig.conversation.turns] == ["user", "user", "assistant"]


async def test_a_reply_that_failed_half_way_is_kept_as_heard(rig: Rig) -> None:
    rig.chat.error_after = 5  # "It is sunny today. The" is shown, then the service fails
    rig.chat.error = ServiceError("The chat service failed. Try again.")
    rig.controller.send_text("Weather?")
    await rig.controller.wait()
    rig.chat.error_after = None
    rig.controller.send_text("And tomorrow?")
    await rig.controller.wait()
    assert [(m.role, m.content) for m in rig.chat.received[1]][1:] == [
        ("user", "Weather?"),
        ("assistant", "It is sunny today." + INTERRUPTED_MARKER),
        ("user", "And tomorrow?"),
    ]


async def test_a_failed_turn_reopened_from_the_history_is_not_merged_either(
    tmp_path: Path,
) -> None:
    store = SqliteHistory(tmp_path / "history.sqlite3")
    failing = Rig(chat=MemoryChat(error_after=0, error=ServiceError("No network. Try again.")))
    failing.controller.history = HistoryRecorder(store)
    failing.controller.send_text("What time is it in Tokyo?")  # say, `assistant turn`
    await failing.controller.wait()
    await failing.controller.aclose()

    window = Rig()
    window.controller.history = HistoryRecorder(store)
    shown = window.controller.resume_conversation()
    assert [m.text for m in shown] == ["What time is it in Tokyo?"]
    window.controller.send_text("Experience proves this.")
    await window.controller.wait()
    assert [(m.role, m.content) for m in window.chat.received[0]] == [
        ("system", "Be brief."),
        ("user", "Experience proves this."),
    ]
    await window.controller.aclose()
    store.close()


async def test_a_reply_the_service_cut_short_is_spoken_to_its_last_word_then_told() -> None:
    cut = ReplyCutOff("The answer is cut off: the model reached its length limit.")

    class CutChat:
        async def stream(self, messages: Sequence[Message]) -> AsyncIterator[str]:
            yield "The first part is here. And the last words"
            raise cut

    rig = await rig_with(CutChat())
    rig.controller.send_text("Tell me everything.")
    await rig.controller.wait()
    assert rig.synth.started == ["The first part is here.", "And the last words"]
    assert rig.notices() == [cut.message]
    assert rig.controller.state is TurnState.ERROR
    [finished] = finishes(rig)
    assert finished.reply_text == "The first part is here. And the last words"


# Hands-free: the listener hears the user begin and end; the controller cuts in and answers.


def an_utterance(seconds: float = 1.0) -> Recording:
    return Recording(b"\x10\x00" * int(16_000 * seconds), 16_000)


async def test_an_utterance_heard_hands_free_is_answered_and_timed_from_its_end(
    rig: Rig,
) -> None:
    onset = clock()
    rig.controller.hear_start(onset)
    assert rig.controller.state is TurnState.LISTENING
    end = clock()
    rig.controller.hear(an_utterance(), onset, end)
    await rig.controller.wait()
    [finished] = finishes(rig)
    assert finished.user_text == "What is the weather like?"
    assert finished.reply_text.startswith("It is sunny today.")
    timings = finished.timeline.to_dict()
    assert timings["end_of_speech_ms"] == 0.0
    assert timings["transcript_ready_ms"] is not None and timings["transcript_ready_ms"] >= 0
    assert timings["barge_in_ms"] is None
    assert rig.controller.state is TurnState.READY


async def test_speech_while_the_assistant_speaks_cuts_it_off_and_becomes_the_next_turn() -> None:
    rig = await rig_with(MemoryChat(), time_scale=20.0)  # each sentence plays for about a second
    rig.controller.send_text("Tell me about the weather.")
    await rig.until(lambda: rig.controller.state is TurnState.SPEAKING)
    onset = clock()
    rig.controller.hear_start(onset)  # the user talks over the reply: it is held, silent
    assert rig.output.streams[0].paused
    assert rig.controller.state is TurnState.LISTENING
    rig.transcriber.text = "And tomorrow?"  # type: ignore[attr-defined]
    rig.controller.hear(an_utterance(), onset, clock())  # their words, not its own: cut off
    await rig.until(lambda: len(finishes(rig)) >= 1)
    cut = finishes(rig)[0]
    assert cut.interrupted and cut.reply_text == "It is sunny today."
    assert rig.output.streams[0].aborted
    assert 0 <= cut.timeline.to_dict()["barge_in_ms"] < 500  # silent since it was held
    await rig.controller.wait()
    assert [f.user_text for f in finishes(rig)] == ["Tell me about the weather.", "And tomorrow?"]
    sent = rig.chat.received[-1]  # type: ignore[attr-defined]
    assert sent[-2].content.startswith("It is sunny today.") and "twenty" not in sent[-2].content
    assert sent[-1].content == "And tomorrow?"


async def test_speech_that_was_not_speech_goes_back_to_ready_without_a_word(rig: Rig) -> None:
    rig.controller.hear_start(clock())
    rig.controller.hear_nothing()
    assert rig.controller.state is TurnState.READY
    assert rig.notices() == []


async def test_an_utterance_without_words_is_dropped_without_a_hint(rig: Rig) -> None:
    rig.transcriber.text = ""  # type: ignore[attr-defined]
    rig.controller.hear_start(clock())
    rig.controller.hear(an_utterance(), clock(), clock())
    await rig.controller.wait()
    assert rig.notices() == []  # hands-free, noise is not the user's fault
    assert rig.controller.state is TurnState.READY


async def test_each_turn_numbers_its_events(rig: Rig) -> None:
    rig.controller.send_text("One?")
    await rig.controller.wait()
    rig.controller.read_aloud("Two.")
    await rig.controller.wait()
    await rig.voice_turn()
    numbered = [
        (type(e).__name__, e.timeline.turn if isinstance(e, TurnFinished) else e.turn)
        for e in rig.events
        if isinstance(e, (UserSaid, ReplyDelta, SentenceStarted, TurnFinished))
    ]
    assert {turn for _, turn in numbered} == {1, 2, 3}
    assert numbered == sorted(numbered, key=lambda kind_turn: kind_turn[1])
    assert ("TurnFinished", 2) in numbered and ("UserSaid", 3) in numbered
