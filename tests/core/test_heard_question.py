"""Hands-free, the user pauses and goes on before the answer is heard: one question, not two
(core/heard_question.py). After the answer has been heard, speaking again is a barge-in, as
tests/core/test_turn.py shows."""

from __future__ import annotations

import asyncio
from pathlib import Path

from assistant.core.events import ReplyDelta, TurnFinished, TurnState, UserSaid
from assistant.core.heard_question import JOIN_PAUSE_SECONDS
from assistant.core.history import HistoryRecorder
from assistant.core.protocols import Recording, Transcript
from assistant.core.timeline import clock
from assistant.providers.history_sqlite import SqliteHistory
from tests.core.test_turn import Rig, StallingChat, an_utterance, finishes
from tests.support.memory import MemoryTranscriber


class HeldTranscriber(MemoryTranscriber):
    """Says the next of `texts` for each recording, once `go` is set; keeps what it was given."""

    def __init__(self, *texts: str) -> None:
        super().__init__()
        self.texts = list(texts)
        self.heard: list[Recording] = []
        self.go = asyncio.Event()
        self.go.set()

    async def transcribe(self, recording: Recording) -> Transcript:
        self.heard.append(recording)
        await self.go.wait()
        return Transcript(self.texts.pop(0), "en")


async def started(rig: Rig) -> Rig:
    rig.controller.start()
    await rig.controller.wait_ready()
    return rig


def said(rig: Rig) -> list[UserSaid]:
    return [e for e in rig.events if isinstance(e, UserSaid)]


async def test_going_on_while_the_question_is_transcribed_makes_one_question_of_both() -> None:
    transcriber = HeldTranscriber("And so, my fellow Americans, ask not.")
    rig = await started(Rig(transcriber=transcriber))
    transcriber.go.clear()
    onset = clock()
    rig.controller.hear(an_utterance(1.0), onset, clock())  # "And so, my fellow Americans,"
    await rig.until(lambda: len(transcriber.heard) == 1)
    rig.controller.hear_start(clock())  # ... they go on
    assert rig.controller.state is TurnState.LISTENING
    transcriber.go.set()
    rig.controller.hear(an_utterance(0.5), clock(), clock())  # "ask not."
    await rig.controller.wait()

    joined = transcriber.heard[-1]
    assert joined.duration == 1.0 + JOIN_PAUSE_SECONDS + 0.5
    [turn] = finishes(rig)  # the first one ended without a word
    assert turn.user_text == "And so, my fellow Americans, ask not."
    assert not turn.interrupted and turn.timeline.input_start == onset
    assert [e.restated for e in said(rig)] == [False]  # nothing had been shown of the first
    assert rig.controller.state is TurnState.READY


async def test_going_on_before_the_reply_is_heard_restates_the_question_and_takes_the_reply_back(
    tmp_path: Path,
) -> None:
    chat = StallingChat(["Well, "])  # written and shown, not a sentence yet: not heard
    transcriber = HeldTranscriber("What is the weather", "What is the weather in Paris?")
    rig = await started(Rig(chat=chat, transcriber=transcriber))
    store = SqliteHistory(tmp_path / "history.sqlite3")
    rig.controller.history = HistoryRecorder(store)
    rig.controller.hear(an_utterance(), clock(), clock())
    await rig.until(lambda: chat.stalled)
    assert [e.text for e in rig.events if isinstance(e, ReplyDelta)] == ["Well, "]

    rig.controller.hear_start(clock())  # "... in Paris?"
    await rig.until(lambda: chat.closed)
    chat.closed, chat.before, chat.after = False, ["It is raining in Paris."], []
    chat.go_on.set()
    rig.controller.hear(an_utterance(), clock(), clock())
    await rig.controller.wait()

    assert [(e.text, e.restated) for e in said(rig)] == [
        ("What is the weather", False),
        ("What is the weather in Paris?", True),
    ]
    [turn] = finishes(rig)
    assert (turn.user_text, turn.reply_text) == (
        "What is the weather in Paris?",
        "It is raining in Paris.",
    )
    sent = chat.received[-1]
    assert [m.content for m in sent if m.role != "system"] == ["What is the weather in Paris?"]
    assert [t.text for t in rig.conversation.turns] == [
        "What is the weather in Paris?",
        "It is raining in Paris.",
    ]
    await rig.controller.aclose()
    assert rig.controller.history.flush(5.0)
    [conversation] = store.conversations()
    stored = [(m.role, m.text, m.state) for m in store.messages(conversation.id)]
    assert stored == [
        ("user", "What is the weather in Paris?", "complete"),
        ("assistant", "It is raining in Paris.", "complete"),
    ]
    store.close()


async def test_a_cough_after_the_question_does_not_lose_it() -> None:
    chat = StallingChat([], ["It is sunny today."])
    transcriber = HeldTranscriber("What is the weather like?")
    rig = await started(Rig(chat=chat, transcriber=transcriber))
    rig.controller.hear(an_utterance(), clock(), clock())
    await rig.until(lambda: chat.stalled)
    rig.controller.hear_start(clock())  # a cough...
    rig.controller.hear_nothing()  # ... was not speech: the question stands
    chat.go_on.set()
    await rig.until(lambda: len(finishes(rig)) == 1)
    [turn] = finishes(rig)
    assert (turn.user_text, turn.reply_text) == ("What is the weather like?", "It is sunny today.")
    assert len(transcriber.heard) == 1  # its words were known: not transcribed again
    assert [e.restated for e in said(rig)] == [False, True]
    assert [t.text for t in rig.conversation.turns] == [
        "What is the weather like?",
        "It is sunny today.",
    ]


async def test_a_reply_already_heard_is_cut_off_by_going_on_not_taken_back() -> None:
    rig = await started(Rig(chat=StallingChat(["It is sunny today. "], ["More."])))
    rig.controller.hear(an_utterance(), clock(), clock())
    await rig.until(lambda: rig.controller.state is TurnState.SPEAKING)
    rig.controller.hear_start(clock())  # held until their words are known
    rig.controller.hear(an_utterance(), clock(), clock())  # not its own words: cut off
    await rig.until(lambda: len(finishes(rig)) >= 1)
    cut = finishes(rig)[0]
    assert isinstance(cut, TurnFinished) and cut.interrupted
    assert cut.reply_text == "It is sunny today."
    assert cut.timeline.to_dict()["barge_in_ms"] is not None


async def test_speech_that_began_before_the_reply_was_spoken_goes_on_with_the_question() -> None:
    transcriber = HeldTranscriber("What is the weather", "What is the weather in Paris?")
    chat = StallingChat(["It is sunny today. "], ["More."])
    rig = await started(Rig(chat=chat, transcriber=transcriber, time_scale=20.0))
    rig.controller.hear(an_utterance(), clock(), clock())
    onset = clock()  # they go on now; the listener is sure of it only a moment later
    await rig.until(lambda: rig.controller.state is TurnState.SPEAKING)
    rig.controller.hear_start(onset)
    await rig.until(lambda: chat.closed)
    rig.controller.hear(an_utterance(), onset, clock())
    chat.closed, chat.before, chat.after = False, ["Rain."], []
    chat.go_on.set()
    await rig.controller.wait()
    [turn] = finishes(rig)  # the reply begun under their words was taken back, not cut off
    assert (turn.user_text, turn.reply_text) == ("What is the weather in Paris?", "Rain.")
