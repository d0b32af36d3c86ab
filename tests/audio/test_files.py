"""Audio files: every test clip decodes to the right length of 16 kHz mono, matching what sox
makes of it; MP3 and unusual WAVs too; a bad file gets a clear message; a file can stand in for
the microphone."""

from __future__ import annotations

import asyncio
import struct
import subprocess
import tracemalloc
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from assistant.audio.files import MAX_FILE_SECONDS, FileInput, read_audio
from assistant.core.errors import AssistantError, DeviceError
from tests.support.pulse import align, similarity

SPEECH = Path(__file__).parents[1] / "data" / "speech"
CLIPS = sorted(path for path in SPEECH.iterdir() if path.suffix in {".wav", ".flac"})
JFK = SPEECH / "fw_jfk.flac"
SHORT = SPEECH / "ds_2830-3980-0043.wav"


def sox(source: Path, target: Path, *options: str) -> Path:
    subprocess.run(["sox", str(source), *options, str(target)], check=True, timeout=30)
    return target


def duration(path: Path) -> float:
    info = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True)
    return float(info.stdout)


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype=np.int16)


def test_every_clip_is_found() -> None:
    assert len(CLIPS) == 8  # six English, one Mandarin, one Japanese (tests/data/speech)


@pytest.mark.parametrize("path", CLIPS, ids=[path.name for path in CLIPS])
@pytest.mark.parametrize("rate", [16_000, 22_050])
def test_every_clip_decodes_to_its_whole_length_at_the_rate_asked(path: Path, rate: int) -> None:
    pcm = read_audio(path, rate)
    assert len(pcm) % 2 == 0
    assert len(pcm) / 2 / rate == pytest.approx(duration(path), abs=0.01)
    assert np.abs(samples(pcm)).max() > 1000  # speech, not silence or noise of a misread


@pytest.mark.parametrize("path", CLIPS, ids=[path.name for path in CLIPS])
def test_every_clip_matches_what_sox_makes_of_it(path: Path, tmp_path: Path) -> None:
    with wave.open(str(sox(path, tmp_path / "ref.wav", "-r", "16000", "-c", "1", "-b", "16"))) as f:
        reference = samples(f.readframes(f.getnframes()))
    offset, likeness = align(reference, samples(read_audio(path)))
    assert abs(offset) <= 1
    assert likeness > 0.99


def test_an_mp3_decodes_like_the_wav_it_was_made_from(tmp_path: Path) -> None:
    mp3 = tmp_path / "short.mp3"
    original = samples(read_audio(SHORT, 16_000))
    with av.open(str(mp3), "w") as container:
        stream = container.add_stream("libmp3lame", rate=16_000, layout="mono")
        stream.bit_rate = 128_000
        frame = av.AudioFrame.from_ndarray(original[None, :], format="s16", layout="mono")
        frame.sample_rate = 16_000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)

    decoded = samples(read_audio(mp3))
    start, likeness = similarity(original, 16_000, decoded, 16_000)
    assert likeness > 0.95
    assert len(decoded) / 16_000 == pytest.approx(len(original) / 16_000, abs=0.1)


@pytest.mark.parametrize(
    "options", [("-e", "floating-point", "-b", "32"), ("-e", "unsigned-integer", "-b", "8")]
)
def test_wavs_of_other_sample_formats_decode_too(options: tuple[str, ...], tmp_path: Path) -> None:
    other = sox(SHORT, tmp_path / "other.wav", *options)
    _, likeness = align(samples(read_audio(SHORT)), samples(read_audio(other)))
    assert likeness > 0.99


def test_a_missing_file_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(AssistantError, match=r"nothing-here\.wav.*does not exist"):
        read_audio(tmp_path / "nothing-here.wav")


