"""The speaker on the virtual sound card: what is written is what the card plays, sentence after
sentence without gaps; events say when; abort() silences it at once; a lost device is reported.

Measured figures are printed (run with -s to see them)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.files import read_audio
from assistant.audio.speaker import Speaker
from assistant.core.errors import DeviceError
from assistant.core.protocols import PlaybackEvent, PlaybackEventKind
from tests.support.pulse import RECORD_RATE, Recorder, VirtualSoundCard, align, similarity

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]

SPEECH = Path(__file__).parents[1] / "data" / "speech"
FIRST = SPEECH / "ds_2830-3980-0043.wav"  # "Experience proves this", 2 s
SECOND = SPEECH / "fw_stereo_diarization_right.wav"  # "The horizon seems extremely distant.", 5 s
RATE = 22_050  # the local voice's rate
STARTED, FINISHED, UNDERRUN, DROPOUT = (
    PlaybackEventKind.STARTED,
    PlaybackEventKind.FINISHED,
    PlaybackEventKind.UNDERRUN,
    PlaybackEventKind.DROPOUT,
)
SILENT = 50  # int16 peak below which a stretch of recording counts as silence


def clip(path: Path, rate: int = RATE) -> bytes:
    return read_audio(path, rate)


def tone(seconds: float, rate: int = RATE, amplitude: int = 16_000) -> bytes:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.int16).tobytes()


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype=np.int16)


def kinds(events: list[PlaybackEvent]) -> list[tuple[PlaybackEventKind, int]]:
    return [(event.kind, event.tag) for event in events]


async def settle(recorder: Recorder) -> np.ndarray:
    await asyncio.sleep(0.15)  # the monitor delivers what the sink played ~10 ms later
    return recorder.stop()


async def test_a_reply_written_in_network_sized_pieces_plays_as_written(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    pcm = clip(FIRST)
    events: list[PlaybackEvent] = []
    recorder = virtual_sound_card.start_recording()
    stream = await Speaker().open(RATE, events.append)
    for start in range(0, len(pcm), 1001):  # odd sizes split samples, as HTTP chunks do
        await stream.write(pcm[start : start + 1001], 0)
    stream.end_tag(0)
    await stream.drain()
    await stream.close()
    recorded = await settle(recorder)

    start, likeness = similarity(samples(pcm), RATE, recorded, RECORD_RATE)
    assert likeness > 0.98, f"what the card played does not match the clip (r={likeness:.3f})"
    assert kinds(events) == [(STARTED, 0), (FINISHED, 0)]
    heard_at = recorder.time_at(start * RECORD_RATE)
    latency = heard_at - events[0].time
    print(f"\nSTARTED to first sample at the sink: {latency * 1000:.0f} ms")
    assert -0.02 < latency < 0.2
    assert events[1].time - events[0].time == pytest.approx(len(pcm) / 2 / RATE, abs=0.15)


async def test_two_sentences_play_back_to_back_and_report_in_order(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    first, second = clip(FIRST), clip(SECOND)
    events: list[PlaybackEvent] = []
    recorder = virtual_sound_card.start_recording()
    stream = await Speaker().open(RATE, events.append)
    await stream.write(first, 0)
    stream.end_tag(0)
    await stream.write(second, 1)
    stream.end_tag(1)
    await stream.drain()
    await stream.close()
    recorded = await settle(recorder)

    assert kinds(events) == [(STARTED, 0), (FINISHED, 0), (STARTED, 1), (FINISHED, 1)]
    times = [event.time for event in events]
    assert times == sorted(times)
    event_gap = times[2] - times[1]

    first_start, first_likeness = similarity(samples(first), RATE, recorded, RECORD_RATE)
    second_start, second_likeness = similarity(samples(second), RATE, recorded, RECORD_RATE)
    assert first_likeness > 0.98
    assert second_likeness > 0.98
    device_gap = second_start - (first_start + len(first) / 2 / RATE)
    print(
        f"\ngap between sentences: events {event_gap * 1000:.1f} ms, "
        f"at the device {device_gap * 1000:.1f} ms"
    )
    assert abs(device_gap) < 0.005  # the second sentence follows the first, sample for sample
    assert 0 <= event_gap < 0.03


async def test_a_device_at_another_rate_gets_the_reply_resampled(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    first, second = clip(FIRST), clip(SECOND)
    recorder = virtual_sound_card.start_recording()
    stream = await Speaker(device_rate=48_000).open(RATE, lambda event: None)
    assert stream.device_rate == 48_000
    await stream.write(first, 0)
    stream.end_tag(0)
    await stream.write(second, 1)
    stream.end_tag(1)
    await stream.drain()
    await stream.close()
    recorded = await settle(recorder)

    first_start, first_likeness = similarity(samples(first), RATE, recorded, RECORD_RATE)
    second_start, second_likeness = similarity(samples(second), RATE, recorded, RECORD_RATE)
    assert first_likeness > 0.98
    assert second_likeness > 0.98
    assert abs(second_start - first_start - len(first) / 2 / RATE) < 0.005


async def test_the_far_end_tap_gets_every_block_handed_to_the_device_silence_included(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    """The echo canceller's reference: exactly what the device was given, in order, with no holes
    (the silence written while the queue is dry too), at the device's rate and channels."""
    pcm = clip(FIRST)
    taps: list[tuple[bytes, int, int, float]] = []
    recorder = virtual_sound_card.start_recording()
    stream = await Speaker(device_rate=48_000, on_played=lambda *tap: taps.append(tap)).open(
        RATE, lambda event: None
    )
    opened = time.monotonic()
    await asyncio.sleep(0.3)  # nothing queued yet: silence goes out, and the tap hears it
    await stream.write(pcm, 0)
    stream.end_tag(0)
    await stream.drain()
    await stream.close()
    closed = time.monotonic()
    recorded = await settle(recorder)

    assert {(rate, channels) for _, rate, channels, _ in taps} == {(48_000, stream_channels(taps))}
    moments = [moment for *_, moment in taps]
    assert moments == sorted(moments)
    channels = stream_channels(taps)
    tapped = samples(b"".join(data for data, *_ in taps)).reshape(-1, channels)[:, 0]
    lead = np.flatnonzero(np.abs(tapped) > SILENT)[0] / 48_000
    assert lead > 0.25, "the silence written before the reply did not reach the tap"
    seconds = len(tapped) / 48_000
    print(f"\ntap: {len(taps)} writes, {seconds:.2f} s over a stream open {closed - opened:.2f} s")
    assert seconds == pytest.approx(closed - opened, abs=0.15)  # continuous, no holes
    start, likeness = similarity(tapped, 48_000, recorded, RECORD_RATE)
    assert likeness > 0.98, f"the tap does not match what the card played (r={likeness:.3f})"
    ahead = recorder.time_at(start * RECORD_RATE) - taps[0][3]  # the first write's sound
    print(f"the tap's write time precedes the sound at the sink by {ahead * 1000:.0f} ms")
    # within the monitor's 10 ms step: the sound follows its write by at most the device's buffer
    assert -0.02 < ahead < 0.2


