"""Speech out through the real path, heard at the virtual sound card: the offline voice's words
come back through Whisper, a barge-in silences a cloud voice and leaves its connection usable,
and trimming keeps the pause between two real sentences natural.

Run with `-s` to see the figures measured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
import soxr

from assistant.audio.speaker import Speaker
from assistant.config import NetworkSettings, OpenAiTtsSettings, PiperTtsSettings, SttSettings
from assistant.core.protocols import TRANSCRIBE_RATE, AudioChunk, Recording, Synthesizer
from assistant.core.reply_speaker import ReplySpeaker, pieces_of
from assistant.core.splitter import Piece, SentenceSplitter
from assistant.core.timeline import TurnTimeline
from assistant.providers.http import make_http_client
from assistant.providers.stt.whisper_local import WhisperTranscriber
from assistant.providers.tts.openai_speech import OpenAiSpeech
from assistant.providers.tts.piper_local import PiperTts
from tests.support.pulse import RECORD_RATE, Recorder, VirtualSoundCard, align
from tests.support.speech import word_error_rate
from tests.support.tts_servers import OpenAiSpeechServer

pytestmark = [pytest.mark.e2e, pytest.mark.audio, pytest.mark.timeout(120)]

REPLY = (
    "Good morning. The weather today is sunny and warm. "
    "Would you like to hear the forecast for tomorrow?"
)
API_KEY = "sk-e2e-test-key"
SILENT = 50  # int16 peak below which the recording counts as silent (as in the speaker's tests)
QUIET = 300  # below this a millisecond of speech is a pause (the trimmer's threshold)


def pieces(text: str, max_bytes: int = 1024) -> list[Piece]:
    splitter = SentenceSplitter(max_bytes=max_bytes)
    return [*splitter.feed(text), *splitter.flush()]


async def heard_after(recorder: Recorder) -> np.ndarray:
    await asyncio.sleep(0.2)  # the monitor delivers what the sink played a little later
    return recorder.stop()


def quiet_frames(samples: np.ndarray) -> np.ndarray:
    """Per millisecond of the recording: is it quieter than speech?"""
    size = RECORD_RATE // 1000
    whole = len(samples) // size * size
    peaks = np.abs(samples[:whole].astype(np.int32)).reshape(-1, size).max(axis=1)
    return peaks <= QUIET


def pause_at(quiet: np.ndarray, frame: int, reach: int = 60) -> float:
    """Seconds of the longest quiet stretch that comes within `reach` ms of `frame`."""
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    runs = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
    near = [end - start for start, end in runs if start <= frame + reach and end >= frame - reach]
    return max(near, default=0) / 1000


# -- the closed loop: text -> offline voice -> sound card -> Whisper -> text ---------------------


async def test_the_offline_voice_says_the_reply_word_for_word(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    piper = PiperTts(PiperTtsSettings())
    await piper.load()
    reply = pieces(REPLY, piper.max_text_bytes)
    assert len(reply) == 3
    timeline = TurnTimeline()
    recorder = virtual_sound_card.start_recording()
    await ReplySpeaker(piper, Speaker()).speak(pieces_of(reply), timeline)
    recorded = await heard_after(recorder)

    audio = soxr.resample(recorded.astype(np.float32), RECORD_RATE, TRANSCRIBE_RATE)
    pcm = np.clip(audio, -32768, 32767).astype("<i2").tobytes()
    transcriber = WhisperTranscriber(SttSettings())
    try:
        transcript = await transcriber.transcribe(Recording(pcm))
    finally:
        transcriber.close()

    print(f"\nheard: {transcript.text!r}")
    assert word_error_rate(REPLY, transcript.text) <= 0.1, transcript.text
    assert [s.index for s in timeline.sentences if s.first_sample is not None] == [0, 1, 2]
    assert sum(s.underruns for s in timeline.sentences) == 0


# -- barge-in over HTTP, through the app-wide client -----------------------------------------------


class Watched:
    """The real synthesizer, counting its syntheses still open (started and not yet closed)."""

    def __init__(self, inner: Synthesizer) -> None:
        self.inner = inner
        self.sample_rate = inner.sample_rate
        self.max_text_bytes = inner.max_text_bytes
        self.open = 0

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        self.open += 1
        try:
            async for chunk in self.inner.synthesize(text):
                yield chunk
        finally:
            self.open -= 1

    async def warm_up(self) -> None:
        await self.inner.warm_up()


async def test_a_barge_in_silences_the_voice_and_leaves_the_connection_usable(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: Any
) -> None:
    # Sentences of about 2.5 s, streamed twice as fast as they play: while the first plays,
    # the next two are still arriving when the user presses.
    speech = OpenAiSpeechServer(api_key=API_KEY, ttfb=0.05, realtime_factor=2.0)
    server = loopback(speech.handler)
    client, connections = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    try:
        voice = Watched(
            OpenAiSpeech(client, OpenAiTtsSettings(base_url=f"{server.url}/v1"), API_KEY)
        )
        await voice.warm_up()
        playing = asyncio.Event()
        speaker = ReplySpeaker(voice, Speaker(), lookahead=2)
        long_reply = pieces(
            "The first sentence of this reply is long enough to be cut off. "
            "The second sentence is already on its way from the server. "
            "The third sentence is on its way as well, and never heard. "
            "The fourth sentence waits for a free slot."
        )
        recorder = virtual_sound_card.start_recording()
        timeline = TurnTimeline()
        speaking = asyncio.create_task(
            speaker.speak(pieces_of(long_reply), timeline, lambda i: playing.set())
        )
        await asyncio.wait_for(playing.wait(), 10)
        await asyncio.sleep(0.6)  # mid-sentence
        in_flight = voice.open
        pressed = time.monotonic()
        speaking.cancel()
        await asyncio.gather(speaking, return_exceptions=True)
        cancelled_in = time.monotonic() - pressed
        recorded = await heard_after(recorder)

        loud = np.flatnonzero(np.abs(recorded) > SILENT)
        print(
            f"\nbarge-in: silent {(recorder.time_at(loud[-1]) - pressed) * 1000:.1f} ms after "
            f"the press; speak() returned after {cancelled_in * 1000:.1f} ms"
        )
        pressed_at = recorder.index_at(pressed)
        assert np.abs(recorded[pressed_at - RECORD_RATE // 10 : pressed_at]).max() > 1000
        assert np.abs(recorded[recorder.index_at(pressed + 0.05) :]).max() < SILENT
        assert in_flight >= 2  # the sentence playing and at least one ahead were streaming
        assert voice.open == 0  # every synthesis was cancelled with the reply
        assert timeline.heard() == long_reply[0].text.strip()
        assert cancelled_in < 0.5

        # The next reply, on the same client: it plays whole, over the same connection.
        opened = connections.opened
        next_reply = pieces("Sorry, go ahead. I am listening now.")
        recorder = virtual_sound_card.start_recording()
        timeline = TurnTimeline()
        await ReplySpeaker(voice, Speaker(), lookahead=2).speak(pieces_of(next_reply), timeline)
        recorded = await heard_after(recorder)

        sent = b"".join(speech.audio(p.spoken) for p in next_reply)
        expected = soxr.resample(
            np.frombuffer(sent, dtype="<i2").astype(np.float32), speech.sample_rate, RECORD_RATE
        )
        offset, likeness = align(expected, recorded)
        assert offset >= 0 and likeness > 0.9, (offset, likeness)
        assert [s.index for s in timeline.sentences if s.last_sample is not None] == [0, 1]
        assert connections.opened == opened  # the pool was not poisoned by the cancelled streams
        assert server.connections == 1
        assert {r.http_version for r in speech.requests} == {"2"}
    finally:
        await client.aclose()


# -- trimming on real speech ---------------------------------------------------------------------


async def raw_padding(piper: PiperTts, text: str) -> tuple[float, float]:
    """Seconds of quiet the voice puts before and after `text` on its own."""
    pcm = b"".join([chunk.pcm async for chunk in piper.synthesize(text)])
    loud = np.flatnonzero(np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32)) > QUIET)
    samples = len(pcm) // 2
    return loud[0] / piper.sample_rate, (samples - 1 - loud[-1]) / piper.sample_rate


async def test_the_pause_between_two_real_sentences_stays_natural(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    piper = PiperTts(PiperTtsSettings())
    await piper.load()
    first, second = "It is sunny outside.", "Take a hat with you."
    _, padding_after = await raw_padding(piper, first)
    padding_before, _ = await raw_padding(piper, second)

    timeline = TurnTimeline()
    recorder = virtual_sound_card.start_recording()
    await ReplySpeaker(piper, Speaker()).speak(pieces_of(pieces(f"{first} {second}")), timeline)
    recorded = await heard_after(recorder)

    sentences = timeline.sentences
    assert len(sentences) == 2 and sentences[0].first_sample and sentences[1].first_sample
    quiet = quiet_frames(recorded)
    onset = int(np.flatnonzero(~quiet)[0]) * RECORD_RATE // 1000
    # What was handed to the card at a given time sounds this much later (its buffer).
    latency = recorder.time_at(onset) - sentences[0].first_sample
    boundary = recorder.index_at(sentences[1].first_sample + latency) * 1000 // RECORD_RATE
    pause = pause_at(quiet, boundary)
    print(
        f"\npause between the sentences at the device: {pause * 1000:.0f} ms (the voice pads "
        f"{padding_after * 1000:.0f} ms after the first and {padding_before * 1000:.0f} ms "
        "before the second)"
    )
    assert 0.05 <= pause <= 0.3
    assert pause < padding_after + padding_before  # the voice's padding is not heard twice
    assert sum(s.underruns for s in sentences) == 0
    assert timeline.gaps()[0] < 0.02  # the queue never ran dry between them
