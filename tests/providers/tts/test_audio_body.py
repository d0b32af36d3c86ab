"""A speech body is told from its first bytes, however it is split: raw PCM plays as it comes, a
WAV is converted, compressed audio, error documents and empty bodies are refused with a reason;
nothing that is not audio at the rate asked for ever comes out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.files import read_audio
from assistant.core.errors import ServiceError
from assistant.providers.tts.audio_body import SpeechBody
from tests.support.encoded import mp3_bytes, wav_bytes
from tests.support.pulse import align

SPEECH = Path(__file__).parents[2] / "data" / "speech"
CLIP = SPEECH / "ds_2830-3980-0043.wav"
RATE = 24_000


def speech(rate: int = RATE) -> bytes:
    return read_audio(CLIP, rate)


def body() -> SpeechBody:
    return SpeechBody(RATE, "speech service", "127.0.0.1", secret="sk-secret-key-123")


def play(data: bytes, chunk: int) -> bytes:
    """The body fed in `chunk`-byte pieces, as the network splits it."""
    speech_body = body()
    out = b"".join(speech_body.feed(data[i : i + chunk]) for i in range(0, len(data), chunk))
    return out + speech_body.finish()


@pytest.mark.parametrize("chunk", [1, 3, 1001, 1 << 20])
def test_raw_pcm_passes_through_unchanged(chunk: int) -> None:
    pcm = speech()
    assert play(pcm, chunk) == pcm


def test_raw_pcm_starting_on_silence_that_looks_like_a_frame_sync_still_plays() -> None:
    # Samples -1, 16 are the bytes FF FF 10 00: an MPEG frame header, if it stood alone.
    pcm = np.array([-1, 16, 0, -3] * 2000, dtype=np.int16).tobytes() + speech()
    assert play(pcm, 512) == pcm


@pytest.mark.parametrize("chunk", [1, 7, 4096])
@pytest.mark.parametrize(("rate", "channels"), [(24_000, 1), (16_000, 1), (48_000, 2)])
def test_a_wav_body_is_converted_to_the_rate_asked(rate: int, channels: int, chunk: int) -> None:
    mono = speech(rate)
    samples = np.frombuffer(mono, dtype=np.int16)
    interleaved = np.repeat(samples, channels).tobytes()
    out = play(wav_bytes(interleaved, rate, channels), chunk)
    assert len(out) / 2 / RATE == pytest.approx(len(mono) / 2 / rate, abs=0.01)
    offset, likeness = align(np.frombuffer(speech(), dtype=np.int16), np.frombuffer(out, np.int16))
    assert abs(offset) <= 1
    assert likeness > 0.99
    if rate == RATE and channels == 1:
        assert out == mono  # the 44-byte header is not played as a click


@pytest.mark.parametrize(("header_rate", "reason"), [(1, "1 Hz"), (4_000_000, "4,000,000 Hz")])
def test_a_wav_body_with_an_absurd_rate_is_refused(header_rate: int, reason: str) -> None:
    data = bytearray(wav_bytes(bytes(2000), 16_000))
    data[24:28] = header_rate.to_bytes(4, "little")
    with pytest.raises(ServiceError, match=rf"127\.0\.0\.1 sent a WAV file.*{reason}"):
        play(bytes(data), 100)


def test_a_wav_body_of_8_bit_samples_is_refused() -> None:
    with pytest.raises(ServiceError, match="8-bit samples instead of the 16-bit PCM"):
        play(wav_bytes(bytes(2000), 16_000, width=1), 100)


@pytest.mark.parametrize("chunk", [1, 2, 333, 1 << 20])
@pytest.mark.parametrize("mp3_rate", [24_000, 22_050])
def test_an_mp3_body_is_decoded_to_the_rate_asked(chunk: int, mp3_rate: int) -> None:
    # Played as samples, this was full-scale noise; decoded, it is the sentence.
    mp3 = mp3_bytes(speech(mp3_rate), mp3_rate)
    assert mp3.startswith(b"ID3")
    out = play(mp3, chunk)
    original = np.frombuffer(speech(), dtype=np.int16)
    decoded = np.frombuffer(out, dtype=np.int16)
    _, likeness = align(original, decoded)
    assert likeness > 0.95
    assert len(decoded) / RATE == pytest.approx(len(original) / RATE, abs=0.15)
    assert np.abs(decoded).max() < 1.1 * np.abs(original).max()


def test_an_mp3_body_without_an_id3_tag_is_decoded_too() -> None:
    mp3 = mp3_bytes(speech(), RATE)
    start = min(mp3.find(sync) for sync in (b"\xff\xf3", b"\xff\xfb") if sync in mp3)
    out = play(mp3[start:], 333)
    _, likeness = align(np.frombuffer(speech(), np.int16), np.frombuffer(out, np.int16))
    assert likeness > 0.95


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"ID3\x04\x00\x00\x00\x00\x00\x10" + bytes(16) + b"\xff\xfb\x90\x64" * 3000, ""),
        (b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f", "ID3 tag claims more than 1024 KB"),
        (b"ID3\x04\x00\x00\x00\x00\x01\x00" + bytes(20), "ends inside its ID3 tag"),
    ],
    ids=["garbage-frames", "huge-tag", "cut-in-tag"],
)
def test_a_broken_mp3_body_is_refused(data: bytes, reason: str) -> None:
    speech_body = body()
    played = b""
    with pytest.raises(ServiceError) as caught:
        for i in range(0, len(data), 512):
            played += speech_body.feed(data[i : i + 512])
        played += speech_body.finish()
    message = str(caught.value)
    assert "127.0.0.1 sent MP3 audio that could not be decoded" in message
    assert reason in message
    assert "'pcm'" in message
    assert np.abs(np.frombuffer(played, np.int16), dtype=np.int32).max(initial=0) < 1000


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"OggS\x00\x02", "Ogg"),
        (b"fLaC\x00\x00\x00\x22", "FLAC"),
        (b"\xff\xf1\x50\x80", "AAC"),
    ],
)
def test_other_compressed_bodies_are_refused(head: bytes, name: str) -> None:
    speech_body = body()
    with pytest.raises(ServiceError) as caught:
        for byte in head + bytes(4000):
            assert speech_body.feed(bytes([byte])) == b""
    message = str(caught.value)
    assert f"sent compressed audio ({name}) instead of the raw PCM it was asked for" in message
    assert "response_format: pcm" in message


@pytest.mark.parametrize("chunk", [1, 50, 4096])
def test_a_json_error_sent_as_audio_is_refused_with_the_servers_message(chunk: int) -> None:
    error = {"error": {"message": "Invalid key sk-secret-key-123.", "type": "auth"}}
    with pytest.raises(ServiceError) as caught:
        play(json.dumps(error).encode(), chunk)
    message = str(caught.value)
    assert "127.0.0.1 sent an error instead of audio: Invalid key ***" in message
    assert "sk-secret" not in message


def test_an_html_page_sent_as_audio_is_refused() -> None:
    with pytest.raises(ServiceError, match="sent a text document instead of audio"):
        play(b"<!DOCTYPE html><html><body>Gateway login</body></html>", 10)


def test_an_endless_error_document_is_refused_at_its_limit() -> None:
    speech_body = body()
    speech_body.feed(b'{"error": "')
    with pytest.raises(ServiceError, match="instead of audio"):
        for _ in range(100):
            speech_body.feed(b"x" * 1024)


def test_an_empty_body_is_refused() -> None:
    with pytest.raises(ServiceError, match="sent no audio for this sentence"):
        body().finish()


def test_a_body_shorter_than_the_sniff_is_still_played() -> None:
    assert play(b"\x01\x00\x02\x00\x03", 1) == b"\x01\x00\x02\x00"
