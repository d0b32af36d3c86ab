"""Audio files: every test clip decodes to the right length of 16 kHz mono, matching what sox
makes of it; MP3 and unusual WAVs too; a bad file gets a clear message; a file can stand in for
the microphone."""

from __future__ import annotations

import asyncio
import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from assistant.audio.files import FileInput, read_audio
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
    assert len(CLIPS) == 6


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
