"""The conversation mode over the real turn controller and in-memory parts: what a listener hears
becomes turns, voice barge-ins and quiet returns to Ready; the modes switch at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from assistant.core.cue import CUE_RATE
from assistant.core.errors import DeviceError
from assistant.core.events import Notice, TurnFinished, TurnState
from assistant.core.hands_free import (
    HandsFree,
    ListenEvent,
    ListeningMode,
    NotSpeech,
    SpeechBegan,
    Utterance,
    WakeWordHeard,
)
from assistant.core.protocols import Recording, Transcript
from assistant.core.timeline import clock
from tests.core.test_turn import Rig, rig_with
from tests.support.memory import MemoryChat


class MemoryListener:
    """A listener the test speaks through: `say(event)` is what the microphone's pipeline heard."""

    def __init__(self, fail: DeviceError | None = None) -> None:
        self.report: Callable[[ListenEvent], None] | None = None
        self.wake_word: bool | None = None
        self.waits_for_wake_word = 0
        self.stopped = False
        self._fail = fail

    async def start(self, report: Callable[[ListenEvent], None], *, wake_word: bool) -> None:
        if self._fail is not None:
            raise self._fail
        self.report, self.wake_word = report, wake_word

    def wait_for_wake_word(self) -> None:
        self.waits_for_wake_word += 1

    async def stop(self) -> None:
        self.stopped = True

    def say(self, event: ListenEvent) -> None:
        assert self.report is not None
        self.report(event)


def utterance() -> Utterance:
    now = clock()
    return Utterance(Recording(b"\x10\x00" * 16_000, 16_000), now - 1.0, now)


async def hands_free(
    rig: Rig, mode: ListeningMode = ListeningMode.HANDS_FREE, **options: float
) -> MemoryListener:
    listener = MemoryListener()
    rig.hands_free = HandsFree(rig.controller, lambda: listener, **options)  # type: ignore[attr-defined]
    await rig.hands_free.switch(mode)  # type: ignore[attr-defined]
    return listener


async def speaking_hands_free() -> tuple[Rig, MemoryListener]:
    """Hands-free, a reply being spoken (each sentence for about a second)."""
    rig = await rig_with(MemoryChat(), time_scale=20.0)
    listener = await hands_free(rig)
    rig.controller.send_text("Tell me about the weather.")
    await rig.until(lambda: rig.controller.state is TurnState.SPEAKING)
    return rig, listener


def finished(rig: Rig) -> list[TurnFinished]:
    return [e for e in rig.events if isinstance(e, TurnFinished)]


async def test_speaking_hands_free_is_a_turn() -> None:
    rig = await rig_with(MemoryChat())
    listener = await hands_free(rig)
    assert listener.wake_word is False
    listener.say(SpeechBegan(clock()))
    assert rig.controller.state is TurnState.LISTENING
    listener.say(utterance())
    await rig.controller.wait()
    [turn] = finished(rig)
    assert turn.user_text == "What is the weather like?" and not turn.interrupted
    assert rig.controller.state is TurnState.READY


async def test_talking_over_the_reply_holds_it_and_the_users_words_cut_it_off() -> None:
    rig, listener = await speaking_hands_free()
    onset = clock()
    listener.say(SpeechBegan(onset))
    [stream] = rig.output.streams
    assert stream.paused and rig.controller.state is TurnState.LISTENING  # silent at once
    assert finished(rig) == []  # held, not cut: it may be its own echo
    rig.transcriber.text = "Wait, what about tomorrow?"  # not the reply's words: the user's
    listener.say(utterance())
    await rig.until(lambda: len(finished(rig)) == 2)
    cut, answered = finished(rig)
    assert cut.interrupted and cut.timeline.barge_in_onset == onset
    assert cut.timeline.silenced is not None and cut.timeline.silenced <= answered.timeline.finished
    assert stream.aborted
    assert answered.user_text == "Wait, what about tomorrow?" and not answered.interrupted


async def test_its_own_voice_heard_over_the_reply_lets_it_go_on() -> None:
    # The canceller leaked the reply's first words; Whisper read them back.
    rig, listener = await speaking_hands_free()
    listener.say(SpeechBegan(clock()))
    rig.transcriber.text = "It is sunny today."
    listener.say(utterance())
    await rig.controller.wait()
    [turn] = finished(rig)
    assert not turn.interrupted and turn.timeline.barge_in_onset is None
    assert turn.reply_text == "It is sunny today. The high is twenty degrees. Enjoy your walk!"
    [stream] = rig.output.streams
    assert stream.pauses == 1 and not stream.aborted
    assert rig.controller.state is TurnState.READY
    assert TurnState.SPEAKING in rig.states()[rig.states().index(TurnState.LISTENING) :]