@pytest.mark.parametrize("name", ["notes.wav", "notes.flac", "notes.mp3", "notes.txt"])
def test_a_file_that_is_not_audio_gets_a_clear_message(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text("These are not the sounds you are looking for.\n" * 20)
    with pytest.raises(AssistantError) as caught:
        read_audio(path)
    assert name in str(caught.value)
    assert "WAV, FLAC or MP3" in str(caught.value)


async def test_a_file_stands_in_for_the_microphone() -> None:
    levels: list[float] = []
    microphone = FileInput(SHORT)
    await microphone.start(levels.append)
    await asyncio.sleep(0.5)
    recording = await microphone.stop()
    assert recording.sample_rate == 16_000
    assert recording.pcm == read_audio(SHORT)
    assert 5 <= len(levels) <= 15  # about 20 a second, in real time, until stop()
    assert max(levels) > 0.01


async def test_a_stereo_flac_stands_in_for_the_microphone_right_away() -> None:
    microphone = FileInput(JFK)
    await microphone.start()
    recording = await microphone.stop()
    assert recording.duration == pytest.approx(11.0, abs=0.01)


async def test_a_missing_file_as_the_microphone_is_a_device_error(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="does not exist"):
        await FileInput(tmp_path / "gone.wav").start()


# -- malformed and hostile files: a bounded read and a real reason -----------------------------


def wav_header(
    rate: int = 16_000,
    channels: int = 1,
    bits: int = 16,
    data_bytes: int = 0,
    encoding: int = 1,
) -> bytes:
    """The 44-byte header of a plain RIFF/WAVE file, saying whatever a test wants it to say."""
    block = (channels * bits // 8) % 2**16
    fmt = struct.pack("<HHIIHH", encoding, channels, rate, (rate * block) % 2**32, block, bits)
    riff_size = (4 + 8 + len(fmt) + 8 + data_bytes) % 2**32
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("rate", [1, 100, 4_000, 1_000_000, 4_000_000_000])
def test_a_wav_claiming_an_absurd_sample_rate_is_refused_before_decoding(
    rate: int, tmp_path: Path
) -> None:
    # 200 KB claiming 1 Hz was resampled to 1.6 billion samples (3.3 GB, MemoryError).
    body = bytes(200_000)
    path = write(tmp_path / "odd.wav", wav_header(rate=rate, data_bytes=len(body)) + body)
    with pytest.raises(AssistantError) as caught:
        read_audio(path)
    message = str(caught.value)
    assert "odd.wav" in message
    assert f"{rate:,} Hz" in message
    assert "8,000 to 192,000 Hz" in message


@pytest.mark.parametrize("channels", [0, 9, 65_535])
def test_a_wav_claiming_an_absurd_number_of_channels_is_refused(
    channels: int, tmp_path: Path
) -> None:
    path = write(tmp_path / "odd.wav", wav_header(channels=channels, data_bytes=64) + bytes(64))
    with pytest.raises(AssistantError, match=rf"{channels} channels.*1 to 8"):
        read_audio(path)


def test_a_wav_longer_than_the_longest_recording_is_refused_from_its_header(
    tmp_path: Path,
) -> None:
    # The header alone says 2 hours; only 1 s is really there: nothing is decoded.
    declared = 2 * 3600 * 16_000 * 2
    path = write(tmp_path / "long.wav", wav_header(data_bytes=declared) + bytes(32_000))
    with pytest.raises(AssistantError) as caught:
        read_audio(path, max_seconds=60)
    message = str(caught.value)
    assert "long.wav" in message
    assert "2 hours" in message or "7,200 s" in message
    assert "60 s" in message
    assert "max_recording_seconds" in message


def test_a_wav_whose_header_hides_its_length_is_stopped_at_the_longest_recording(
    tmp_path: Path,
) -> None:
    # A streamed WAV says 0xFFFFFFFF for its length; 3 s are there, 2 s allowed.
    header = wav_header(data_bytes=0xFFFFFFFF)
    path = write(tmp_path / "streamed.wav", header + bytes(3 * 16_000 * 2))
    with pytest.raises(AssistantError, match=r"streamed\.wav.*longer than.*2 s"):
        read_audio(path, max_seconds=2)


def test_a_wav_within_the_longest_recording_is_read_whole(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.wav", wav_header(data_bytes=32_000) + bytes(32_000))
    assert len(read_audio(path, max_seconds=2)) == 32_000
    streamed = write(tmp_path / "s.wav", wav_header(data_bytes=0xFFFFFFFF) + bytes(32_000))
    assert len(read_audio(streamed, max_seconds=2)) == 32_000


def test_an_mp3_longer_than_the_longest_recording_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AssistantError, match=r"fw_jfk\.flac.*longer than.*5 s"):
        read_audio(JFK, max_seconds=5)
    assert len(read_audio(JFK, max_seconds=12)) == pytest.approx(11 * 16_000 * 2, abs=400)


def test_the_longest_recording_defaults_to_the_settings_default() -> None:
    from assistant.config import AudioSettings

    assert AudioSettings().max_recording_seconds == MAX_FILE_SECONDS


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"RIFF\x10\x00", "ends in the middle of its header"),
        (
            b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00",
            "ends in the middle of its header",
        ),
        (wav_header(data_bytes=0), "has no audio data"),
        (wav_header(data_bytes=64)[:36], "ends in the middle of its header"),
        (b"RIFF\x10\x00\x00\x00WAVELIST\x04\x00\x00\x00abcd", "has no audio data"),
        (wav_header(data_bytes=64, bits=12) + bytes(64), "12-bit"),
        (wav_header(data_bytes=64, encoding=0x55) + bytes(64), "compressed"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", "not a WAVE file"),
    ],
    ids=[
        "empty",
        "riff-only",
        "cut-in-fmt",
        "no-data",
        "cut-before-data",
        "no-data-chunk",
        "12-bit",
        "mp3-in-wav",
        "avi",
    ],
)
def test_a_malformed_wav_gets_a_real_reason(data: bytes, reason: str, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.wav", data)
    with pytest.raises(AssistantError) as caught:
        read_audio(path)
    message = str(caught.value)
    assert "bad.wav" in message
    assert reason in message
    assert "()" not in message


def test_a_wav_cut_short_in_its_data_plays_what_is_there(tmp_path: Path) -> None:
    # The header promises 1 s; 0.5 s and an odd byte arrived (a download cut off): keep them.
    path = write(tmp_path / "cut.wav", wav_header(data_bytes=32_000) + bytes(16_001))
    assert len(read_audio(path)) == 16_000


def test_a_wav_file_reads_in_bounded_memory(tmp_path: Path) -> None:
    # 60 s of 48 kHz stereo (11.5 MB) read to 16 kHz (1.9 MB): the file is never held whole, only
    # the result (twice, as it is handed over) and a block or two.
    seconds, rate = 60, 48_000
    path = tmp_path / "big.wav"
    with wave.open(str(path), "wb") as file:
        file.setnchannels(2)
        file.setsampwidth(2)
        file.setframerate(rate)
        block = (np.sin(np.arange(rate) / rate * 2 * np.pi * 440) * 8000).astype(np.int16)
        stereo = np.repeat(block, 2).tobytes()
        for _ in range(seconds):
            file.writeframes(stereo)
    tracemalloc.start()
    try:
        pcm = read_audio(path, max_seconds=seconds)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(pcm) == pytest.approx(seconds * 16_000 * 2, abs=64)
    assert peak < 2 * len(pcm) + 2 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


async def test_a_file_longer_than_the_longest_recording_as_the_microphone_is_refused() -> None:
    with pytest.raises(DeviceError, match=r"fw_jfk\.flac.*longer than the longest recording"):
        await FileInput(JFK, max_seconds=5).start()
