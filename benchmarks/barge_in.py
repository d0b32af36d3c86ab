"""Barge-in after barge-in on one HTTP/2 connection: does the voice keep answering?

Each barge-in cuts off a reply the way the app does: the sentence playing and the two being made
ahead (look-ahead 2) are cancelled after their first audio. The rest of their audio is still on
its way. The app's client resets those streams; stock httpx (httpcore 1.0) forgets them without
telling the server, and the audio nobody reads uses up the connection's flow-control window.
After every few barge-ins one sentence is asked for and timed to its first audio. Real OpenAI
speech client and a loopback HTTPS fake of the service; no sound card is involved.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from assistant.config import NetworkSettings, OpenAiTtsSettings
from assistant.core.errors import AssistantError
from assistant.providers.http import make_http_client, ssl_context
from assistant.providers.tts.openai_speech import OpenAiSpeech
from tests.support.environment import environment
from tests.support.loopback import LoopbackServer, TlsFiles
from tests.support.tts_servers import OpenAiSpeechServer

TITLE = "Barge-in after barge-in: the shared HTTP/2 connection keeps answering"

BARGE_INS = 60
PROBE_EVERY = 5
CUT_OFF_AT_ONCE = 3  # the sentence playing and the look-ahead of 2
SENTENCE_SECONDS = 4.0  # of 24 kHz audio: 192 kB, a long spoken sentence
READ_TIMEOUT = 3.0  # seconds; a stalled request fails after this
RATE = 24_000


def sentence_audio(text: str) -> bytes:
    t = np.arange(int(SENTENCE_SECONDS * RATE)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 3000).astype("<i2").tobytes()


@dataclass
class Variant:
    name: str
    make_client: Callable[[], httpx.AsyncClient]
    probes_ms: list[float] = field(default_factory=list)
    stalled_after: int | None = None  # barge-ins before the first probe that failed
    failure: str = ""


def app_client() -> httpx.AsyncClient:
    client, _ = make_http_client(NetworkSettings(read_timeout=READ_TIMEOUT))
    return client


def stock_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        http2=True,
        verify=ssl_context(None),
        timeout=httpx.Timeout(READ_TIMEOUT),
        follow_redirects=False,
    )


async def cut_off(voice: OpenAiSpeech, number: int) -> None:
    """One barge-in: CUT_OFF_AT_ONCE sentences each read to their first audio, then cancelled."""

    async def first_audio_then_stop(text: str) -> None:
        sentences = voice.synthesize(text)
        try:
            await anext(sentences)
        finally:
            await sentences.aclose()

    await asyncio.gather(
        *(
            first_audio_then_stop(f"Barge-in {number}, sentence {i}.")
            for i in range(CUT_OFF_AT_ONCE)
        )
    )


async def probe(voice: OpenAiSpeech) -> float:
    """Seconds from asking for one sentence to its first audio (read to the end)."""
    started = time.perf_counter()
    first: float | None = None
    async for _chunk in voice.synthesize("Are you still there?"):
        if first is None:
            first = time.perf_counter() - started
    assert first is not None
    return first


async def run_variant(variant: Variant, url: str) -> None:
    client = variant.make_client()
    voice = OpenAiSpeech(client, OpenAiTtsSettings(base_url=f"{url}/v1"), "sk-test-key")
    try:
        for number in range(1, BARGE_INS + 1):
            try:
                await cut_off(voice, number)
                if number % PROBE_EVERY == 0:
                    variant.probes_ms.append(await probe(voice) * 1000)
            except AssistantError as error:  # a request waited out its read timeout
                variant.stalled_after = number
                variant.failure = error.message
                return
    finally:
        await client.aclose()


async def measure() -> list[Variant]:
    variants = [
        Variant("stock httpx HTTP/2 client", stock_client),
        Variant("the app's client (cut-off streams reset)", app_client),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-barge-in-") as folder:
        tls = TlsFiles.create(Path(folder))
        with environment({"SSL_CERT_FILE": str(tls.ca_file)}):
            for variant in variants:
                speech = OpenAiSpeechServer(audio_for=sentence_audio)
                with LoopbackServer(speech.handler, tls, http2=True) as server:
                    await run_variant(variant, server.url)
    return variants


def report(variants: list[Variant]) -> str:
    cut = CUT_OFF_AT_ONCE * SENTENCE_SECONDS * RATE * 2 / 1e6
    lines = [
        f"{BARGE_INS} barge-ins in a row on one HTTP/2 connection, each cutting off "
        f"{CUT_OFF_AT_ONCE} sentences of {SENTENCE_SECONDS:.0f} s audio (~{cut:.1f} MB unread); "
        f"every {PROBE_EVERY}th is followed by one sentence timed to its first audio "
        f"(read timeout {READ_TIMEOUT:.0f} s).",
        "",
        "| client | probes answered | first audio, median (first / last probe) | voice stalled |",
        "|---|---|---|---|",
    ]
    for v in variants:
        answered = f"{len(v.probes_ms)} of {BARGE_INS // PROBE_EVERY}"
        if v.probes_ms:
            timing = (
                f"{statistics.median(v.probes_ms):.1f} ms "
                f"({v.probes_ms[0]:.1f} / {v.probes_ms[-1]:.1f} ms)"
            )
        else:
            timing = "-"
        stalled = f'at barge-in {v.stalled_after}: "{v.failure}"' if v.stalled_after else "never"
        lines.append(f"| {v.name} | {answered} | {timing} | {stalled} |")
    lines += [
        "",
        "httpcore 1.0 drops an HTTP/2 stream closed early without a RST_STREAM "
        "(encode/httpcore#943); the server keeps sending and nobody acknowledges it, so the "
        "connection's 16 MiB window runs out and every later request on it waits for its read "
        "timeout. `assistant/providers/http.py` resets such streams "
        "(`tests/providers/test_http.py` proves the same at the HTTP level).",
    ]
    return "\n".join(lines)


def run() -> str:
    return report(asyncio.run(measure()))