async def test_a_cough_over_the_reply_lets_it_go_on() -> None:
    rig, listener = await speaking_hands_free()
    listener.say(SpeechBegan(clock()))
    listener.say(NotSpeech())
    assert rig.controller.state is TurnState.SPEAKING
    await rig.controller.wait()
    [turn] = finished(rig)
    assert not turn.interrupted


async def test_speaking_on_while_the_first_words_are_judged_is_one_question() -> None:
    # "And so, my fellow Americans," (held: transcribing) "ask not…": the reply is silent, so the
    # second start is the user for sure; the two parts are transcribed as one question.
    rig, listener = await speaking_hands_free()
    gate = asyncio.Event()
    heard: list[int] = []
    text = rig.transcriber.text

    async def slow_transcribe(recording: Recording) -> Transcript:
        heard.append(len(recording.pcm))
        if len(heard) == 1:
            await gate.wait()  # still transcribing the first part when the user goes on
        return Transcript(text, "en")

    rig.transcriber.transcribe = slow_transcribe  # type: ignore[method-assign]
    listener.say(SpeechBegan(clock()))
    listener.say(utterance())
    await rig.until(lambda: len(heard) == 1)
    listener.say(SpeechBegan(clock()))
    await rig.until(lambda: len(finished(rig)) == 1)
    assert finished(rig)[0].interrupted
    listener.say(utterance())
    gate.set()
    await rig.until(lambda: len(finished(rig)) == 2)
    await rig.controller.wait()
    assert heard[1] > 2 * 32_000  # both seconds of speech, and the pause between them
    assert finished(rig)[1].user_text == text and not finished(rig)[1].interrupted


async def test_a_cough_goes_back_to_ready_quietly() -> None:
    rig = await rig_with(MemoryChat())
    listener = await hands_free(rig)
    listener.say(SpeechBegan(clock()))
    listener.say(NotSpeech())
    assert rig.controller.state is TurnState.READY
    assert finished(rig) == [] and not any(isinstance(e, Notice) for e in rig.events)


async def test_switching_modes_opens_and_closes_the_microphone_at_once() -> None:
    rig = await rig_with(MemoryChat())
    listener = await hands_free(rig)
    await rig.hands_free.switch(ListeningMode.PUSH_TO_TALK)  # type: ignore[attr-defined]
    assert listener.stopped and not rig.hands_free.listening  # type: ignore[attr-defined]
    listener.say(SpeechBegan(clock()))  # a late event from the closed microphone
    assert rig.controller.state is TurnState.READY


async def test_a_microphone_that_cannot_open_falls_back_to_push_to_talk_and_says_why() -> None:
    rig = await rig_with(MemoryChat())
    broken = MemoryListener(DeviceError("No microphone was found. Connect one."))
    mode = HandsFree(rig.controller, lambda: broken)
    await mode.switch(ListeningMode.HANDS_FREE)
    assert mode.mode is ListeningMode.PUSH_TO_TALK
    assert [e.message for e in rig.events if isinstance(e, Notice)] == [
        "No microphone was found. Connect one."
    ]


async def test_the_wake_word_conversation_closes_a_while_after_the_answer() -> None:
    rig = await rig_with(MemoryChat())
    listener = await hands_free(rig, ListeningMode.WAKE_WORD, follow_up_seconds=0.2)
    woken: list[str] = []
    rig.hands_free.on_wake = woken.append  # type: ignore[attr-defined]
    assert listener.wake_word is True
    listener.say(WakeWordHeard("hey jarvis"))
    listener.say(SpeechBegan(clock()))
    listener.say(utterance())
    await rig.controller.wait()
    assert woken == ["hey jarvis"] and len(finished(rig)) == 1
    assert listener.waits_for_wake_word == 0  # a follow-up needs no wake word yet
    await asyncio.sleep(0.4)
    assert listener.waits_for_wake_word == 1


async def test_the_wake_word_is_answered_with_a_soft_cue_before_the_turn() -> None:
    rig = await rig_with(MemoryChat())
    listener = MemoryListener()
    hands_free = HandsFree(rig.controller, lambda: listener, cue_output=rig.output)
    await hands_free.switch(ListeningMode.WAKE_WORD)
    listener.say(WakeWordHeard("hey jarvis"))
    await rig.until(lambda: bool(rig.output.streams) and rig.output.streams[0].closed)
    [cue] = rig.output.streams
    samples = np.frombuffer(cue.audio(), dtype=np.int16)
    assert cue.sample_rate == CUE_RATE and 0.15 < len(samples) / CUE_RATE < 0.25
    peak_dbfs = 20 * np.log10(np.abs(samples).max() / 32768)
    assert -21 < peak_dbfs < -19  # heard over a quiet room, never startling
    assert abs(int(samples[0])) < 50 and abs(int(samples[-1])) < 50  # no click at either end
    await hands_free.aclose()
