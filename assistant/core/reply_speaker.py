"""Speaks a reply while it is still being written: synthesizes the next few sentences while one
plays, and plays them in order through one output stream, so sentences follow without gaps.

The speaker owns the splitting: `splitter()` cuts a reply into pieces its voice takes in one
request, and nothing else splits the text again. Barge-in is plain cancellation of `speak`: the
stream goes silent at once, pending syntheses are cancelled, and the timeline says which
sentences the listener actually started to hear (`TurnTimeline.heard`). `pause()` and `resume()`
hold the reply instead, while speech heard over it is checked (it may be its own echo).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from assistant.core.errors import AssistantError
from assistant.core.protocols import (
    AudioChunk,
    AudioOutput,
    PlaybackEvent,
    PlaybackEventKind,
    PlaybackStream,
    Synthesizer,
)
from assistant.core.silence import SilenceTrimmer
from assistant.core.splitter import Piece, SentenceSplitter
from assistant.core.timeline import SentenceTiming, TurnTimeline, clock

log = logging.getLogger(__name__)

_END = None  # marks the end of one sentence's audio in its queue
VOICE_BROKE = (
    "The voice stopped with an unexpected error ({kind}), so the rest of the reply was not "
    "spoken. Check the voice and its key in Settings > Voice, then try again; if it keeps "
    "happening, the log file has the details for a bug report."
)


@dataclass
class _Sentence:
    piece: Piece
    timing: SentenceTiming
    audio: asyncio.Queue[AudioChunk | AssistantError | None] = field(default_factory=asyncio.Queue)


class ReplySpeaker:
    """Turns a stream of pieces into sound, `lookahead` syntheses ahead of the one playing."""

    def __init__(
        self, synthesizer: Synthesizer, output: AudioOutput, *, lookahead: int = 2
    ) -> None:
        self.synthesizer = synthesizer
        self.output = output
        self.lookahead = max(1, lookahead)
        self._playing: PlaybackStream | None = None  # the stream of the reply being spoken

    def splitter(self) -> SentenceSplitter:
        """A splitter for one reply, cutting pieces the voice takes in one request."""
        return SentenceSplitter(max_bytes=self.synthesizer.max_text_bytes)

    def pieces(self, text: str) -> list[Piece]:
        """A whole text (read aloud, a sample) in the pieces this voice says."""
        splitter = self.splitter()
        return [*splitter.feed(text), *splitter.flush()]

    async def speak(
        self,
        pieces: AsyncIterator[Piece],
        timeline: TurnTimeline,
        on_sentence_started: Callable[[int], None] = lambda index: None,
    ) -> None:
        """Play every piece in order; returns when the last sample was handed to the sound card.

        Raises the first synthesis error once the sentences before it have played.
        """
        queue: asyncio.Queue[_Sentence | AssistantError | None] = asyncio.Queue()
        # One slot per sentence being synthesized or waiting to play, beyond the one playing.
        slots = asyncio.Semaphore(self.lookahead + 1)
        tasks: set[asyncio.Task[None]] = set()

        def on_playback(event: PlaybackEvent) -> None:
            if not 0 <= event.tag < len(timeline.sentences):
                return
            timing = timeline.sentences[event.tag]
            if event.kind is PlaybackEventKind.STARTED:
                timing.first_sample = event.time
                on_sentence_started(event.tag)
            elif event.kind is PlaybackEventKind.FINISHED:
                timing.last_sample = event.time
            elif event.kind is PlaybackEventKind.DROPOUT:
                timing.dropouts += 1
            else:
                timing.underruns += 1

        producer = asyncio.create_task(self._produce(pieces, timeline, slots, queue, tasks))
        tasks.add(producer)
        try:
            stream = await self.output.open(self.synthesizer.sample_rate, on_playback)
            self._playing = stream
            try:
                await self._play(queue, slots, stream)
            except AssistantError:
                await stream.drain()  # what was already sent still plays; then the error shows
                raise
            except BaseException:
                stream.abort()
                raise
            else:
                await stream.drain()
            finally:
                if self._playing is stream:
                    self._playing = None
                await stream.close()
            if producer.done() and not producer.cancelled():
                failure = producer.exception()
                if failure is not None:
                    raise failure  # a bug upstream of the speaker: never hide it
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def pause(self) -> bool:
        """Hold the reply being spoken (silent after what the device holds; the rest waits).
        False when none is."""
        if self._playing is None:
            return False
        self._playing.pause()
        return True

    def resume(self) -> None:
        """Go on with the reply pause() held, where it stopped."""
        if self._playing is not None:
            self._playing.resume()

    async def _produce(
        self,
        pieces: AsyncIterator[Piece],
        timeline: TurnTimeline,
        slots: asyncio.Semaphore,
        queue: asyncio.Queue[_Sentence | AssistantError | None],
        tasks: set[asyncio.Task[None]],
    ) -> None:
        try:
            async for piece in pieces:
                sentence = _Sentence(piece, timeline.add_sentence(piece.text))
                await slots.acquire()
                tasks.add(asyncio.create_task(self._synthesize(sentence)))
                queue.put_nowait(sentence)
        except AssistantError as error:  # the reply's source failed: play what came before it
            queue.put_nowait(error)
        finally:
            queue.put_nowait(None)

    async def _synthesize(self, sentence: _Sentence) -> None:
        timing = sentence.timing
        timing.request_sent = clock()
        try:
            async for chunk in self.synthesizer.synthesize(sentence.piece.spoken):
                if timing.first_byte is None:
                    timing.first_byte = clock()
                sentence.audio.put_nowait(chunk)
        except AssistantError as error:
            # Delivered in order: the sentences before this one still play.
            sentence.audio.put_nowait(error)
        except Exception as error:
            # A bug, or a library's surprise (a key with a character headers cannot carry): the
            # same, with the traceback logged. Never swallowed: the voice would just go mute.
            log.exception("the voice failed unexpectedly on sentence %d", timing.index)
            sentence.audio.put_nowait(AssistantError(VOICE_BROKE.format(kind=type(error).__name__)))
        finally:
            sentence.audio.put_nowait(_END)

    async def _play(
        self,
        queue: asyncio.Queue[_Sentence | AssistantError | None],
        slots: asyncio.Semaphore,
        stream: PlaybackStream,
    ) -> None:
        while (sentence := await queue.get()) is not None:
            if isinstance(sentence, AssistantError):
                raise sentence
            index = sentence.timing.index
            trimmer = SilenceTrimmer(stream.sample_rate)
            try:
                while (item := await sentence.audio.get()) is not _END:
                    if isinstance(item, AssistantError):
                        raise item
                    if pcm := trimmer.feed(item.pcm):
                        await stream.write(pcm, index)
                if tail := trimmer.finish():
                    await stream.write(tail, index)
            finally:
                stream.end_tag(index)
                slots.release()


async def pieces_of(items: list[Piece]) -> AsyncIterator[Piece]:
    """An async stream over pieces already known (read-aloud, `assistant speak`)."""
    for item in items:
        yield item
        await asyncio.sleep(0)


__all__ = ["VOICE_BROKE", "ReplySpeaker", "pieces_of"]
