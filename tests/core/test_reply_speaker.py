"""The reply speaker: order, look-ahead, errors in order, barge-in, and the timeline it fills."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from assistant.core.errors import AssistantError, ServiceError
from assistant.core.protocols import AudioChunk
from assistant.core.reply_speaker import ReplySpeaker, pieces_of
from assistant.core.splitter import Piece
from assistant.core.timeline import TurnTimeline
from tests.support.memory import MemoryOutput, MemorySynthesizer, tone

TEXTS = ["First one.", "Second one.", "Third one.", "Fourth one.", "Fifth one."]


def pieces(texts: list[str] = TEXTS) -> list[Piece]:
    return [Piece(text=t + " ", spoken=t) for t in texts]


async def test_sentences_play_in_order_even_when_later_ones_synthesize_first() -> None:
    # The first sentence is the slowest to synthesize; the rest finish before it.
    synth = MemorySynthesizer(delay=lambda text: 0.2 if text == TEXTS[0] else 0.01)
    output = MemoryOutput(time_scale=0.0)
    timeline = TurnTimeline()
    await ReplySpeaker(synth, output, lookahead=4).speak(pieces_of(pieces()), timeline)

    stream = output.streams[0]
    assert [tag for tag, _ in stream.played] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert stream.audio() == b"".join(tone(t) for t in TEXTS)
    assert stream.closed and not stream.aborted


async def test_lookahead_bounds_how_many_sentences_are_synthesized_at_once() -> None:
    synth = MemorySynthesizer(delay=lambda text: 0.02)
    await ReplySpeaker(synth, MemoryOutput(time_scale=1.0), lookahead=2).speak(
        pieces_of(pieces()), TurnTimeline()
    )
    assert synth.started == TEXTS
    assert synth.most_in_flight == 3  # the one playing (or about to) plus two ahead


async def test_next_sentences_are_synthesized_while_one_plays() -> None:
    synth = MemorySynthesizer(delay=lambda text: 0.05)
    timeline = TurnTimeline()
    await ReplySpeaker(synth, MemoryOutput(time_scale=1.0), lookahead=2).speak(
        pieces_of(pieces()), timeline
    )
    first, second = timeline.sentences[0], timeline.sentences[1]
    assert second.request_sent is not None and first.last_sample is not None
    assert second.request_sent < first.last_sample  # asked for before the first finished playing
    for sentence in timeline.sentences:
        assert sentence.ready <= sentence.request_sent <= sentence.first_byte  # type: ignore[operator]
        assert sentence.first_byte <= sentence.first_sample <= sentence.last_sample  # type: ignore[operator]


async def test_a_failed_sentence_is_reported_after_the_ones_before_it_played() -> None:
    error = ServiceError("The voice service failed. Try again.")
    synth = MemorySynthesizer(fail={TEXTS[2]: error})
    output = MemoryOutput(time_scale=0.0)
    speaker = ReplySpeaker(synth, output, lookahead=4)
    timeline = TurnTimeline()
    with pytest.raises(ServiceError, match="voice service failed"):
        await speaker.speak(pieces_of(pieces()), timeline)
    assert {tag for tag, _ in output.streams[0].played} == {0, 1}
    assert timeline.heard() == "First one. Second one."


async def test_a_failing_reply_source_still_plays_what_came_before() -> None:
    async def source():
        yield pieces()[0]
        raise ServiceError("The chat service went away.")

    output = MemoryOutput(time_scale=0.0)
    with pytest.raises(ServiceError, match="went away"):
        await ReplySpeaker(MemorySynthesizer(), output).speak(source(), TurnTimeline())
    assert [tag for tag, _ in output.streams[0].played] == [0, 0]


async def test_barge_in_silences_and_cancels_pending_synthesis() -> None:
    synth = MemorySynthesizer(delay=lambda text: 0.01)
    output = MemoryOutput(time_scale=20.0)  # each 50 ms sentence plays for a second
    speaker = ReplySpeaker(synth, output, lookahead=2)
    started = asyncio.Event()
    timeline = TurnTimeline()
    task = asyncio.create_task(
        speaker.speak(pieces_of(pieces()), timeline, lambda index: started.set())
    )
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stream = output.streams[0]
    assert stream.aborted and stream.closed
    assert timeline.heard() == "First one."
    assert synth.in_flight == 0  # nothing left running
    assert len(synth.started) <= 3


class BrokenSynthesizer(MemorySynthesizer):
    """A voice with a bug (or a library's surprise): `error` escapes for the text `broken`."""

    def __init__(self, broken: str, error: Exception) -> None:
        super().__init__()
        self.broken = broken
        self.error = error

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        if text == self.broken:
            raise self.error
        async for chunk in super().synthesize(text):
            yield chunk


@pytest.mark.parametrize(
    "error",
    [
        UnicodeEncodeError("ascii", "Bearer sk-\u00e9", 10, 11, "ordinal not in range(128)"),
        TypeError("unsupported operand"),
    ],
    ids=["UnicodeEncodeError", "TypeError"],
)
async def test_an_unexpected_synthesis_error_ends_the_reply_with_a_notice_after_what_came_before(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    output = MemoryOutput(time_scale=0.0)
    speaker = ReplySpeaker(BrokenSynthesizer(TEXTS[2], error), output, lookahead=4)
    timeline = TurnTimeline()
    with pytest.raises(AssistantError) as raised:
        await speaker.speak(pieces_of(pieces()), timeline)
    message = raised.value.message
    assert type(error).__name__ in message and "Settings > Voice" in message
    assert "sk-" not in message and "Traceback" not in message
    assert {tag for tag, _ in output.streams[0].played} == {0, 1}  # what came before played
    assert timeline.heard() == "First one. Second one."
    assert not output.streams[0].aborted  # drained, not cut off
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.exc_info is not None and record.exc_info[1] is error  # the traceback, for us
