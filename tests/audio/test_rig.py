"""The virtual sound card itself: what is played into it comes back, through PortAudio too, and
it leaves nothing running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.files import read_audio
from assistant.audio.microphone import Microphone
from tests.support.pulse import RECORD_RATE, RigError, VirtualSoundCard, similarity

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]

SPEECH = Path(__file__).parents[1] / "data" / "speech"
CLIP = SPEECH / "ds_2830-3980-0043.wav"  # "Experience proves this", 16 kHz mono, 1.98 s


def clip_samples(path: Path, rate: int = 16_000) -> np.ndarray:
    return np.frombuffer(read_audio(path, rate), dtype=np.int16)


def test_a_clip_played_into_the_sink_comes_back_from_its_monitor(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    reference = clip_samples(CLIP)
    recorder = virtual_sound_card.start_recording()
    virtual_sound_card.play_file(CLIP).wait(10)
    recorder.wait(len(reference) / 16_000 + 0.2)
    recorded = recorder.stop()

    start, likeness = similarity(reference, 16_000, recorded, RECORD_RATE)
    assert likeness > 0.98
    assert 0 <= start < 0.5  # paplay starts within half a second, and nothing is cut off


async def test_the_microphone_records_a_clip_played_into_the_virtual_microphone(
    virtual_sound_card: VirtualSoundCard,
) -> None:
    reference = clip_samples(CLIP)
    microphone = Microphone()
    await microphone.start()
    await virtual_sound_card.play_file(CLIP).finished(10)
    await asyncio.sleep(0.2)
    recording = await microphone.stop()

    heard = np.frombuffer(recording.pcm, dtype=np.int16)
    start, likeness = similarity(reference, 16_000, heard, recording.sample_rate)
    assert recording.sample_rate == 16_000
    assert likeness > 0.95, f"the recording does not match the clip (r={likeness:.3f})"
    assert 0 <= start < 0.5
    assert recording.duration > len(reference) / 16_000
    assert recording.overflows == 0


def test_the_rig_stops_everything_it_started(tmp_path: Path) -> None:
    card = VirtualSoundCard(tmp_path / "card")
    try:
        card.start()
        assert (tmp_path / "card" / "cookie").exists()  # in the card's folder, not in $HOME
        running = card.running_processes()
        assert any("pulseaudio" in line for line in running)
        assert any("parec" in line for line in running)
        card.play_file(CLIP)  # still playing when the card stops
    finally:
        leftovers = card.stop()
    assert leftovers == []
    assert card.running_processes() == []


def test_the_rig_says_what_to_install_when_pulseaudio_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulseaudio, no pactl
    card = VirtualSoundCard(tmp_path / "card")
    with pytest.raises(RigError, match=r"pulseaudio.*make test"):
        card.start()
    assert card.stop() == []