def stream_channels(taps: list[tuple[bytes, int, int, float]]) -> int:
    return taps[0][2]


async def test_abort_silences_the_speaker_within_one_block(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    events: list[PlaybackEvent] = []
    recorder = virtual_sound_card.start_recording()
    stream = await Speaker().open(RATE, events.append)
    writing = asyncio.create_task(stream.write(tone(3.0), 0))
    await asyncio.sleep(0.5)
    pressed = time.monotonic()
    stream.abort()
    await asyncio.wait_for(writing, 1.0)  # the waiting writer is released, not failed
    await stream.write(tone(1.0), 1)  # late audio of a cancelled reply is dropped
    stream.end_tag(1)
    await stream.close()
    recorded = await settle(recorder)

    aborted_at = recorder.index_at(pressed)
    loud = np.flatnonzero(np.abs(recorded) > SILENT)
    assert np.abs(recorded[aborted_at - RECORD_RATE // 10 : aborted_at]).max() > 10_000
    silence_at = recorder.time_at(loud[-1]) - pressed
    print(f"\nabort() to silence at the sink: {silence_at * 1000:.1f} ms")
    after = recorded[recorder.index_at(pressed + 0.05) :]
    assert len(after) > RECORD_RATE // 20
    assert np.abs(after).max() < SILENT
    assert kinds(events) == [(STARTED, 0)]  # tag 0 never finished; tag 1 never started


async def test_pause_holds_the_reply_silent_and_resume_plays_all_of_it(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    # Held longer than the stall backstop (STALL_SECONDS + 1): paused is not stuck.
    events: list[PlaybackEvent] = []
    pcm = clip(FIRST)
    recorder = virtual_sound_card.start_recording()
    stream = await Speaker().open(RATE, events.append)
    writing = asyncio.create_task(stream.write(pcm, 0))
    await asyncio.sleep(0.5)
    paused = time.monotonic()
    stream.pause()
    await asyncio.sleep(3.5)
    resumed = time.monotonic()
    stream.resume()
    await asyncio.wait_for(writing, 3.0)
    stream.end_tag(0)
    await stream.drain()
    await stream.close()
    recorded = await settle(recorder)

    held = recorded[recorder.index_at(paused + 0.15) : recorder.index_at(resumed)]
    assert len(held) > 3 * RECORD_RATE and np.abs(held).max() < SILENT
    loud = np.flatnonzero(np.abs(recorded) > SILENT)
    silent_after = recorder.time_at(loud[loud < recorder.index_at(resumed)][-1]) - paused
    print(f"\npause() to silence at the sink: {silent_after * 1000:.0f} ms")
    # Nothing lost: the clip's two halves, either side of the pause, are all of it.
    before = recorded[: recorder.index_at(paused + 0.15)]
    after = recorded[recorder.index_at(resumed) :]
    played = np.count_nonzero(np.abs(before) > SILENT) + np.count_nonzero(np.abs(after) > SILENT)
    clip_samples = samples(pcm)
    expected = np.count_nonzero(np.abs(clip_samples) > SILENT) * RECORD_RATE / RATE
    assert played == pytest.approx(expected, rel=0.05)
    assert kinds(events) == [(STARTED, 0), (FINISHED, 0)]  # held: no underrun


async def test_abort_with_a_fade_ends_without_a_click(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    recorder = virtual_sound_card.start_recording()
    stream = await Speaker(fade_on_abort=True).open(RATE, lambda event: None)
    writing = asyncio.create_task(stream.write(tone(3.0), 0))
    await asyncio.sleep(0.5)
    pressed = time.monotonic()
    stream.abort()
    await writing
    await stream.close()
    recorded = await settle(recorder)

    loud = np.flatnonzero(np.abs(recorded) > SILENT)
    silence_at = recorder.time_at(loud[-1]) - pressed
    print(f"\nabort() with fade to silence at the sink: {silence_at * 1000:.1f} ms")
    assert silence_at < 0.2
    last_two_ms = recorded[loud[-1] - RECORD_RATE // 500 : loud[-1] + 1]
    assert np.abs(last_two_ms).max() < 0.6 * 16_000  # ramping down, not cut at full swing


async def test_writing_waits_while_half_a_second_is_queued_without_blocking_the_loop(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    lags: list[float] = []

    async def tick() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            lags.append(time.monotonic() - before - 0.005)

    ticker = asyncio.create_task(tick())
    try:
        stream = await Speaker().open(RATE, lambda event: None)
        began = time.monotonic()
        await stream.write(tone(2.0), 0)
        waited = time.monotonic() - began
        stream.end_tag(0)
        await stream.drain()
        await stream.close()
    finally:
        ticker.cancel()
        await asyncio.wait([ticker])
    assert waited > 2.0 - 0.5 - 0.2  # it returned once no more than ~0.5 s was left queued
    # Blocking writes on the loop would stall it for ~1.5 s; the margin is for a busy machine.
    assert max(lags) < 0.25, f"the event loop stalled for {max(lags) * 1000:.0f} ms"


async def test_a_sentence_that_runs_dry_reports_an_underrun(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    events: list[PlaybackEvent] = []
    stream = await Speaker().open(RATE, events.append)
    await stream.write(tone(0.2), 0)
    await asyncio.sleep(0.5)  # the synthesizer is late with the rest of the sentence
    await stream.write(tone(0.2), 0)
    stream.end_tag(0)
    await stream.drain()
    await stream.close()
    assert kinds(events) == [(STARTED, 0), (UNDERRUN, 0), (FINISHED, 0)]


async def test_a_writer_that_comes_back_too_late_reports_a_dropout(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    # The sentence is all queued, but the writer thread is held up (a busy machine) for longer
    # than the device's buffer lasts: the listener hears a drop-out, so it must be reported.
    events: list[PlaybackEvent] = []
    stream = await Speaker().open(RATE, events.append)
    writing = asyncio.create_task(stream.write(tone(1.5), 0))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(hold_the_writer, stream, 0.3)
    await writing
    stream.end_tag(0)
    await stream.drain()
    await stream.close()
    assert kinds(events) == [(STARTED, 0), (DROPOUT, 0), (FINISHED, 0)]


def hold_the_writer(stream: object, seconds: float) -> None:
    lock = stream._lock  # type: ignore[attr-defined]  # the writer takes it for every block
    with lock:
        time.sleep(seconds)


async def test_a_burst_of_full_scale_noise_is_held_to_the_level_of_speech(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    # An MP3 or a JSON error played as samples is full-scale noise (RMS 0.58 of full scale, three
    # times a loud voice): the speaker holds it down from its first block, and the speech after
    # it plays as written.
    rng = np.random.default_rng(3)
    burst = rng.integers(-32768, 32767, RATE, dtype=np.int16).tobytes()
    speech = clip(FIRST)
    stream = await Speaker().open(RATE, lambda event: None)
    await asyncio.sleep(0.3)  # what earlier tests played has left the sink
    recorder = virtual_sound_card.start_recording()
    await stream.write(burst, 0)
    stream.end_tag(0)
    await stream.write(bytes(RATE) + speech, 1)  # 0.5 s of silence, then speech
    stream.end_tag(1)
    await stream.drain()
    await stream.close()
    recorded = (await settle(recorder)).astype(np.float64) / 32768
    window = RECORD_RATE // 10
    energy = np.convolve(recorded * recorded, np.ones(window) / window, mode="valid")
    level = float(np.sqrt(energy.max()))
    print(f"\nfull-scale noise played at an RMS of at most {level:.3f} of full scale (100 ms)")
    assert 0.2 < level < 0.37  # played, and held down
    _, likeness = similarity(
        samples(speech), RATE, (recorded * 32768).astype(np.int16), RECORD_RATE
    )
    assert likeness > 0.9  # the speech after it is there (bit for bit: tests/core/test_level_guard)


async def test_a_speaker_unplugged_while_playing_is_reported(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    stream = await Speaker().open(RATE, lambda event: None)
    writing = asyncio.create_task(stream.write(tone(3.0), 0))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(virtual_sound_card.unload_sink)
    try:
        with pytest.raises(DeviceError, match=r"speaker .*stopped"):
            await asyncio.wait_for(writing, 5.0)
            await asyncio.wait_for(stream.drain(), 5.0)
        await stream.close()
    finally:
        await asyncio.to_thread(virtual_sound_card.reload_sink)

    recorder = virtual_sound_card.start_recording()  # the next reply plays again
    stream = await Speaker().open(RATE, lambda event: None)
    await stream.write(clip(FIRST), 0)
    stream.end_tag(0)
    await stream.drain()
    await stream.close()
    _, likeness = align(
        np.frombuffer(read_audio(FIRST, RECORD_RATE), dtype=np.int16), await settle(recorder)
    )
